from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="MATH-500: the 500-problem MATH test subset from OpenAI's PRM800K (Let's Verify Step by Step).",
)
