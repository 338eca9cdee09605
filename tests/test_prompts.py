"""Prompt configs, few-shot examples (fixed sets and BM25 retrieval), code tags and chat-template rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.prompt.config import FewShotConfig, PromptConfig, load_code_tags, load_prompt_config
from nemo_skills.prompt.prompt import ChatTemplateRenderer, Prompt, template_slots

MATH_INSTRUCTION = (
    "Solve the following math problem. Make sure to put the answer (and only answer) inside \\boxed{}.\n\n"
)
FEW_SHOT_PREFIX = "Here are some examples of problems and solutions you can refer to.\n\n"
FEW_SHOT_SUFFIX = "Here is the problem you need to solve:\n"


def user_text(prompt: Prompt, row: dict, seed: int = 0) -> str:
    messages = prompt.fill(row, seed=seed)
    assert messages[-1]["role"] == "user"
    return messages[-1]["content"]


def write_yaml(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------- shipped configs


def test_generic_default_is_the_problem_alone():
    prompt = Prompt.from_names("generic/default")
    assert prompt.fill({"problem": "What is 2+2?", "id": 3}) == [{"role": "user", "content": "What is 2+2?"}]


def test_generic_default_chat_has_system_message():
    assert Prompt.from_names("generic/default-chat").fill({"problem": "Hi"}) == [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hi"},
    ]


def test_generic_math_without_examples():
    prompt = Prompt.from_names("generic/math")
    assert prompt.fill({"problem": "What is 1+1?"}) == [{"role": "user", "content": MATH_INSTRUCTION + "What is 1+1?"}]


def test_generic_math_with_a_small_example_set_exact(tmp_path):
    examples = write_yaml(
        tmp_path / "two.yaml",
        '- {problem: "1+2?", solution: "\\\\boxed{3}"}\n- {problem: "2*3?", solution: "It is \\\\boxed{6}."}\n',
    )
    prompt = Prompt.from_names("generic/math", examples_type=examples)
    assert user_text(prompt, {"problem": "5-1?"}) == (
        MATH_INSTRUCTION
        + FEW_SHOT_PREFIX
        + "Problem:\n1+2?\n\nSolution:\n\\boxed{3}\n\n\n\n\n\n"
        + "Problem:\n2*3?\n\nSolution:\nIt is \\boxed{6}.\n\n\n\n\n\n"
        + FEW_SHOT_SUFFIX
        + "5-1?"
    )


def test_generic_math_with_gsm8k_examples():
    text = user_text(Prompt.from_names("generic/math", examples_type="gsm8k"), {"problem": "What is 1+1?"})
    first_example = (
        "Problem:\nA baker makes 24 muffins and sells them in boxes of 4. How many boxes does she fill?\n\n"
        "Solution:\nEach box holds 4 muffins, so 24 muffins fill 24 / 4 = 6 boxes.\nThe answer is \\boxed{6}."
        "\n\n\n\n\n\n"
    )
    assert text.startswith(MATH_INSTRUCTION + FEW_SHOT_PREFIX + first_example)
    assert text.endswith("The answer is \\boxed{6}.\n\n\n\n\n\n" + FEW_SHOT_SUFFIX + "What is 1+1?")
    assert text.count("Problem:\n") == 4
    assert text.index("Tom has 15 marbles") < text.index("A train travels") < text.index("Pencils cost")


def test_examples_type_from_the_prompt_config(tmp_path):
    config = write_yaml(
        tmp_path / "p.yaml",
        "user: '{examples}Q: {problem}'\nfew_shot_examples:\n  examples_type: gsm8k\n  template: '[{solution}]'\n",
    )
    text = user_text(Prompt.from_names(config), {"problem": "x"})
    assert text.startswith("[Each box holds 4 muffins")
    assert text.endswith("\\boxed{6}.]Q: x")
    assert text.count("[") == 4


def test_unknown_examples_type_fails_at_set_up():
    with pytest.raises(ConfigError) as error:
        Prompt.from_names("generic/math", examples_type="gsm8")
    assert "Did you mean 'gsm8k'" in str(error.value)


# ---------------------------------------------------------------- overrides of the config


def test_system_message_override():
    prompt = Prompt.from_names("generic/default-chat", system_message="Answer in French.")
    assert prompt.fill({"problem": "Hi"})[0] == {"role": "system", "content": "Answer in French."}
    added = Prompt.from_names("generic/default", system_message="Be terse.")
    assert added.fill({"problem": "Hi"}) == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Hi"},
    ]
    removed = Prompt.from_names("generic/default-chat", system_message="")
    assert removed.fill({"problem": "Hi"}) == [{"role": "user", "content": "Hi"}]


def test_prompt_suffix_is_appended_to_the_user_message():
    prompt = Prompt.from_names("generic/math", prompt_suffix="\nThink step by step.")
    assert user_text(prompt, {"problem": "1+1?"}) == MATH_INSTRUCTION + "1+1?\nThink step by step."


def test_missing_fields():
    prompt = Prompt.from_names("generic/math")
    assert prompt.slots == {"problem"}  # {examples} is filled by the prompt itself
    assert prompt.missing_fields({"question": "1+1?"}) == ["problem"]
    assert prompt.missing_fields({"problem": "1+1?", "extra": 1}) == []
    judge = Prompt.from_names("judge/math")
    assert judge.missing_fields({"problem": "p"}) == ["expected_answer", "predicted_answer"]


# ---------------------------------------------------------------- templates and YAML validation


def test_doubled_braces_are_literal(tmp_path):
    config = write_yaml(tmp_path / "p.yaml", 'user: "Reply as {{\\"answer\\": ...}} in \\\\boxed{{}} to {problem}"\n')
    prompt = Prompt.from_names(config)
    assert prompt.slots == {"problem"}
    assert user_text(prompt, {"problem": "1+1"}) == 'Reply as {"answer": ...} in \\boxed{} to 1+1'


def test_template_slots_with_attribute_and_index_access():
    assert template_slots("{a.b} {c[0]} {d} {{e}}") == {"a", "c", "d"}


@pytest.mark.parametrize("user", ["Solve {problem", "Solve } {problem}", "{a{b}c}"])
def test_invalid_template(user):
    with pytest.raises(ConfigError, match="literal braces must be doubled"):
        Prompt(PromptConfig(user=user))


def test_unknown_prompt_config_suggests_the_nearest():
    with pytest.raises(ConfigError) as error:
        load_prompt_config("generic/maht")
    message = str(error.value)
    assert "Unknown prompt config 'generic/maht'" in message
    assert "Did you mean 'generic/math'" in message
    assert "judge/math" in message  # the known configs are listed


def test_missing_yaml_path():
    with pytest.raises(ConfigError, match="does not exist"):
        load_prompt_config("/nonexistent/prompt.yaml")


def test_prompt_yaml_with_unknown_key_rejected(tmp_path):
    config = write_yaml(tmp_path / "typo.yaml", "sytem: 'You are a judge.'\nuser: '{problem}'\n")
    with pytest.raises(ConfigError) as error:
        load_prompt_config(config)
    assert "Invalid prompt config" in str(error.value)
    assert "sytem" in str(error.value)


def test_prompt_yaml_with_unknown_nested_key_rejected(tmp_path):
    config = write_yaml(tmp_path / "typo.yaml", "user: '{problem}'\nfew_shot_examples:\n  exampels_type: gsm8k\n")
    with pytest.raises(ConfigError, match="exampels_type"):
        load_prompt_config(config)


def test_prompt_yaml_without_user_rejected(tmp_path):
    config = write_yaml(tmp_path / "empty.yaml", "system: hello\n")
    with pytest.raises(ConfigError, match="user"):
        load_prompt_config(config)


# ---------------------------------------------------------------- code tags


def test_code_tags_in_examples_llama3():
    prompt = Prompt.from_names("generic/math", code_tags="llama3", examples_type="math_code")
    text = user_text(prompt, {"problem": "P"})
    assert (
        "Solution:\nLet me compute it.\n<|python_tag|>print(sum(i * i for i in range(1, 11)))\n<|eom_id|>"
        "<|start_header_id|>ipython<|end_header_id|>385\n<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
        "The sum is \\boxed{385}.\n\n\n\n\n\n"
    ) in text
    assert "<|python_tag|>print(sum(1 for d in range(1, 361) if 360 % d == 0))\n<|eom_id|>" in text
    assert "{code_" not in text
    assert "```" not in text


def test_code_tags_default_to_markdown():
    text = user_text(Prompt.from_names("generic/math", examples_type="math_code"), {"problem": "P"})
    assert (
        "Let me compute it.\n```python\nprint(sum(i * i for i in range(1, 11)))\n```\n```output\n385\n```\n"
        "The sum is \\boxed{385}." in text
    )
    assert "{code_" not in text


def test_code_tags_files():
    llama = load_code_tags("llama3")
    assert (llama.code_begin, llama.code_output_format) == ("<|python_tag|>", "llama")
    assert load_code_tags("markdown").code_begin == "```python\n"
    with pytest.raises(ConfigError, match="Did you mean 'llama3'"):
        load_code_tags("llama")


# ---------------------------------------------------------------- BM25 retrieval


RETRIEVAL_ENTRIES = [
    {"problem": "apples oranges bananas grapes", "solution": "s0", "reference_solution": "r0"},
    {"problem": "apples oranges bananas pears", "solution": "s1", "reference_solution": "r1 " + "x" * 40},
    {"problem": "apples oranges kiwis plums", "solution": "s2", "reference_solution": "r2"},
    {"problem": "apples lemons limes figs", "solution": "s3", "reference_solution": "r3"},
    {"problem": "cars trucks buses trains", "solution": "s4", "reference_solution": "r4"},
    {"problem": "boats ships rafts canoes", "solution": "s5", "reference_solution": "r5"},
    {"problem": "red green blue yellow", "solution": "s6", "reference_solution": "r6"},
    {"problem": "cats dogs birds fish", "solution": "s7", "reference_solution": "r7"},
    {"problem": "rain snow hail sleet", "solution": "s8", "reference_solution": "r8"},
    {"problem": "piano violin drums flute", "solution": "s9", "reference_solution": "r9"},
]


def retrieval_prompt(tmp_path: Path, **few_shot) -> Prompt:
    path = tmp_path / "retrieval.jsonl"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in RETRIEVAL_ENTRIES))
    config = PromptConfig(
        user="{examples}Now: {problem}",
        few_shot_examples=FewShotConfig(
            template="<{solution}>", retrieval_field="problem", retrieval_file=str(path), **few_shot
        ),
    )
    return Prompt(config)


def test_bm25_drops_the_query_itself_and_puts_the_best_match_last(tmp_path):
    prompt = retrieval_prompt(tmp_path, retrieved_entries=3, retrieved_few_shots=2)
    assert user_text(prompt, {"problem": "apples oranges bananas grapes"}) == (
        "<s2><s1>Now: apples oranges bananas grapes"
    )


def test_bm25_query_not_in_the_file(tmp_path):
    prompt = retrieval_prompt(tmp_path, retrieved_entries=10, retrieved_few_shots=3)
    assert user_text(prompt, {"problem": "apples oranges bananas"}) == "<s2><s1><s0>Now: apples oranges bananas"


def test_bm25_retrieved_few_shots_limits_the_count(tmp_path):
    prompt = retrieval_prompt(tmp_path, retrieved_entries=10, retrieved_few_shots=1)
    assert user_text(prompt, {"problem": "apples oranges bananas grapes"}) == "<s1>Now: apples oranges bananas grapes"


def test_bm25_max_retrieved_chars_filter(tmp_path):
    prompt = retrieval_prompt(tmp_path, retrieved_entries=4, retrieved_few_shots=2, max_retrieved_chars=20)
    # s1's reference_solution is 43 characters long: it is skipped and the next two matches are used
    assert user_text(prompt, {"problem": "apples oranges bananas grapes"}) == (
        "<s3><s2>Now: apples oranges bananas grapes"
    )


def test_bm25_max_retrieved_chars_field(tmp_path):
    prompt = retrieval_prompt(
        tmp_path,
        retrieved_entries=4,
        retrieved_few_shots=2,
        max_retrieved_chars=2,
        max_retrieved_chars_field="solution",
    )
    assert user_text(prompt, {"problem": "apples oranges bananas grapes"}) == (
        "<s2><s1>Now: apples oranges bananas grapes"
    )


def test_bm25_randomized_order_is_seeded(tmp_path):
    prompt = retrieval_prompt(tmp_path, retrieved_entries=10, retrieved_few_shots=3, randomize_retrieved_entries=True)
    row = {"problem": "apples oranges bananas grapes"}
    orders = {user_text(prompt, row, seed=seed) for seed in range(20)}
    assert all(sorted(text[:12]) == sorted("<s1><s2><s3>") for text in orders)
    assert len(orders) > 1
    assert user_text(prompt, row, seed=5) == user_text(prompt, row, seed=5)


def test_bm25_retrieval_field_is_a_required_slot(tmp_path):
    prompt = retrieval_prompt(tmp_path)
    assert prompt.missing_fields({"question": "q"}) == ["problem"]


def test_bm25_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Prompt(
            PromptConfig(
                user="{q}",
                few_shot_examples=FewShotConfig(retrieval_field="q", retrieval_file=str(tmp_path / "no.jsonl")),
            )
        )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "a"}\n{"other": "b"}\n')
    with pytest.raises(ConfigError, match="lacks field 'q' on line 2"):
        Prompt(PromptConfig(user="{q}", few_shot_examples=FewShotConfig(retrieval_field="q", retrieval_file=str(bad))))
    with pytest.raises(ConfigError, match="retrieval_file"):
        Prompt(PromptConfig(user="{q}", few_shot_examples=FewShotConfig(retrieval_field="q")))


# ---------------------------------------------------------------- chat templates


CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% if enable_thinking is defined and not enable_thinking %}"
    "<think></think>{% endif %}{% endif %}"
)


def save_tiny_tokenizer(path: Path, chat_template: str | None) -> str:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[UNK]", "<s>", "</s>"])
    tokenizer.train_from_iterator(["what is two plus two", "you are a helpful assistant", "four"], trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="[UNK]")
    if chat_template is not None:
        wrapped.chat_template = chat_template
    wrapped.save_pretrained(path)
    return str(path)


def test_chat_template_renderer(tmp_path):
    renderer = ChatTemplateRenderer(save_tiny_tokenizer(tmp_path / "tok", CHAT_TEMPLATE))
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is two plus two?"},
    ]
    assert renderer.render(messages) == (
        "<s><|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nWhat is two plus two?<|end|>\n<|assistant|>\n"
    )


def test_chat_template_kwargs_reach_the_template(tmp_path):
    renderer = ChatTemplateRenderer(
        save_tiny_tokenizer(tmp_path / "tok", CHAT_TEMPLATE), chat_template_kwargs={"enable_thinking": False}
    )
    rendered = renderer.render([{"role": "user", "content": "hi"}])
    assert rendered == "<s><|user|>\nhi<|end|>\n<|assistant|>\n<think></think>"


def test_tokenizer_without_chat_template_gets_bos_and_contents(tmp_path):
    renderer = ChatTemplateRenderer(save_tiny_tokenizer(tmp_path / "plain", None))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q: 1+1\nA:"}]
    assert renderer.render(messages) == "<s>Be brief.\n\nQ: 1+1\nA:"


def test_missing_tokenizer_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="Cannot load tokenizer"):
        ChatTemplateRenderer(str(tmp_path / "no-such-tokenizer"))


def test_code_tags_fill_the_user_template(tmp_path):
    from nemo_skills.prompt.config import PromptConfig, load_code_tags
    from nemo_skills.prompt.prompt import Prompt

    prompt = Prompt(PromptConfig(user="{problem} Use {code_begin}...{code_end}"), load_code_tags("llama3"))
    assert prompt.missing_fields({"problem": "p"}) == []
    assert prompt.fill({"problem": "p"})[-1]["content"] == "p Use <|python_tag|>...<|eom_id|>"
