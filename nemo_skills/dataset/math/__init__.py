from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    splits=("test", "train"),
    description="MATH competition problems (Hendrycks et al.), 5000 test / 7500 train, via Qwen2.5-Math's eval data.",
)
