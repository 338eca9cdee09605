from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="answer-judgement",
    metrics_type="answer-judgement",
    prompt_config="judge/math",  # the evaluated model is the judge
    required_fields=("id", "problem", "predicted_answer", "expected_answer", "expected_judgement"),
    description=(
        "Answer judgement: the model decides whether a predicted answer to a math problem matches the expected "
        "one (`Judgement: Yes/No`); scored against hand-checked verdicts."
    ),
)
