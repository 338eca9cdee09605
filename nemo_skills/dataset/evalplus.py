"""EvalPlus releases (HumanEval+, MBPP+) as code-grader test data.

The releases are gzipped JSONL files on GitHub (`evalplus/<name>_release`, asset `<Name>.jsonl.gz`), one task per
line: `task_id`, `prompt`, `entry_point`, `canonical_solution`, `base_input`, `plus_input`, `atol`, ... The inputs
are differential tests: EvalPlus runs `prompt + canonical_solution` on each input to get the expected output and
compares the candidate's output with it. A few MBPP+ tasks take tuples, sets or complex numbers, which JSON stores
as lists and strings; `MBPP_INPUT_TRANSFORMS` names how the grader rebuilds them, and `oracle_for` names the tasks
whose outputs EvalPlus compares in a special way.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from nemo_skills.errors import InputError

HUMANEVAL_PLUS_VERSION = "v0.1.10"
HUMANEVAL_PLUS_URL = f"https://github.com/evalplus/humanevalplus_release/releases/download/{HUMANEVAL_PLUS_VERSION}/HumanEvalPlus.jsonl.gz"
MBPP_PLUS_VERSION = "v0.2.0"
MBPP_PLUS_URL = f"https://github.com/evalplus/mbppplus_release/releases/download/{MBPP_PLUS_VERSION}/MbppPlus.jsonl.gz"
REQUIRED = ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input")


def _tasks(*numbers: int, name: str) -> dict[int, str]:
    return dict.fromkeys(numbers, name)


# MBPP+ task number -> how its JSON arguments become the values the function takes (see harness._transform)
MBPP_INPUT_TRANSFORMS: dict[int, str] = {
    **_tasks(
        2,
        116,
        132,
        143,
        222,
        261,
        273,
        394,
        399,
        421,
        424,
        429,
        470,
        560,
        579,
        596,
        616,
        630,
        726,
        740,
        744,
        809,
        name="all_args_tuple",
    ),  # fmt: skip
    **_tasks(63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780, name="all_args_seq_of_tuples"),
    **_tasks(75, 413, 444, 753, name="first_arg_seq_of_tuples"),
    **_tasks(106, 750, name="second_arg_tuple"),
    **_tasks(115, name="first_arg_sets"),
    **_tasks(124, name="float_complex"),
    **_tasks(250, 405, 446, 617, 720, 763, 808, 307, name="first_arg_tuple"),
    **_tasks(259, 401, 445, name="all_args_tuple_of_tuples"),
    **_tasks(278, name="first_arg_tuple_of_items"),
    **_tasks(722, name="first_arg_dict_values_tuple"),
    **_tasks(252, name="complex_arg"),
    **_tasks(580, 615, 791, name="deep_tuple"),
}
MBPP_SET_EQUAL = frozenset(
    {"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
     "intersection_array", "find_dissimilar", "Diff"}
)  # fmt: skip
MBPP_NOT_NONE = frozenset({"check_str", "text_match_three", "text_starta_endb"})
MBPP_SPECIAL = {
    "are_equivalent": "any",
    "sum_div": "zero_ok",
    "surface_Area": "pyramid_surface",
    "digit_distance_nums": "digit_distance",
}


def oracle_for(dataset: str, entry_point: str) -> str:
    if dataset == "humaneval":
        return "poly_root" if entry_point == "find_zero" else "exact"
    if entry_point in MBPP_SET_EQUAL:
        return "set_eq"
    if entry_point in MBPP_NOT_NONE:
        return "not_none"
    return MBPP_SPECIAL.get(entry_point, "exact")


def task_number(task_id: str) -> int:
    try:
        return int(str(task_id).rsplit("/", 1)[-1])
    except ValueError:
        raise InputError(f"EvalPlus task id {task_id!r} does not end in a number.") from None


def read_release(path: Path) -> list[dict[str, Any]]:
    """The tasks of a (gzipped) EvalPlus release file; a task without the differential-test fields is an error."""
    opener = gzip.open if path.name.endswith(".gz") else open
    tasks = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            task = json.loads(line)
            missing = [key for key in REQUIRED if key not in task]
            if missing:
                raise InputError(f"{path}:{line_number}: EvalPlus task without {', '.join(missing)}.")
            tasks.append(task)
    if not tasks:
        raise InputError(f"{path}: no EvalPlus tasks; the release format may have changed.")
    return tasks


def plus_tests(task: dict[str, Any], dataset: str, source: str) -> dict[str, Any]:
    """The grader's `plus_tests` for one EvalPlus task."""
    transform = MBPP_INPUT_TRANSFORMS.get(task_number(task["task_id"])) if dataset == "mbpp" else None
    return {
        "dataset": dataset,
        "source": source,
        "entry_point": task["entry_point"],
        "reference": task["prompt"] + task["canonical_solution"],
        "base_inputs": task["base_input"],
        "plus_inputs": task["plus_input"],
        "atol": task.get("atol") or 0,
        "input_transform": transform,
        "oracle": oracle_for(dataset, task["entry_point"]),
    }
