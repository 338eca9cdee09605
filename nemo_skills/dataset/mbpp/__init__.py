from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="code",
    eval_type="code",
    metrics_type="code",
    prompt_config="generic/codegen",
    requires_sandbox=True,
    splits=("test", "sanitized"),
    required_fields=("id", "question", "entry_point"),
    description=(
        "MBPP (Google, basic Python functions). `test` is EvalPlus's MBPP+ v0.2.0 (378 tasks), as the reference "
        "evaluates it: `is_correct` on the original (base) inputs, `is_correct_plus` on base and plus inputs, both "
        "checked against the reference solution's outputs. `sanitized` is Google's hand-verified MBPP, test tasks "
        "11-510 (257), graded by their three asserts (`is_correct` only)."
    ),
)
