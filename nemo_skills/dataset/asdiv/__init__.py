from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="ASDiv: 2305 diverse English math word problems, grades 1-6 (Miao et al., 2020).",
)
