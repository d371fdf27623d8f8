"""Where the shared real data sets live: ``$DEEPSTEP_DATA``, else ``../shared/data`` beside
the project checkout (or beside the current directory).
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path | None:
    """The shared data folder, or None when it cannot be found."""
    env = os.environ.get("DEEPSTEP_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    candidates = [p / ".." / "shared" / "data" for p in here.parents[:4]]
    candidates.append(Path.cwd() / ".." / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return None
