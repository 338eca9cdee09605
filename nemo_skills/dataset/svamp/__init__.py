from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="SVAMP: 1000 elementary math word problems with varied structure (Patel et al., 2021).",
)
