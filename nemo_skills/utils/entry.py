"""The shared `main()` of `python -m` entry points configured by `++key=value` overrides."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_with_overrides(doc: str | None, config_cls: type[T], run: Callable[[T], Any], argv: list[str] | None) -> int:
    """`--help` prints `doc` and every key; a NemoSkillsError prints one line and exits 2."""
    from nemo_skills.errors import NemoSkillsError
    from nemo_skills.utils.overrides import build_config, describe_config

    args = sys.argv[1:] if argv is None else argv
    if any(arg in ("-h", "--help") for arg in args):
        print(doc or "")
        print(describe_config(config_cls))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(build_config(config_cls, args))
    except NemoSkillsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
