from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="Gaokao 2023 math problems translated to English (385), from Qwen2.5-Math's evaluation data.",
)
