"""Typed declarations of benchmarks and benchmark groups.

A benchmark package `nemo_skills/dataset/<name>/__init__.py` (or a folder listed in `NEMO_SKILLS_EXTRA_DATASETS`)
defines `BENCHMARK = BenchmarkSpec(...)`, or `BENCHMARK = BenchmarkGroup(...)` for a group whose members are
evaluated together. Specs hold values only: which evaluator grades the rows, which metrics summarise them, how the
model is prompted by default, and whether a judge or a sandbox is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATASET_GROUPS = ("math", "multichoice", "chat", "code", "judge", "long-context", "tool")


@dataclass(frozen=True)
class JudgeSpec:
    """A second generation job that reads the main outputs and writes a verdict per row (key `generation_key`)."""

    prompt_config: str  # e.g. judge/math
    model: str = "gpt-4.1"  # the default hosted judge; `ns eval --judge_model` overrides
    server_type: str = "openai"
    base_url: str | None = "https://api.openai.com/v1"
    generation_args: tuple[str, ...] = ()  # extra `++key=value` for the judge's generation
    generation_key: str = "judgement"
    eval_type: str = "judge"  # the evaluator that parses the verdicts
    # pairwise judges run a second game with the answers' order swapped, to cancel the judge's position bias
    swapped_prompt_config: str | None = None
    swapped_generation_key: str = "judgement_swapped"
    eval_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkSpec:
    group: str  # one of DATASET_GROUPS; `ns prepare_data --dataset_groups` selects by it
    eval_type: str  # evaluator name (nemo_skills.evaluation.evaluator registry)
    metrics_type: str  # metrics name (nemo_skills.evaluation.metrics registry)
    prompt_config: str | None = None  # default `++prompt_config`
    eval_split: str = "test"
    splits: tuple[str, ...] = ("test",)  # what prepare.py can write
    generation_args: tuple[str, ...] = ()  # extra default `++key=value` for generation
    eval_config: dict[str, Any] = field(default_factory=dict)  # the evaluator's config values
    num_samples: int = 0  # samples per problem when `--benchmarks` gives no `:N` (0: one greedy run)
    requires_sandbox: bool = False
    judge: JudgeSpec | None = None
    required_fields: tuple[str, ...] = ("id", "problem", "expected_answer")  # every prepared row has these
    description: str = ""

    def __post_init__(self) -> None:
        if self.group not in DATASET_GROUPS:
            raise ValueError(f"Unknown dataset group {self.group!r}; valid: {', '.join(DATASET_GROUPS)}.")
        if self.eval_split not in self.splits:
            raise ValueError(f"eval_split {self.eval_split!r} is not one of splits {self.splits}.")


@dataclass(frozen=True)
class GroupMember:
    name: str
    num_samples: int | None = None  # overrides the member's own default
    eval_split: str | None = None


@dataclass(frozen=True)
class BenchmarkGroup:
    members: tuple[GroupMember, ...]
    score_function: str | None = None  # "module:function" taking {member: metrics} and returning a dict
    description: str = ""
