"""Grade one IFEval/IFBench row: does the response follow each of its instructions, strictly and loosely?

Strict checks the response as it is. Loose counts an instruction as followed when any of eight variants of the
response follows it (the reference's set): the response, it without its first line, without its last line,
without both (each of those three stripped), and each of these four with every ``*`` deleted. A response that is
empty or only whitespace follows nothing, in both modes, whatever the instruction; so does a missing generation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.instruction_following.registry import Benchmark, Checker, bind


def loose_variants(response: str) -> list[str]:
    """The eight versions of `response` the loose score tries, in the reference's order."""
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    return [
        response,
        response.replace("*", ""),
        without_first,
        without_last,
        without_both,
        without_first.replace("*", ""),
        without_last.replace("*", ""),
        without_both.replace("*", ""),
    ]


def _follows(checker: Checker, candidates: list[str]) -> bool:
    return any(candidate.strip() and checker(candidate) for candidate in candidates)


def _verdict(followed: list[bool]) -> dict[str, Any]:
    return {"follow_all_instructions": all(followed), "follow_instruction_list": followed}


def bind_row(row: Mapping[str, Any], benchmark: Benchmark) -> list[Checker]:
    """One bound checker per instruction of `row`; raises if an id is unknown or its kwargs are invalid."""
    ids = row.get("instruction_id_list")
    kwargs_list = row.get("kwargs")
    if not isinstance(ids, list) or not isinstance(kwargs_list, list):
        raise InputError("An instruction-following row needs the lists 'instruction_id_list' and 'kwargs'.")
    if len(ids) != len(kwargs_list):
        raise InputError(
            f"Row has {len(ids)} instruction ids but {len(kwargs_list)} kwargs entries; they must pair up."
        )
    for kwargs in kwargs_list:
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise InputError(f"Every 'kwargs' entry must be an object (or null), got {kwargs!r}.")
    return [bind(benchmark, instruction_id, kwargs) for instruction_id, kwargs in zip(ids, kwargs_list, strict=True)]


def grade_row(row: Mapping[str, Any], *, generation_key: str = "generation", benchmark: Benchmark) -> dict[str, Any]:
    """The fields to add to `row`: ``strict_eval`` and ``loose_eval``, each ``{"follow_all_instructions": bool,
    "follow_instruction_list": [bool, ...]}`` with one entry per instruction of the row."""
    checkers = bind_row(row, benchmark)
    response = row.get(generation_key)
    if response is None:
        response = ""
    if not isinstance(response, str):
        raise InputError(f"Field {generation_key!r} must be a string, got {type(response).__name__}.")
    variants = loose_variants(response)
    strict = [_follows(checker, [response]) for checker in checkers]
    loose = [_follows(checker, variants) for checker in checkers]
    return {"strict_eval": _verdict(strict), "loose_eval": _verdict(loose)}
