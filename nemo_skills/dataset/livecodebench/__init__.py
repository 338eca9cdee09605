from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="code",
    eval_type="code",
    metrics_type="code",
    prompt_config="generic/codegen",
    requires_sandbox=True,
    eval_split="test_v6_2408_2505",
    splits=("test_v6_2408_2505", "test_v5_2408_2502", "test_v5_2407_2412", "test_v5_2410_2502"),
    eval_config={"timeout_s": 6.0},
    required_fields=("id", "question", "testtype"),
    description=(
        "LiveCodeBench code generation (livecodebench/code_generation_lite on Hugging Face): contest problems, "
        "split `test_v<release>_<YYMM>_<YYMM>` = the problems of that release whose contest month lies in the "
        "window. stdin/stdout problems (AtCoder, Codeforces) and LeetCode-style `class Solution` problems; correct "
        "means every public and hidden test passes (6 s per test)."
    ),
)
