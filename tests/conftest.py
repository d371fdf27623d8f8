"""Shared fixtures: a seeded Generator, the shared data folder and the course's cat data."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import settings

from deepstep.paths import data_dir

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def _shared(sub: str) -> Path:
    root = data_dir()
    if root is None or not (root / sub).is_dir():
        pytest.skip(
            f"shared data folder {sub!r} not found: set DEEPSTEP_DATA or put shared/data beside "
            "the checkout"
        )
    return root / sub


@pytest.fixture(scope="session")
def cat_dir() -> Path:
    return _shared("catvnoncat")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return _shared("mnist")


@pytest.fixture(scope="session")
def cat_data(cat_dir):
    """The application notebook's arrays: X (12288, m) / 255 float64, Y (1, m) int."""
    with h5py.File(cat_dir / "train_catvnoncat.h5", "r") as f:
        X = f["train_set_x"][:].reshape(209, -1).T / 255.0
        Y = f["train_set_y"][:].reshape(1, -1)
    with h5py.File(cat_dir / "test_catvnoncat.h5", "r") as f:
        Xt = f["test_set_x"][:].reshape(50, -1).T / 255.0
        Yt = f["test_set_y"][:].reshape(1, -1)
    return X, Y, Xt, Yt
