"""Build a tiny random-weight Llama model (plus a real BPE tokenizer) for wiring tests, offline and deterministically.

The model is useless as a language model, but it has every file a real Hugging Face checkpoint has, so
transformers, vLLM and TRL load and serve it. Its shape suits vLLM on CPU: head size 32 (the CPU attention
kernels need at least 32), float32 weights, 2048 positions.

    python -m nemo_skills.utils.tiny_model [OUTPUT_DIR] [--seed 0] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

FORMAT_VERSION = 1
MARKER_NAME = ".nemo_skills_tiny_model"
VOCAB_SIZE = 2048
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
PAD_TOKEN = "<pad>"
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, EOS_TOKEN, TURN_START, TURN_END]

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('Unsupported role: ' + message['role']) }}"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

MODEL_SHAPE = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "initializer_range": 0.2,  # large on purpose: greedy picks have clear margins over numeric noise
    "tie_word_embeddings": False,
}

# ------------------------------------------------------------------------------------------------ corpus

NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack", "Kate", "Liam"]
ITEMS = ["apples", "books", "pencils", "marbles", "cookies", "stickers", "coins", "cards", "shells", "stamps"]
PLACES = ["the park", "the store", "school", "the library", "the garden", "the market", "the beach", "home"]
ADJECTIVES = ["quick", "small", "bright", "quiet", "large", "happy", "careful", "simple", "strange", "old"]
NOUNS = ["cat", "dog", "river", "tree", "number", "problem", "answer", "question", "house", "city", "train"]
VERBS = ["sees", "finds", "likes", "counts", "solves", "reads", "writes", "checks", "builds", "carries"]
COMMON_WORDS = """
about above across after again against along also always among animal another answer around because become
before began begin behind being below between big black blue body both bring brother build busy call came
carry cause center change child children circle city class clear close cold color come common complete could
country course cover cross dark daughter deep different direction distance divide double down draw during early
earth east easy eight enough even evening every example face fact family farm father field figure fill final
find fire first fish five follow food foot force form four free friend front full game garden give glass good
great green ground group grow half hand happen hard have head hear heat heavy help here high hold hole horse
hour house hundred idea inch include inside interest island keep kind king know land language large last late
laugh learn leave left less letter light line list listen little long look machine made main make many mark
matter measure mile million mind minute money month moon morning mother mountain move much music must name
near need never next night north nothing notice number object ocean often open order other over page paper
part pass pattern people perhaps person picture piece place plain plan plant play point power problem produce
product pull question quick rain reach read ready real reason record remember rest result right river road rock
room round rule same science second section seem sentence service several shape short should show side simple
since size sleep slow small snow song sound south space special speed spell square stand star start state stay
step still stone story street strong study such summer sure surface table tail talk teach test thank thing
think thousand three through time together total touch toward town travel tree triangle true under unit until
value very voice vowel walk warm watch water weather week weight west wheel where while white whole wind window
winter wish without wonder wood word work world write year young zero angle area base digit equal equation
factor fraction graph integer minus multiply percent plus prime product quotient ratio remainder solve sum
""".split()
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
OPERATIONS: dict[str, tuple[str, Callable[[int, int], int]]] = {
    "+": ("plus", lambda a, b: a + b),
    "-": ("minus", lambda a, b: a - b),
    "*": ("times", lambda a, b: a * b),
}


def _arithmetic_line(rng: random.Random) -> str:
    a, b = rng.randint(0, 99), rng.randint(0, 99)
    symbol = rng.choice(list(OPERATIONS))
    word, apply = OPERATIONS[symbol]
    result = apply(a, b)
    return rng.choice(
        [
            f"What is {a} {symbol} {b}? The answer is {result}.",
            f"{a} {word} {b} equals {result}.",
            f"Compute ${a} {symbol} {b}$. We get $\\boxed{{{result}}}$.",
            f"Question: {a} {symbol} {b} = ? Answer: {result}",
        ]
    )


def _word_problem_line(rng: random.Random) -> str:
    name, other = rng.sample(NAMES, 2)
    item, place = rng.choice(ITEMS), rng.choice(PLACES)
    have, extra = rng.randint(1, 30), rng.randint(1, 20)
    return (
        f"{name} has {have} {item} and buys {extra} more at {place}. "
        f"{other} asks how many {item} {name} has now. The answer is {have + extra}."
    )


def _equation_line(rng: random.Random) -> str:
    x, k, c = rng.randint(-20, 20), rng.randint(2, 9), rng.randint(0, 50)
    return f"Solve for x: {k}x + {c} = {k * x + c}. Subtract {c} and divide by {k}, so x = {x}."


def _fraction_line(rng: random.Random) -> str:
    numerator, denominator = rng.randint(1, 9), rng.randint(2, 12)
    return f"The fraction \\frac{{{numerator}}}{{{denominator}}} is about {numerator / denominator:.3f}."


def _sentence_line(rng: random.Random) -> str:
    words = [rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS), rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    count = rng.choice(NUMBER_WORDS)
    return f"The {words[0]} {words[1]} {words[2]} {count} {words[3]} {words[4]}s near {rng.choice(PLACES)}."


def _word_salad_line(rng: random.Random) -> str:
    words = rng.sample(COMMON_WORDS, rng.randint(6, 14))
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", ";", ","])


def _big_number_line(rng: random.Random) -> str:
    a, b = rng.randint(100, 9999), rng.randint(100, 9999)
    return f"The sum of {a} and {b} is {a + b}, and their difference is {abs(a - b)}; {a} is {a % 7} mod 7."


def _chat_line(rng: random.Random) -> str:
    name = rng.choice(NAMES)
    return rng.choice(
        [
            f"Hello, {name}! How can I help you today?",
            "You are a helpful assistant. Think step by step and put the final answer in \\boxed{}.",
            f"Sure, {name}. Let me think about the problem step by step.",
            "Please reason carefully, then give a short final answer.",
        ]
    )


LINE_MAKERS: tuple[Callable[[random.Random], str], ...] = (
    _arithmetic_line,
    _word_problem_line,
    _equation_line,
    _fraction_line,
    _sentence_line,
    _word_salad_line,
    _word_salad_line,
    _big_number_line,
    _chat_line,
)


def corpus_lines(seed: int = 0, num_lines: int = 2000) -> list[str]:
    """A small, varied English + math corpus, generated deterministically from ``seed``."""
    rng = random.Random(seed)
    lines = [" ".join(str(n) for n in range(start, start + 20)) for start in range(0, 200, 20)]
    lines += [rng.choice(LINE_MAKERS)(rng) for _ in range(num_lines)]
    return lines


# ------------------------------------------------------------------------------------------------ tokenizer


def train_tokenizer(lines: list[str], vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    """Train a byte-level BPE tokenizer that prepends BOS to every encoded text, like Llama's."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_batches(lines), trainer=trainer, length=len(lines))
    bos_id = tokenizer.token_to_id(BOS_TOKEN)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS_TOKEN} $A", pair=f"{BOS_TOKEN} $A {BOS_TOKEN} $B", special_tokens=[(BOS_TOKEN, bos_id)]
    )
    return tokenizer


def _batches(lines: list[str], size: int = 256) -> Iterator[list[str]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


def wrap_tokenizer(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    from transformers import PreTrainedTokenizerFast

    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[TURN_START, TURN_END],
        model_max_length=MODEL_SHAPE["max_position_embeddings"],
        clean_up_tokenization_spaces=False,
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, output_dir: Path) -> None:
    """Save, then rewrite tokenizer_config.json in the layout transformers 4.x reads too (5.x reads both)."""
    tokenizer.save_pretrained(output_dir)
    config_path = output_dir / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config["additional_special_tokens"] = [TURN_START, TURN_END]
    config.pop("extra_special_tokens", None)
    config["chat_template"] = CHAT_TEMPLATE
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


# ------------------------------------------------------------------------------------------------ model


def _save_model(output_dir: Path, tokenizer: PreTrainedTokenizerFast, seed: int) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **MODEL_SHAPE,
    )
    config.dtype = "float32"
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(TURN_END)],
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(output_dir)


# ------------------------------------------------------------------------------------------------ public API


def default_tiny_model_dir() -> Path:
    cache = Path(os.environ.get("NEMO_SKILLS_CACHE", Path.home() / ".cache" / "nemo_skills"))
    return cache / "tiny-llama"


def _marker_content(seed: int) -> str:
    return json.dumps({"format": FORMAT_VERSION, "seed": seed}, sort_keys=True)


def is_built(output_dir: Path, seed: int = 0) -> bool:
    marker = Path(output_dir) / MARKER_NAME
    return marker.is_file() and marker.read_text().strip() == _marker_content(seed)


def build_tiny_model(output_dir: Path, seed: int = 0, force: bool = False) -> Path:
    """Build the tiny model into ``output_dir`` (skipped when a finished build with this seed is there).

    The files are written to a sibling temporary folder first and moved into place at the end, so a reader never
    sees a half-written model and concurrent builders do not trip over each other.
    """
    output_dir = Path(output_dir)
    if not force and is_built(output_dir, seed):
        return output_dir
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        tokenizer = wrap_tokenizer(train_tokenizer(corpus_lines(seed)))
        save_tokenizer(tokenizer, staging)
        _save_model(staging, tokenizer, seed)
        (staging / MARKER_NAME).write_text(_marker_content(seed) + "\n")
        _make_readable(staging)
        _move_into_place(staging, output_dir, seed, replace=force)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output_dir


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private folder, and some writers make private files; a shared cache needs them readable."""
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)


def _move_into_place(staging: Path, output_dir: Path, seed: int, replace: bool) -> None:
    if output_dir.exists():
        if not replace and is_built(output_dir, seed):  # another builder finished first, with the same files
            return
        shutil.rmtree(output_dir)
    os.replace(staging, output_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", nargs="?", type=Path, default=None, help="default: a per-user cache folder")
    parser.add_argument("--seed", type=int, default=0, help="seed for the corpus and the weights")
    parser.add_argument("--force", action="store_true", help="rebuild even when a finished build is there")
    args = parser.parse_args(argv)
    print(build_tiny_model(args.output_dir or default_tiny_model_dir(), seed=args.seed, force=args.force))


if __name__ == "__main__":
    main()
