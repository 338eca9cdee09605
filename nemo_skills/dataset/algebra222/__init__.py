from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="Algebra222: 222 algebra word problems (He-Yueya et al., declarative math word problem solving).",
)
