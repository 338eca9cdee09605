from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="AIME 2024 I and II (30 problems, integer answers 0-999), from MathArena's Hugging Face datasets.",
)
