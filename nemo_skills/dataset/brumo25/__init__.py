from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="BRUMO 2025 (Brown University Math Olympiad, 30 problems), from MathArena's `brumo_2025` dataset.",
)
