from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="HMMT February 2025 (30 problems, LaTeX answers), from MathArena's `hmmt_feb_2025` dataset.",
)
