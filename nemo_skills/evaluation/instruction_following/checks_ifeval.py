"""The 25 IFEval instructions (google-research ``instruction_following_eval``), same ids, kwargs and semantics.

Each checker answers whether one response follows one instruction. Quirks of the reference kept on purpose, so
scores compare with published ones:
- keywords are used as regular expressions, not literal text (a keyword that is not a valid regex is matched
  literally instead of crashing);
- language checks count text in which langdetect finds nothing to decide on as following the instruction;
- ``nth_paragraph_first_word`` counts non-empty paragraphs but indexes the raw ``\\n\\n`` split.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Literal

from nemo_skills.evaluation.instruction_following import text_utils
from nemo_skills.evaluation.instruction_following.registry import register

Relation = Literal["less than", "at least"]

CONSTRAINED_RESPONSE_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def _compare(count: int, relation: str, threshold: int) -> bool:
    return count < threshold if relation == "less than" else count >= threshold


def _pattern(text: str, flags: int = 0, *, before: str = "", after: str = "") -> re.Pattern[str]:
    """``before + text + after`` compiled as the reference does (`text` as a regex), or with `text` matched
    literally when it is not a valid regex (where the reference would crash)."""
    try:
        return re.compile(before + text + after, flags)
    except re.error:
        return re.compile(before + re.escape(text) + after, flags)


# --- keywords -------------------------------------------------------------------------------------------------


@register("ifeval", "keywords:existence")
def keyword_existence(response: str, *, keywords: list[str]) -> bool:
    return all(_pattern(keyword, re.IGNORECASE).search(response) for keyword in keywords)


@register("ifeval", "keywords:frequency")
def keyword_frequency(response: str, *, keyword: str, frequency: int, relation: Relation) -> bool:
    occurrences = len(_pattern(keyword.strip(), re.IGNORECASE).findall(response))
    return _compare(occurrences, relation, frequency)


@register("ifeval", "keywords:forbidden_words")
def forbidden_words(response: str, *, forbidden_words: list[str]) -> bool:
    return not any(
        _pattern(word, re.IGNORECASE, before=r"\b", after=r"\b").search(response) for word in forbidden_words
    )


def _one_letter(kwargs: dict[str, Any]) -> None:
    if len(kwargs["letter"].strip()) != 1:
        raise ValueError(f"needs 'letter' to be a single character, got {kwargs['letter']!r}")


@register("ifeval", "keywords:letter_frequency", validate=_one_letter)
def letter_frequency(response: str, *, letter: str, let_frequency: int, let_relation: Relation) -> bool:
    count = Counter(response.lower())[letter.strip().lower()]
    return _compare(count, let_relation, let_frequency)


# --- language and case ----------------------------------------------------------------------------------------


@register("ifeval", "language:response_language")
def response_language(response: str, *, language: str) -> bool:
    detected = text_utils.detect_language(response)
    return detected is None or detected == language


@register("ifeval", "change_case:english_capital")
def english_capital(response: str) -> bool:
    if not response.isupper():
        return False
    detected = text_utils.detect_language(response)
    return detected is None or detected == "en"


@register("ifeval", "change_case:english_lowercase")
def english_lowercase(response: str) -> bool:
    if not response.islower():
        return False
    detected = text_utils.detect_language(response)
    return detected is None or detected == "en"


@register("ifeval", "change_case:capital_word_frequency")
def capital_word_frequency(response: str, *, capital_frequency: int, capital_relation: Relation) -> bool:
    capital_words = sum(1 for token in text_utils.word_tokenize(response) if token.isupper())
    return _compare(capital_words, capital_relation, capital_frequency)


# --- length ---------------------------------------------------------------------------------------------------


@register("ifeval", "length_constraints:number_sentences")
def number_sentences(response: str, *, num_sentences: int, relation: Relation) -> bool:
    return _compare(text_utils.count_sentences(response), relation, num_sentences)


@register("ifeval", "length_constraints:number_words")
def number_words(response: str, *, num_words: int, relation: Relation) -> bool:
    return _compare(text_utils.count_words(response), relation, num_words)


@register("ifeval", "length_constraints:number_paragraphs")
def number_paragraphs(response: str, *, num_paragraphs: int) -> bool:
    """Paragraphs separated by the markdown divider ``***``; an empty paragraph is allowed only at either end."""
    parts = re.split(r"\s?\*\*\*\s?", response)
    count = len(parts)
    for index, part in enumerate(parts):
        if not part.strip():
            if index not in (0, len(parts) - 1):
                return False
            count -= 1
    return count == num_paragraphs


def _nth_within_count(kwargs: dict[str, Any]) -> None:
    if not 1 <= kwargs["nth_paragraph"] <= kwargs["num_paragraphs"]:
        raise ValueError(f"needs 1 <= 'nth_paragraph' <= 'num_paragraphs', got {kwargs}")


@register("ifeval", "length_constraints:nth_paragraph_first_word", validate=_nth_within_count)
def nth_paragraph_first_word(response: str, *, num_paragraphs: int, nth_paragraph: int, first_word: str) -> bool:
    """`num_paragraphs` paragraphs separated by ``\\n\\n``, and paragraph `nth_paragraph` starts with `first_word`."""
    paragraphs = response.split("\n\n")
    count = sum(1 for paragraph in paragraphs if paragraph.strip())
    if nth_paragraph > count:
        return False
    paragraph = paragraphs[nth_paragraph - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    found = ""
    for char in word:
        if char in ".,?!'\"":
            break
        found += char.lower()
    return count == num_paragraphs and found == first_word.lower()


# --- detectable content and format ----------------------------------------------------------------------------


@register("ifeval", "detectable_content:number_placeholders")
def number_placeholders(response: str, *, num_placeholders: int) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= num_placeholders


@register("ifeval", "detectable_content:postscript")
def postscript(response: str, *, postscript_marker: str) -> bool:
    marker = postscript_marker.strip()
    if marker == "P.P.S":
        pattern = re.compile(r"\s*p\.\s?p\.\s?s.*$", re.MULTILINE)
    elif marker == "P.S.":
        pattern = re.compile(r"\s*p\.\s?s\..*$", re.MULTILINE)
    else:
        pattern = _pattern(marker.lower(), re.MULTILINE, before=r"\s*", after=r".*$")
    return pattern.search(response.lower()) is not None


@register("ifeval", "detectable_format:number_bullet_lists")
def number_bullet_lists(response: str, *, num_bullets: int) -> bool:
    """Lines starting with ``*`` (not ``**``) or ``-``; exactly `num_bullets` of them."""
    star_items = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dash_items = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    return len(star_items) + len(dash_items) == num_bullets


@register("ifeval", "detectable_format:constrained_response")
def constrained_response(response: str) -> bool:
    response = response.strip()
    return any(option in response for option in CONSTRAINED_RESPONSE_OPTIONS)


@register("ifeval", "detectable_format:number_highlighted_sections")
def number_highlighted_sections(response: str, *, num_highlights: int) -> bool:
    """Non-empty ``*single*`` and ``**double**`` highlights within a line, each form counted separately."""
    singles = [h for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
    doubles = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip()]
    return len(singles) + len(doubles) >= num_highlights


@register("ifeval", "detectable_format:multiple_sections")
def multiple_sections(response: str, *, section_spliter: str, num_sections: int) -> bool:
    splitter = _pattern(section_spliter.strip(), before=r"\s?", after=r"\s?\d+\s?")
    return len(splitter.split(response)) - 1 >= num_sections


@register("ifeval", "detectable_format:json_format")
def json_format(response: str) -> bool:
    text = response.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(fence)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@register("ifeval", "detectable_format:title")
def title(response: str) -> bool:
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))


# --- combination, start/end, punctuation ----------------------------------------------------------------------


@register("ifeval", "combination:two_responses")
def two_responses(response: str) -> bool:
    """Exactly two different non-empty answers separated by ``******`` (empty parts only at either end)."""
    parts = response.split("******")
    answers = []
    for index, part in enumerate(parts):
        if part.strip():
            answers.append(part)
        elif index not in (0, len(parts) - 1):
            return False
    return len(answers) == 2 and answers[0].strip() != answers[1].strip()


@register("ifeval", "combination:repeat_prompt")
def repeat_prompt(response: str, *, prompt_to_repeat: str) -> bool:
    return response.strip().lower().startswith(prompt_to_repeat.strip().lower())


@register("ifeval", "startend:end_checker")
def end_checker(response: str, *, end_phrase: str) -> bool:
    return response.strip().strip('"').lower().endswith(end_phrase.strip().lower())


@register("ifeval", "startend:quotation")
def quotation(response: str) -> bool:
    response = response.strip()
    return len(response) > 1 and response[0] == '"' and response[-1] == '"'


@register("ifeval", "punctuation:no_comma")
def no_comma(response: str) -> bool:
    return "," not in response
