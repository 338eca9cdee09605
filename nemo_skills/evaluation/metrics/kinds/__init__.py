"""Benchmark metric types (`METRICS_TYPE` of a benchmark): rows of graded output files → `{mode: {metric: value}}`.

One lazy registry; each kind registers where it is defined. `compute_benchmark_metrics` in `base` is the entry point.
"""

from nemo_skills.utils.registry import Registry

METRIC_KINDS: Registry[type] = Registry(
    "metrics type", ["nemo_skills.evaluation.metrics.kinds.builtin"], entry_point_group="nemo_skills.metrics"
)
