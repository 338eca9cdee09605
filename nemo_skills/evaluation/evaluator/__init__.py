"""Evaluators grade generated rows in place. One lazy registry; each evaluator registers where it is defined."""

from nemo_skills.utils.registry import Registry

EVALUATORS: Registry[type] = Registry(
    "evaluator", ["nemo_skills.evaluation.evaluator.builtin"], entry_point_group="nemo_skills.evaluators"
)
