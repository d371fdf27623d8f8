"""Name lookup shared by every registry (activations, losses, optimisers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resolve_name(kind: str, identifier: Any, table: Mapping[str, Any],
                 aliases: Mapping[str, str]) -> str:
    """The registry key for ``identifier`` (case and spaces ignored, aliases followed), or a
    ValueError naming the ``kind`` and every accepted name.

    Examples
    --------
    >>> resolve_name("loss", " BCE", {"binary_cross_entropy": 1}, {"bce": "binary_cross_entropy"})
    'binary_cross_entropy'
    """
    if isinstance(identifier, str):
        key = identifier.strip().lower()
        key = aliases.get(key, key)
        if key in table:
            return key
    names = ", ".join([*table, *aliases])
    raise ValueError(f"unknown {kind} {identifier!r}; choose one of: {names}")
