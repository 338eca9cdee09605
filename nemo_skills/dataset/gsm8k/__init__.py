from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    splits=("test", "train"),
    description="Grade-school math word problems (OpenAI), integer answers.",
)
