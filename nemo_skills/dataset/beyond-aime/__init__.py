from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="BeyondAIME (ByteDance Seed): 100 original problems harder than AIME, integer answers.",
)
