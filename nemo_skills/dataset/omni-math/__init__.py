from nemo_skills.dataset.spec import BenchmarkSpec, JudgeSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    # some answers (proofs of forms, sets described in words) cannot be compared symbolically
    judge=JudgeSpec(prompt_config="judge/math"),
    description="Omni-MATH: 4428 olympiad-level problems with difficulty ratings; graded with an LLM judge too.",
)
