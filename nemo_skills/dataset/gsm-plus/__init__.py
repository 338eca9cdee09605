from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    splits=("test", "test_rounded"),
    description=(
        "GSM-Plus: 10552 perturbed GSM8K test problems in 8 perturbation types; `test_rounded` adds a rounding "
        "instruction to numeric problems."
    ),
)
