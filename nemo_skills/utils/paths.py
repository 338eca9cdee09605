"""Files named by paths or glob patterns, as the commands that read many outputs take them."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from nemo_skills.errors import InputError


def expand_patterns(patterns: Sequence[str]) -> list[Path]:
    """Each pattern's matches sorted (a plain path as is), in the patterns' order, without repeats. A glob pattern
    that matches nothing is an error."""
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise InputError(f"No file matches {pattern!r}.")
        files.extend(Path(match) for match in matches)
    return list(dict.fromkeys(files))
