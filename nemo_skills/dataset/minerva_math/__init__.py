from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="Minerva's OCW undergraduate STEM problems (272), from Qwen2.5-Math's evaluation data.",
)
