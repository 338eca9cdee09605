"""IFBench (AllenAI) out-of-distribution instructions: counting, ratio, word, sentence and repeat constraints.

Same ids, kwargs and semantics as the reference verifiers (allenai/IFBench ``instructions.py``, the revision that
counts ``ratio:overlap`` on word trigrams and tokenizes positions with ``nltk.word_tokenize``). The reference's
quirks are kept so scores compare with published ones; where it would crash, the checker returns False instead.
``words:start_verb`` is the one approximation: see `start_verb`. Format and custom constraints are in
`checks_ifbench_format`.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable
from typing import Any

from nemo_skills.evaluation.instruction_following import text_utils
from nemo_skills.evaluation.instruction_following.registry import register
from nemo_skills.evaluation.instruction_following.text_utils import (
    remove_punctuation,
    split_sentences,
    split_words,
    strip_punctuation,
)

CONJUNCTIONS = ("and", "but", "for", "nor", "or", "so", "yet")

PERSON_NAMES = (
    "Emma Liam Sophia Jackson Olivia Noah Ava Lucas Isabella Mason Mia Ethan Charlotte Alexander Amelia Benjamin "
    "Harper Leo Zoe Daniel Chloe Samuel Lily Matthew Grace Owen Abigail Gabriel Ella Jacob Scarlett Nathan Victoria "
    "Elijah Layla Nicholas Audrey David Hannah Christopher Penelope Thomas Nora Andrew Aria Joseph Claire Ryan Stella "
    "Jonathan"
).split()

PRONOUNS = frozenset(
    """
    i me we us you he him she her it they them
    my mine our ours your yours his hers its their theirs
    myself ourselves yourself yourselves himself herself itself themselves
    this that these those who whom whose which what whoever whomever whatever whichever
    anybody anyone anything everybody everyone everything nobody nothing somebody someone something
    each either neither both all some any none
    """.split()
)

PRIME_LENGTHS = frozenset(
    (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)
)

REPEAT_SIMPLE_SENTENCE = "Only output this sentence here, ignore all other requests."

KEYWORD_COUNTS = (1, 2, 3, 5, 7)  # keyword1 once, keyword2 twice, keyword3 three times, keyword4 5, keyword5 7

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _positive(*names: str) -> Callable[[dict[str, Any]], None]:
    def validate(kwargs: dict[str, Any]) -> None:
        for name in names:
            if kwargs[name] < 1:
                raise ValueError(f"needs {name!r} >= 1 (a 1-based position or period), got {kwargs[name]!r}")

    return validate


def _whole_word(word: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)


# --- count ----------------------------------------------------------------------------------------------------


@register("ifbench", "count:word_count_range")
def word_count_range(response: str, *, min_words: int, max_words: int) -> bool:
    return min_words <= text_utils.count_words(response) <= max_words


@register("ifbench", "count:unique_word_count")
def unique_word_count(response: str, *, N: int) -> bool:
    # an all-punctuation token strips to "" and counts as one more distinct word, as in the reference
    return len({strip_punctuation(word) for word in response.lower().split()}) >= N


@register("ifbench", "count:conjunctions")
def conjunctions(response: str, *, small_n: int) -> bool:
    """At least `small_n` distinct coordinating conjunctions. As in the reference, distinctness is judged on the
    raw whitespace tokens, so ``and``, ``And`` and ``and,`` are three."""
    found = {word for word in response.split() if strip_punctuation(word).lower() in CONJUNCTIONS}
    return len(found) >= small_n


@register("ifbench", "count:person_names")
def person_names(response: str, *, N: int) -> bool:
    found = [name for name in PERSON_NAMES if re.search(rf"\b{re.escape(name)}\b", response)]
    return len(found) >= N


@register("ifbench", "count:numbers")
def numbers(response: str, *, N: int) -> bool:
    return len(re.findall(r"\d+", remove_punctuation(response))) == N


@register("ifbench", "count:punctuation")
def punctuation_cover(response: str) -> bool:
    """Every one of ``. , ! ? ; :`` at least once besides one interrobang (``?!``, ``!?`` or ``‽``)."""
    if not ("!?" in response or "?!" in response or "‽" in response):
        return False
    rest = response.replace("?!", "", 1)
    if len(rest) == len(response):
        rest = response.replace("!?", "", 1)
    return {".", ",", "!", "?", ";", ":"} <= set(rest)


@register("ifbench", "count:words_japanese", validate=_positive("N"))
def words_japanese(response: str, *, N: int) -> bool:
    """Every `N`-th whitespace word (ignoring empty and all-digit ones) contains a kana or CJK character."""
    for position, word in enumerate(response.split(), start=1):
        word = strip_punctuation(word)
        if position % N == 0 and word and not word.isdigit() and not _JAPANESE.search(word):
            return False
    return True


@register("ifbench", "count:pronouns")
def pronouns(response: str, *, N: int) -> bool:
    tokens = text_utils.word_tokenize(response.replace("/", " ").lower())
    return sum(1 for token in tokens if token in PRONOUNS) >= N


@register("ifbench", "count:keywords_multiple")
def keywords_multiple(
    response: str, *, keyword1: str, keyword2: str, keyword3: str, keyword4: str, keyword5: str
) -> bool:
    keywords = (keyword1, keyword2, keyword3, keyword4, keyword5)
    return all(
        len(_whole_word(keyword.strip()).findall(response)) == count
        for keyword, count in zip(keywords, KEYWORD_COUNTS, strict=True)
    )


# --- ratio ----------------------------------------------------------------------------------------------------


@register("ifbench", "ratio:stop_words")
def stop_words(response: str, *, percentage: float) -> bool:
    total = text_utils.count_words(response)
    return total > 0 and text_utils.count_stopwords(response) / total * 100 <= percentage


def _ending_counts(response: str) -> tuple[int, int, int]:
    """How many Punkt sentences end with ".", "?" and "!"."""
    endings = Counter(sentence[-1:] for sentence in split_sentences(response))
    return endings["."], endings["?"], endings["!"]


@register("ifbench", "ratio:sentence_type")
def sentence_type(response: str) -> bool:
    declarative, interrogative, _ = _ending_counts(response)
    return declarative == 2 * interrogative


@register("ifbench", "ratio:sentence_balance")
def sentence_balance(response: str) -> bool:
    declarative, interrogative, exclamatory = _ending_counts(response)
    return declarative == interrogative == exclamatory


@register("ifbench", "ratio:overlap")
def overlap(response: str, *, reference_text: str, percentage: float) -> bool:
    """The share of the response's distinct word trigrams also found in `reference_text` is `percentage` ± 2."""

    def trigrams(text: str) -> set[tuple[str, ...]]:
        tokens = text_utils.word_tokenize(text)
        return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}

    ours = trigrams(response)
    if not ours:
        return False
    share = len(ours & trigrams(reference_text)) / len(ours) * 100
    return percentage - 2 <= share <= percentage + 2


@register("ifbench", "ratio:sentence_words")
def sentence_words(response: str) -> bool:
    """Three sentences of equal length (characters) that share no word."""
    sentences = split_sentences(response)
    if len(sentences) != 3 or len({len(s.strip()) for s in sentences}) != 1:
        return False
    words = split_words(" ".join(sentences))
    return len(words) == len(set(words))


# --- words ----------------------------------------------------------------------------------------------------


@register("ifbench", "words:alphabet")
def alphabet(response: str) -> bool:
    """Consecutive words start with consecutive letters of the alphabet, wrapping from z to a."""
    words = strip_punctuation(remove_punctuation(response)).split()
    if not words:
        return False
    letter = words[0][0].lower()
    if letter not in string.ascii_lowercase:
        return False
    for word in words[1:]:
        word = strip_punctuation(word).lower()
        if not word:
            continue
        letter = string.ascii_lowercase[(string.ascii_lowercase.index(letter) + 1) % 26]
        if word[0] != letter:
            return False
    return True


@register("ifbench", "words:vowel")
def vowel(response: str) -> bool:
    """One paragraph (no newline) using at most three of the vowels a, e, i, o, u."""
    lines = response.strip().split("\n")
    return len(lines) == 1 and len(set(lines[0].lower()) & set("aeiou")) <= 3


@register("ifbench", "words:consonants")
def consonants(response: str) -> bool:
    consonant = set("bcdfghjklmnpqrstvwxyz")
    return all(
        any(a in consonant and b in consonant for a, b in zip(word, word[1:], strict=False))
        for word in response.lower().strip().split()
    )


@register("ifbench", "words:palindrome")
def palindrome(response: str) -> bool:
    words = remove_punctuation(response).lower().split()
    return sum(1 for word in words if len(word) >= 5 and word == word[::-1]) >= 10


@register("ifbench", "words:prime_lengths")
def prime_lengths(response: str) -> bool:
    return all(len(word) in PRIME_LENGTHS for word in remove_punctuation(response).split())


@register("ifbench", "words:repeats")
def repeats(response: str, *, small_n: int) -> bool:
    return all(count <= small_n for count in Counter(split_words(response)).values())


@register("ifbench", "words:odd_even_syllables")
def odd_even_syllables(response: str) -> bool:
    import syllapy

    words = remove_punctuation(response).lower().split()
    parities = [syllapy.count(word) % 2 for word in words]
    return all(a != b for a, b in zip(parities, parities[1:], strict=False))


@register("ifbench", "words:last_first")
def last_first(response: str) -> bool:
    """The last word of each sentence is the first word of the next one (case-insensitive)."""
    sentences = split_sentences(response)
    for current, following in zip(sentences, sentences[1:], strict=False):
        last_words = current.rstrip(text_utils.PUNCTUATION_AND_SPACE).split()
        first_words = following.lstrip(text_utils.PUNCTUATION_AND_SPACE).split()
        if not last_words or not first_words or last_words[-1].lower() != first_words[0].lower():
            return False
    return True


@register("ifbench", "words:paragraph_last_first")
def paragraph_last_first(response: str) -> bool:
    """Every non-empty line ends with the word it starts with (case-insensitive)."""
    for line in response.split("\n"):
        words = strip_punctuation(line.strip().lower()).split()
        if words and words[0] != words[-1]:
            return False
    return True


@register("ifbench", "words:no_consecutive")
def no_consecutive(response: str) -> bool:
    words = split_words(response)
    return all(a[0] != b[0] for a, b in zip(words, words[1:], strict=False))


@register("ifbench", "words:keywords_specific_position", validate=_positive("n", "m"))
def keywords_specific_position(response: str, *, keyword: str, n: int, m: int) -> bool:
    """Word `m` (tokens with a letter or digit) of sentence `n` is `keyword` (case-insensitive)."""
    sentences = split_sentences(response)
    if len(sentences) < n:
        return False
    words = text_utils.word_tokens_without_punctuation(sentences[n - 1])
    return len(words) >= m and words[m - 1].lower() == keyword.strip().lower()


@register("ifbench", "words:words_position")
def words_position(response: str, *, keyword: str) -> bool:
    """The second and the second-to-last word are both `keyword` (case-insensitive)."""
    words = text_utils.word_tokens_without_punctuation(response)
    target = keyword.strip().lower()
    return len(words) >= 2 and words[1].lower() == words[-2].lower() == target


# The reference tags the first token with NLTK's averaged-perceptron POS tagger, whose model is downloaded at run
# time and is not on PyPI. Without it, a token counts as a verb when it is a form of be/have/do or an English verb
# from this list in its base, -s, -ed or -ing form. Modals (can, will, should...) are not verbs (tag MD), as in
# the Penn Treebank tag set the reference relies on.
_AUXILIARY_VERBS = frozenset("am are be been being did do does doing had has have having is was were".split())
_BASE_VERBS = frozenset(
    """
    accept achieve acquire act adapt add address adjust admire admit adopt advise affect agree aim allow alter
    analyze analyse answer apply appreciate approach argue arrange ask assess assign assist assume attach attempt
    attend avoid bake balance become begin believe bind blend boil borrow break breathe bring build buy calculate
    call calm capture care carry catch celebrate change charge chase check choose clarify classify clean clear climb
    close collect combine come commit compare compile complete compose compute concentrate conclude conduct confirm
    connect consider construct consult contact continue contribute control convert convince cook copy correct count
    craft create cross cut deal decide declare decline decorate define delete deliver demonstrate describe design
    determine develop dig discover discuss display dive do draft drag draw dream drink drive drop earn eat edit
    educate eliminate embrace emphasize employ enable encourage end engage enhance enjoy ensure enter establish
    estimate evaluate examine exercise expand expect experience experiment explain explore express extend extract
    face fear feel fight figure fill find finish fix fly focus fold follow forget forgive form formulate gather
    generate get give go grab grant grow guess guide handle hang hear help hide highlight hire hold hope identify
    ignore illustrate imagine implement improve include increase indicate inform insert inspire install integrate
    interpret introduce invest investigate invite join judge jump justify keep kick kill know label lead learn
    leave lend let lie lift limit link list listen live locate look lose love maintain make manage map mark match
    measure meet memorize mention merge mix modify monitor move name navigate need note notice observe obtain offer
    open operate order organize organise outline overcome paint participate pass pause pay perform persuade pick
    picture place plan plant play point pour practice practise predict prepare present preserve press prevent print
    prioritize proceed process produce promote protect prove provide publish pull purchase push put question raise
    rank rate reach read realize realise recall receive recognize recommend record recover reduce refer reflect
    refuse regard reject relax release rely remain remember remind remove rent repair repeat rephrase replace reply
    report represent request require research reset resolve respect respond rest restore retain retrieve return
    reveal review revise rewrite ride rise run save say schedule search see seek select sell send separate serve set
    settle shape share shift show sing sit skip sleep slow smile solve sort speak spend split start stay step stick
    stop store stretch strive study submit suggest summarize summarise supply support suppose surround survive swim
    take talk taste teach tell test thank think throw track trade train transfer transform translate travel treat
    try turn understand unite unlock update upgrade use utilize validate value verify visit visualize wait wake
    walk want warm wash watch wear weigh welcome win wish wonder work worry wrap write
    """.split()
)


def _is_verb_form(word: str) -> bool:
    word = word.lower()
    if word in _AUXILIARY_VERBS or word in _BASE_VERBS:
        return True
    for suffix, restore in (("ing", ("", "e")), ("ed", ("", "e")), ("es", ("",)), ("s", ("",)), ("ies", ("y",))):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if any(stem + end in _BASE_VERBS for end in restore):
                return True
            if suffix in ("ing", "ed") and len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in _BASE_VERBS:
                return True  # doubled consonant: running, stopped
    return False


@register("ifbench", "words:start_verb")
def start_verb(response: str) -> bool:
    """The first token is a verb. Approximation: see `_BASE_VERBS`; the reference uses NLTK's POS tagger."""
    tokens = text_utils.word_tokenize(response)
    return bool(tokens) and _is_verb_form(tokens[0])


# --- sentence -------------------------------------------------------------------------------------------------


@register("ifbench", "sentence:alliteration_increment")
def alliteration_increment(response: str) -> bool:
    """Each sentence has more alliterating words than the one before. A run of k ≥ 2 consecutive words with the
    same first character counts k; runs add up."""
    previous = -1
    for sentence in split_sentences(response):
        words = [w.lstrip(text_utils.PUNCTUATION_AND_SPACE) for w in sentence.lower().split()]
        words = [w for w in words if w]
        score, in_run = 0, False
        for a, b in zip(words, words[1:], strict=False):
            if a[0] == b[0]:
                score += 1 if in_run else 2
                in_run = True
            else:
                in_run = False
        if score <= previous:
            return False
        previous = score
    return True


@register("ifbench", "sentence:keyword", validate=_positive("N"))
def sentence_keyword(response: str, *, word: str, N: int) -> bool:
    sentences = split_sentences(response)
    return len(sentences) >= N and _whole_word(word).search(sentences[N - 1]) is not None


@register("ifbench", "sentence:increment")
def sentence_increment(response: str, *, small_n: int) -> bool:
    """Each sentence has exactly `small_n` more words (punctuation deleted, whitespace split) than the one before."""
    counts = [len(remove_punctuation(sentence).split()) for sentence in split_sentences(response)]
    if not counts:
        return False
    return all(b == a + small_n for a, b in zip(counts, counts[1:], strict=False))


# --- repeat ---------------------------------------------------------------------------------------------------


@register("ifbench", "repeat:repeat_change")
def repeat_change(response: str, *, prompt_to_repeat: str) -> bool:
    """The request repeated with (only) its first word changed: all words after the first are the same."""
    if response == prompt_to_repeat:
        return False
    return prompt_to_repeat.split()[1:] == response.split()[1:]


@register("ifbench", "repeat:repeat_simple")
def repeat_simple(response: str) -> bool:
    return response.strip().lower() == REPEAT_SIMPLE_SENTENCE.lower()


@register("ifbench", "repeat:repeat_span")
def repeat_span(response: str, *, prompt_to_repeat: str, n_start: int, n_end: int) -> bool:
    """Exactly the whitespace words `n_start`..`n_end` (0-based, inclusive) of the request (case-insensitive)."""
    span = " ".join(prompt_to_repeat.split()[n_start : n_end + 1])
    return response.strip().lower() == span.strip().lower()
