from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="AMC 2023 (40 problems rephrased to integer answers), from Qwen2.5-Math's evaluation data.",
)
