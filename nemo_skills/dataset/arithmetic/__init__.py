from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description=(
        "Arithmetic smoke test: 200 integer problems (+, -, x, two-step) generated deterministically offline; "
        "for checking a setup end to end, not for ranking models."
    ),
)
