from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="CollegeMath test set (MathScale's MWPBench, 2818 problems), from Qwen2.5-Math's evaluation data.",
)
