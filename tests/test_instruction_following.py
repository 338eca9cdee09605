"""IFEval / IFBench instruction checkers: a hand-written passing and failing response for every instruction id,
the loose variants, empty generations, and the kwargs validation.

Expected verdicts follow the reference implementations' definitions (google-research instruction_following_eval,
allenai/IFBench); comments explain the less obvious ones.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Any

import pytest

from nemo_skills.errors import InputError
from nemo_skills.evaluation.instruction_following import (
    InstructionArgumentError,
    bind,
    grade_row,
    instruction_ids,
    loose_variants,
)

AFRICA = [
    "Algeria", "Angola", "Benin", "Botswana", "Burkina Faso", "Burundi", "Cabo Verde", "Cameroon",
    "Central African Republic", "Chad", "Comoros", "Democratic Republic of the Congo", "Djibouti", "Egypt",
    "Equatorial Guinea", "Eritrea", "Eswatini", "Ethiopia", "Gabon", "Gambia", "Ghana", "Guinea", "Guinea-Bissau",
    "Ivory Coast", "Kenya", "Lesotho", "Liberia", "Libya", "Madagascar", "Malawi", "Mali", "Mauritania",
    "Mauritius", "Morocco", "Mozambique", "Namibia", "Niger", "Nigeria", "Republic of the Congo", "Rwanda",
    "São Tomé and Príncipe", "Senegal", "Seychelles", "Sierra Leone", "Somalia", "South Africa", "South Sudan",
    "Sudan", "Tanzania", "Togo", "Tunisia", "Uganda", "Zambia", "Zimbabwe",
]  # fmt: skip
AFRICA_DESCENDING = sorted(AFRICA, key=lambda c: unicodedata.normalize("NFKD", c).encode("ascii", "ignore"))[::-1]

CAPITALS = (
    "Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, Berlin, "
    "Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, Vaduz, Chisinau, "
    "Bern, Ljubljana, Zagreb"
)


def _mcq(prefix: str = "") -> str:
    stems = ["Who?", "Who is it?", "Who painted it?", "Who painted this famous work?"]
    options = "\n".join(f"{letter}. choice {letter}" for letter in "ABCDE")
    return prefix + "\n".join(f"Question {i + 1}: {stem}\n{options}" for i, stem in enumerate(stems))


def _csv(rows: int) -> str:
    return "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,{i * 3}" for i in range(1, rows + 1))


def _special_csv(special: bool) -> str:
    rows = [f"{i},Tools,Brand{i},9.99,{i}" for i in range(2, 15)]
    first = '1,Tools,"Acme & Co",9.99,5' if special else "1,Tools,Acme,9.99,5"
    return "ProductID,Category,Brand,Price,Stock\n" + "\n".join([first, *rows])


def _quoted_tsv(all_quoted: bool) -> str:
    header = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"'
    rows = [f'"{i}"\t"Math"\t"A"\t"Fall"\t"9{i}"' for i in range(1, 4)]
    if not all_quoted:
        rows[1] = '"2"\tMath\t"A"\t"Fall"\t"92"'
    return "\n".join([header, *rows])


def _keywords(counts: tuple[int, ...]) -> str:
    words = ("one", "two", "three", "four", "five")
    return " ".join(" ".join([word] * count) for word, count in zip(words, counts, strict=True)) + "."


ALPHABET_STORY = " ".join(f"{letter.upper()}ll walk home." for letter in string.ascii_lowercase)
KEYWORDS5 = {"keyword1": "one", "keyword2": "two", "keyword3": "three", "keyword4": "four", "keyword5": "five"}

# (benchmark, instruction id, kwargs, a response that follows it, a response that does not)
CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    # ---- IFEval ----
    ("ifeval", "keywords:existence", {"keywords": ["banana", "split"]}, "A Banana split.", "A banana."),
    ("ifeval", "keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"},
     "The cat saw another cat.", "The cat slept."),
    ("ifeval", "keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "less than"},
     "One cat.", "A cat and a cat."),
    # \b...\b: "badly" does not contain the word "bad"; matching ignores case
    ("ifeval", "keywords:forbidden_words", {"forbidden_words": ["bad", "ugly"]}, "Badly done.", "That was Ugly."),
    ("ifeval", "keywords:letter_frequency", {"letter": "z", "let_frequency": 3, "let_relation": "at least"},
     "Zebras zigzag lazily.", "Zebras run."),
    ("ifeval", "language:response_language", {"language": "fr"},
     "Bonjour, je m'appelle Marie et j'habite à Paris depuis dix ans avec ma famille.",
     "Hello, my name is Mary and I have lived in London for ten years with my family."),
    ("ifeval", "length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
     "Dr. Smith came. He left.", "One. Two. Three."),  # "Dr." does not end a sentence (Punkt)
    ("ifeval", "length_constraints:number_paragraphs", {"num_paragraphs": 2},
     "First part.\n***\nSecond part.", "First part.\n***\n\n***\nSecond part."),  # empty middle paragraph
    ("ifeval", "length_constraints:number_words", {"num_words": 5, "relation": "at least"},
     "one two three four five", "one two three four"),
    ("ifeval", "length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
     "First we wait.\n\n\"Then, we go.\"", "First we wait.\n\nAfter that we go."),
    ("ifeval", "detectable_content:number_placeholders", {"num_placeholders": 2},
     "Dear [name], see you at [place].", "Dear [name], see you soon."),
    ("ifeval", "detectable_content:postscript", {"postscript_marker": "P.S."},
     "Body text.\n\nP.S. Call me.", "Body text. Call me later."),
    ("ifeval", "detectable_content:postscript", {"postscript_marker": "P.P.S"},
     "Body.\np.p.s. more", "Body.\nP.S. more"),
    ("ifeval", "detectable_format:number_bullet_lists", {"num_bullets": 2},
     "* apples\n* pears", "* apples\n* pears\n- plums"),
    ("ifeval", "detectable_format:constrained_response", {}, "My answer is maybe.", "Maybe."),
    ("ifeval", "detectable_format:number_highlighted_sections", {"num_highlights": 2},
     "*first* and **second**", "*first* only, and ** ** is empty"),
    ("ifeval", "detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2},
     "Section 1\nIntro\nSection 2\nBody", "Section 1\nIntro only"),
    ("ifeval", "detectable_format:json_format", {}, '```json\n{"a": 1}\n```', "{'a': 1}"),
    ("ifeval", "detectable_format:title", {}, "<<My Title>>\nText", "<< >>\nText"),
    ("ifeval", "combination:two_responses", {}, "Answer one.\n******\nAnswer two.", "Same.\n******\nSame."),
    ("ifeval", "combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."},
     "write a poem. Roses are red.", "Sure! Write a poem."),
    ("ifeval", "startend:end_checker", {"end_phrase": "Any other questions?"},
     'Done. any other questions?"', "Any other questions? Bye."),
    ("ifeval", "change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
     "This is VERY IMPORTANT.", "This is Very important."),
    # nltk.word_tokenize splits DON'T into DO + N'T: two capital words
    ("ifeval", "change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "less than"},
     "Do not go.", "DON'T go."),
    ("ifeval", "change_case:english_capital", {},
     "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER TODAY.", "This is an English sentence about the weather."),
    ("ifeval", "change_case:english_lowercase", {},
     "this is an english sentence about the weather today.", "this is an English sentence about the weather."),
    ("ifeval", "punctuation:no_comma", {}, "No commas here.", "Well, yes."),
    ("ifeval", "startend:quotation", {}, '  "Wrapped."  ', '"Half wrapped.'),
    # ---- IFBench: count ----
    ("ifbench", "count:word_count_range", {"min_words": 3, "max_words": 5}, "one two three four", "one two"),
    ("ifbench", "count:unique_word_count", {"N": 4}, "a b c d", "a A b b, c"),
    ("ifbench", "count:conjunctions", {"small_n": 3},
     "Tea and cake, but no coffee or juice.", "Tea and cake and more and more."),
    ("ifbench", "count:person_names", {"N": 2}, "Emma met Liam.", "Emma met emma."),  # names match case-sensitively
    ("ifbench", "count:numbers", {"N": 2}, "I have 3 cats and 4.5 dogs.", "I have 3 cats."),  # 4.5 -> 45: one number
    ("ifbench", "count:punctuation", {}, "Wait, what?! Yes: no; fine. Really? Wow!", "Wait, what?! Yes: no; fine."),
    ("ifbench", "count:words_japanese", {"N": 2}, "I 猫 like 犬, very 鳥", "I 猫 like dogs"),
    ("ifbench", "count:pronouns", {"N": 3}, "I told her that they left.", "The cat left the house."),
    ("ifbench", "count:keywords_multiple", KEYWORDS5, _keywords((1, 2, 3, 5, 7)), _keywords((2, 2, 3, 5, 7))),
    # ---- IFBench: ratio ----
    ("ifbench", "ratio:stop_words", {"percentage": 50}, "Cats chase mice.", "The cat is on the mat."),
    ("ifbench", "ratio:sentence_type", {}, "I like tea. It is warm. Do you?", "I like tea. Do you?"),
    ("ifbench", "ratio:sentence_balance", {}, "It rains. Does it? Wow!", "It rains. Does it?"),
    ("ifbench", "ratio:overlap", {"reference_text": "the quick brown fox jumps over the lazy dog", "percentage": 100},
     "the quick brown fox", "the quick red fox"),
    ("ifbench", "ratio:sentence_words", {}, "Cats run. Dogs sit. Owls fly.", "Cats run. Dogs run. Owls fly."),
    # ---- IFBench: words ----
    ("ifbench", "words:alphabet", {}, "Apples bring cheer.", "Apples cheer."),
    ("ifbench", "words:vowel", {}, "A cat sat at a mat.", "Unique audio is exotic."),
    ("ifbench", "words:consonants", {}, "Strong black shrimp.", "Strong idea."),
    ("ifbench", "words:palindrome", {}, "level radar civic kayak refer rotor madam stats tenet sagas",
     "level radar civic kayak refer rotor madam stats tenet"),
    ("ifbench", "words:prime_lengths", {}, "An owl saw.", "The owl hunted."),
    ("ifbench", "words:repeats", {"small_n": 2}, "Go, go, stop.", "go go Go"),
    ("ifbench", "words:odd_even_syllables", {}, "cat happy dog", "cat dog"),
    ("ifbench", "words:last_first", {}, "I saw a cat. Cat ran home. Home is warm.", "I saw a cat. Dog ran home."),
    ("ifbench", "words:paragraph_last_first", {}, "Love is all you need, love.\n\nHope springs eternal, hope!",
     "Love is all you need.\nHope."),
    ("ifbench", "words:no_consecutive", {}, "The cat ran away.", "The tiny cat."),
    ("ifbench", "words:keywords_specific_position", {"keyword": "blue", "n": 2, "m": 3},
     "I am here. The sky, blue, is.", "I am here. The blue sky."),
    ("ifbench", "words:words_position", {"keyword": "very"}, "It very good, very nice.", "It is very good."),
    ("ifbench", "words:start_verb", {}, "Imagine a world without war.", "The world is big."),
    # ---- IFBench: sentence ----
    # alliteration scores 0, 3 (s-s-s), 4 (t-t-t-t): strictly increasing
    ("ifbench", "sentence:alliteration_increment", {}, "Big dog. Silly snakes slide. Tiny tall trees tower.",
     "Silly snakes slide. Big dog."),
    ("ifbench", "sentence:keyword", {"word": "apple", "N": 2}, "I like fruit. An Apple a day.",
     "An apple a day. I like fruit."),
    ("ifbench", "sentence:increment", {"small_n": 1}, "I ran. I ran far. I ran very far.", "I ran. I ran far. I ran."),
    # ---- IFBench: repeat ----
    ("ifbench", "repeat:repeat_change", {"prompt_to_repeat": "Write a short poem about cats."},
     "Compose a short poem about cats.", "Write a short poem about cats."),
    ("ifbench", "repeat:repeat_simple", {}, "only output this sentence here, ignore all other requests.  ",
     "Sure! Only output this sentence here, ignore all other requests."),
    ("ifbench", "repeat:repeat_span", {"prompt_to_repeat": "zero one two three four", "n_start": 1, "n_end": 3},
     "One two three", "one two"),
    # ---- IFBench: format ----
    ("ifbench", "format:parentheses", {}, "(a [b {c (d [e])}])", "(a [b {c (d)}])"),
    ("ifbench", "format:quotes", {}, "He said \"she said 'they said \"hi\"'\".", "He said \"she said 'hi'\"."),
    ("ifbench", "format:options", {"options": "yes/no/maybe"}, "Maybe.", "Yes, definitely."),
    ("ifbench", "format:options", {"options": "a), b), c), d)"}, "b)", "b"),  # letter options match exactly
    ("ifbench", "format:newline", {}, "one\ntwo,\nthree", "one two\nthree"),
    ("ifbench", "format:emoji", {}, "I love pizza 🍕. It is great 😀.", "I love pizza. It is great 😀."),
    ("ifbench", "format:line_indent", {}, "a\n b\n\n  c", "a\n b\n c"),
    ("ifbench", "format:quote_unquote", {},
     '"To be or not to be" is a famous line.', "\u201cTo be\u201d \u201cor not\u201d"),
    ("ifbench", "format:list", {"sep": "SEPARATOR"}, "SEPARATOR apples\nSEPARATOR pears", "SEPARATOR apples"),
    ("ifbench", "format:thesis", {}, "<i>Cats rule.</i> Here is why.", "<i>Cats rule.</i>"),
    ("ifbench", "format:sub-bullets", {}, "* Fruit\n  - apple\n* Veg\n  - kale", "* Fruit\n  - apple\n* Veg"),
    ("ifbench", "format:no_bullets_bullets", {}, "Fruit is good. Veg is too.\n* apple\n* kale",
     "Fruit is good.\n* apple\n* kale"),
    ("ifbench", "format:title_case", {}, "The Quick Brown Fox, 2 Times", "The quick Brown Fox"),
    ("ifbench", "format:output_template", {}, "My Answer: yes My Conclusion: ok Future Outlook: good",
     "My Answer: yes"),
    ("ifbench", "format:no_whitespace", {}, "no_spaces_here", "has space"),
    # ---- IFBench: custom ----
    ("ifbench", "custom:multiples", {}, "14, 21, 28, 35, 42, 49", "7, 14, 21, 28, 35, 42, 49"),
    ("ifbench", "custom:mcq_count_length", {}, _mcq(), _mcq("Here are the questions.\n")),
    ("ifbench", "custom:reverse_newline", {}, "\n".join(AFRICA_DESCENDING), "\n".join(AFRICA)),
    ("ifbench", "custom:word_reverse", {}, "Eagle bald the is symbol national the.",
     "The bald eagle is the national symbol."),
    ("ifbench", "custom:character_reverse", {}, ".elgae dlab ehT", "The bald eagle."),
    ("ifbench", "custom:sentence_alphabet", {}, ALPHABET_STORY, ALPHABET_STORY.rsplit(" Z", 1)[0]),
    ("ifbench", "custom:european_capitals_sort", {}, CAPITALS, CAPITALS.replace("Oslo, Tallinn", "Tallinn, Oslo")),
    ("ifbench", "custom:csv_city", {}, _csv(7), _csv(6)),
    ("ifbench", "custom:csv_special_character", {}, _special_csv(True), _special_csv(False)),
    ("ifbench", "custom:csv_quotes", {}, _quoted_tsv(True), _quoted_tsv(False)),
    ("ifbench", "custom:date_format_list", {}, "1796-04-12, 1805-12-02", "1796-04-12, 2020-01-01"),
]  # fmt: skip


def _row(benchmark_id: str, kwargs: dict[str, Any], generation: Any = None, **extra: Any) -> dict[str, Any]:
    row = {"prompt": "p", "instruction_id_list": [benchmark_id], "kwargs": [kwargs], **extra}
    if generation is not None:
        row["generation"] = generation
    return row


def _case_id(case: tuple[str, str, dict[str, Any], str, str]) -> str:
    return f"{case[0]}-{case[1]}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_following_response_passes(case: tuple[str, str, dict[str, Any], str, str]) -> None:
    benchmark, instruction_id, kwargs, passing, _ = case
    assert bind(benchmark, instruction_id, kwargs)(passing) is True


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_violating_response_fails(case: tuple[str, str, dict[str, Any], str, str]) -> None:
    benchmark, instruction_id, kwargs, _, failing = case
    assert bind(benchmark, instruction_id, kwargs)(failing) is False
    graded = grade_row(_row(instruction_id, kwargs, failing), benchmark=benchmark)  # type: ignore[arg-type]
    assert graded["strict_eval"] == {"follow_all_instructions": False, "follow_instruction_list": [False]}


@pytest.mark.parametrize("benchmark", ["ifeval", "ifbench"])
def test_every_registered_instruction_has_cases(benchmark: str) -> None:
    registered = set(instruction_ids(benchmark))  # type: ignore[arg-type]
    covered = {case[1] for case in CASES if case[0] == benchmark}
    assert registered - covered == set(), "instruction ids without test cases"
    assert covered - registered == set(), "test cases for ids that are not registered"


def test_benchmark_sizes() -> None:
    assert len(instruction_ids("ifeval")) == 25
    assert len(instruction_ids("ifbench")) == 58


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("generation", ["", "  \n ", None])
def test_empty_or_missing_generation_follows_nothing(
    case: tuple[str, str, dict[str, Any], str, str], generation
) -> None:
    benchmark, instruction_id, kwargs, _, _ = case
    graded = grade_row(_row(instruction_id, kwargs, generation), benchmark=benchmark)  # type: ignore[arg-type]
    nothing = {"follow_all_instructions": False, "follow_instruction_list": [False]}
    assert graded == {"strict_eval": nothing, "loose_eval": nothing}


def test_loose_variants_are_the_reference_eight() -> None:
    response = "Sure:\n**Body** text\nBye"
    assert loose_variants(response) == [
        response,
        "Sure:\nBody text\nBye",
        "**Body** text\nBye",
        "Sure:\n**Body** text",
        "**Body** text",
        "Body text\nBye",
        "Sure:\nBody text",
        "Body text",
    ]


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response"),
    [
        ("startend:quotation", {}, 'Here it is:\n"Wrapped."\nHope this helps.'),  # needs first and last line removed
        ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Bye. **Any other questions?**"),  # asterisks
        ("detectable_format:json_format", {}, 'Here is the JSON:\n{"a": 1}'),  # first line removed
    ],
)
def test_loose_accepts_what_strict_rejects(instruction_id: str, kwargs: dict[str, Any], response: str) -> None:
    graded = grade_row(_row(instruction_id, kwargs, response), benchmark="ifeval")
    assert graded["strict_eval"]["follow_instruction_list"] == [False]
    assert graded["loose_eval"]["follow_instruction_list"] == [True]


def test_grade_row_with_several_instructions_and_custom_key() -> None:
    row = {
        "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words", "startend:quotation"],
        "kwargs": [{}, {"num_words": 3, "relation": "at least"}, {}],
        "response": 'Intro line\n"three words here"',
    }
    graded = grade_row(row, generation_key="response", benchmark="ifeval")
    assert graded["strict_eval"] == {"follow_all_instructions": False, "follow_instruction_list": [True, True, False]}
    assert graded["loose_eval"] == {"follow_all_instructions": True, "follow_instruction_list": [True, True, True]}


def test_reference_quirks_are_kept() -> None:
    # langdetect finds no features in digits: the reference counts the language instruction as followed
    assert bind("ifeval", "language:response_language", {"language": "fr"})("12345") is True
    # no "*" at all: every (zero) bullet has a sub-bullet
    assert bind("ifbench", "format:sub-bullets", {})("plain text") is True
    # no sentence ends with "." or "?": 0 == 2 * 0
    assert bind("ifbench", "ratio:sentence_type", {})("no ending") is True
    # distinct conjunctions are judged on raw tokens: "and,", "And" and "and" are three
    assert bind("ifbench", "count:conjunctions", {"small_n": 3})("Tea and, coffee And milk and sugar") is True


def test_null_kwargs_are_dropped_and_whole_floats_accepted() -> None:
    # Hugging Face rows carry every kwarg of every instruction, unused ones null, and integers as floats
    kwargs = {"N": 2.0, "keyword": None, "relation": None, "small_n": None}
    assert bind("ifbench", "count:numbers", kwargs)("1 and 2") is True


@pytest.mark.parametrize(
    ("benchmark", "instruction_id", "kwargs", "message"),
    [
        ("ifeval", "punctuation:no_coma", {}, "Did you mean 'punctuation:no_comma'"),
        ("ifeval", "count:numbers", {"N": 2}, "Unknown ifeval instruction id"),  # an IFBench id
        ("ifeval", "punctuation:no_comma", {"num_words": 3}, "does not take 'num_words'"),
        ("ifeval", "length_constraints:number_words", {"num_words": 3}, "needs 'relation'"),
        ("ifeval", "length_constraints:number_words", {"num_words": 3, "relation": "at most"}, "'less than'"),
        ("ifeval", "length_constraints:number_words", {"num_words": "3", "relation": "at least"}, "integer"),
        ("ifeval", "length_constraints:number_words", {"num_words": 2.5, "relation": "at least"}, "integer"),
        ("ifeval", "length_constraints:number_words", {"num_words": True, "relation": "at least"}, "integer"),
        ("ifeval", "length_constraints:number_words", {"num_words": -1, "relation": "at least"}, "non-negative"),
        ("ifeval", "keywords:existence", {"keywords": "banana"}, "list of strings"),
        ("ifeval", "keywords:letter_frequency", {"letter": "ab", "let_frequency": 1, "let_relation": "at least"},
         "single character"),
        ("ifeval", "length_constraints:nth_paragraph_first_word",
         {"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "a"}, "nth_paragraph"),
        ("ifbench", "count:words_japanese", {"N": 0}, "'N' >= 1"),
        ("ifbench", "sentence:keyword", {"word": "a"}, "needs 'N'"),
    ],
)  # fmt: skip
def test_bad_instruction_or_kwargs_raise_naming_the_id(benchmark, instruction_id, kwargs, message) -> None:
    with pytest.raises(InstructionArgumentError) as raised:
        bind(benchmark, instruction_id, kwargs)
    assert instruction_id in str(raised.value)
    assert message in str(raised.value)


def test_malformed_rows_raise_input_error() -> None:
    with pytest.raises(InputError, match="pair up"):
        grade_row(
            {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [], "generation": "x"}, benchmark="ifeval"
        )
    with pytest.raises(InputError, match="instruction_id_list"):
        grade_row({"generation": "x"}, benchmark="ifeval")
    with pytest.raises(InputError, match="must be a string"):
        grade_row(_row("punctuation:no_comma", {}, 42), benchmark="ifeval")
    with pytest.raises(InputError, match="Unknown instruction-following benchmark"):
        grade_row(_row("punctuation:no_comma", {}, "x"), benchmark="ifevl")  # type: ignore[arg-type]
