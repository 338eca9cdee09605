"""Pure metric computations: pass@k, majority@k and their aggregation into the `metrics.json` layout."""

from nemo_skills.evaluation.metrics.aggregate import (
    TRUNCATION_WARNING_THRESHOLD,
    GradedSample,
    compute_metrics,
    default_ks,
)
from nemo_skills.evaluation.metrics.majority import (
    MajorityVote,
    is_missing_answer,
    majority_vote,
    normalize_answer,
    same_answer,
)
from nemo_skills.evaluation.metrics.pass_at_k import expected_max_at_k, pass_at_k, pass_at_k_from_scores

__all__ = [
    "TRUNCATION_WARNING_THRESHOLD",
    "GradedSample",
    "MajorityVote",
    "compute_metrics",
    "default_ks",
    "expected_max_at_k",
    "is_missing_answer",
    "majority_vote",
    "normalize_answer",
    "pass_at_k",
    "pass_at_k_from_scores",
    "same_answer",
]
