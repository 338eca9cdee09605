"""IFBench (AllenAI) out-of-distribution instructions: format and single-prompt ("custom") constraints.

Same ids, kwargs and semantics as the reference verifiers, quirks included (documented per checker); where the
reference would crash on a response, the checker returns False instead.
"""

from __future__ import annotations

import csv
import io
import re
import string
import unicodedata

from nemo_skills.evaluation.instruction_following import text_utils
from nemo_skills.evaluation.instruction_following.registry import register
from nemo_skills.evaluation.instruction_following.text_utils import remove_punctuation, split_sentences

EUROPEAN_CAPITALS_BY_LATITUDE = (
    "Reykjavik Helsinki Oslo Tallinn Stockholm Riga Moscow Copenhagen Vilnius Minsk Dublin Berlin Amsterdam Warsaw "
    "London Brussels Prague Luxembourg Paris Vienna Bratislava Budapest Vaduz Chisinau Bern Ljubljana Zagreb"
).split()

CITY_CSV_HEADER = ["ID", "Country", "City", "Year", "Count"]
_SPECIAL_CSV_HEADER = re.compile(
    r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),[ \t]*(Price|"Price"),'
    r'[ \t]*(Stock|"Stock")$'
)
_QUOTES_CSV_HEADER = re.compile(
    r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *(Semester|"Semester")\t *(Score|"Score")$'
)


def _to_ascii(text: str) -> str:
    """Diacritics removed: NFKD, then anything non-ASCII dropped ('São Tomé' -> 'Sao Tome')."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _csv_rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


# --- format ---------------------------------------------------------------------------------------------------


@register("ifbench", "format:parentheses")
def parentheses(response: str) -> bool:
    """Brackets ``()[]{}`` nested at least 5 deep and closed. A closing bracket that does not match the innermost
    open one resets the count; success is declared at the first close after reaching depth 5."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    deepest = 0
    for char in response:
        if char in "([{":
            stack.append(char)
            deepest = max(deepest, len(stack))
        elif char in pairs:
            if stack and stack[-1] == pairs[char]:
                stack.pop()
                if deepest >= 5:
                    return True
            else:
                stack, deepest = [], 0
    return False


@register("ifbench", "format:quotes")
def quotes(response: str) -> bool:
    """Quotes nested 3 deep: a quote char equal to the innermost open one closes it, any other quote char opens a
    new level; success when a close leaves us 3 or more levels below the deepest point reached."""
    stack: list[str] = []
    deepest = 0
    for char in response:
        if stack and char == stack[-1]:
            stack.pop()
            if deepest - len(stack) >= 3:
                return True
        elif char in "\"'":
            stack.append(char)
            deepest = max(deepest, len(stack))
    return False


@register("ifbench", "format:options")
def options(response: str, *, options: str) -> bool:
    """The response is one of the options. Options are split on "/", else on "or" (anywhere, even inside a word),
    else on ","; letter options (a, b, c...) must match exactly, text options ignoring case and edge punctuation."""
    if "/" in options:
        separator = "/"
    elif "or" in options:
        separator = "or"
    else:
        separator = ","
    choices = [option.strip() for option in options.split(separator)]
    if re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", options):
        return response in choices
    answer = text_utils.strip_punctuation(response).lower()
    return any(text_utils.strip_punctuation(option).lower() == answer for option in choices)


@register("ifbench", "format:newline")
def newline(response: str) -> bool:
    """Each word on its own line: as many non-empty lines as words (punctuation deleted first)."""
    text = remove_punctuation(response).strip()
    lines = [line for line in text.split("\n") if line != ""]
    return len(lines) == len(text.split())


def _is_emoji(char: str) -> bool:
    import emoji

    return emoji.is_emoji(char)


def _bare(sentence: str) -> str | None:
    """The sentence with punctuation deleted and whitespace stripped, or None when nothing is left."""
    return remove_punctuation(sentence).strip() or None


@register("ifbench", "format:emoji")
def emoji_sentences(response: str) -> bool:
    """Every sentence ends with an emoji (its last or second-to-last character after deleting punctuation), or the
    emoji starts the next sentence (Punkt may split after the period, before the emoji)."""
    sentences = split_sentences(response)
    for index, sentence in enumerate(sentences):
        text = _bare(sentence)
        if text is None:
            return False
        if _is_emoji(text[-1]) or _is_emoji(text[-2] if len(text) > 1 else text[-1]):
            continue
        if index == len(sentences) - 1:
            return False
        following = _bare(sentences[index + 1])
        if following is None or not _is_emoji(following[0]):
            return False
    return True


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@register("ifbench", "format:line_indent")
def line_indent(response: str) -> bool:
    """Each line indented (spaces) deeper than the one before. Blank lines are dropped as the reference drops
    them: removing while iterating, so a blank line right after a removed one survives (and then fails)."""
    lines = response.split("\n")
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            lines.remove(lines[index])  # the first equal line, as list.remove does; then the iteration moves on
        index += 1
    return all(_indent(b) > _indent(a) for a, b in zip(lines, lines[1:], strict=False))


@register("ifbench", "format:quote_unquote")
def quote_unquote(response: str) -> bool:
    """No two quoted phrases back to back, and the text does not end with a quote (ignoring trailing digits and
    non-quote punctuation), after normalising curly double quotes and deleting whitespace and '"'."""
    text = response.replace("\u201c", '"').replace("\u201d", '"').replace("'\"'", "")
    text = "".join(text.split())
    if '""' in text:
        return False
    stripped = text.strip(string.digits + string.punctuation.replace('"', ""))
    return not (stripped and stripped[-1] == '"')


@register("ifbench", "format:list")
def special_list(response: str, *, sep: str) -> bool:
    """The custom bullet marker `sep` appears at least twice (anywhere, as in the reference)."""
    return len(re.findall(re.escape(sep), response)) >= 2


@register("ifbench", "format:thesis")
def thesis(response: str) -> bool:
    """An HTML-italic thesis followed by more text. Offsets are those of ``<i>``/``</i>`` even for ``<em>``, as in
    the reference."""
    start = response.find("<i>")
    if start == -1:
        start = response.find("<em>")
        if start == -1:
            return False
    text = response[start:]
    end = text.find("</i>")
    if end == -1:
        end = text.find("</em>")
        if end == -1:
            return False
    return bool(text[3:end].strip()) and text[end + 4 :].strip() != ""


@register("ifbench", "format:sub-bullets")
def sub_bullets(response: str) -> bool:
    """Every ``*`` is followed, before the next ``*``, by a ``-`` (true when there is no ``*``)."""
    return all("-" in part for part in response.split("*")[1:])


@register("ifbench", "format:no_bullets_bullets")
def no_bullets_bullets(response: str) -> bool:
    """At least two sentences, then at least two ``*`` lines and nothing else. As in the reference, a line whose
    sentence split is empty (a blank line) before the bullets forbids further prose, and any non-bullet line after
    the first bullet (a trailing blank line too) fails."""
    prose_allowed = True
    sentences = bullets = 0
    for line in response.split("\n"):
        if line.strip().startswith("*"):
            prose_allowed = False
            if sentences < 2:
                return False
            bullets += 1
        elif prose_allowed:
            found = split_sentences(line.strip())
            sentences += len(found)
            prose_allowed = bool(found)
        else:
            return False
    return bullets >= 2


@register("ifbench", "format:title_case")
def title_case(response: str) -> bool:
    """No word token (starting with a letter) is all-lowercase, or lowercase-initial with an uppercase rest."""
    for word in text_utils.word_tokenize(response):
        if not word or not word[0].isalpha():
            continue
        if len(word) == 1:
            if word.islower():
                return False
            continue
        head, rest = word[0], word[1:]
        if head.isupper() and rest.islower():
            continue
        if head.islower() and (rest.isupper() or rest.islower()):
            return False
    return True


@register("ifbench", "format:output_template")
def output_template(response: str) -> bool:
    return all(label in response for label in ("My Answer:", "My Conclusion:", "Future Outlook:"))


@register("ifbench", "format:no_whitespace")
def no_whitespace(response: str) -> bool:
    return not any(char.isspace() for char in response)


# --- custom (one prompt each) ---------------------------------------------------------------------------------


@register("ifbench", "custom:multiples")
def multiples(response: str) -> bool:
    """The numbers in the response are exactly 14, 21, 28, 35, 42, 49 (multiples of 7 from 10 to 50)."""
    return re.findall(r"\d+", response.replace(",", ", ")) == [str(n) for n in range(14, 51, 7)]


@register("ifbench", "custom:mcq_count_length")
def mcq_count_length(response: str) -> bool:
    """Starts with "Question"; four questions, each with five A-E options, question texts strictly growing."""
    if not response.startswith("Question"):
        return False
    questions = re.split(r"\n*(?:Question \d+[\.|\):;]?\s*)", response)
    if questions[0] == "":
        questions = questions[1:]
    questions = [q.strip() for q in questions if q.strip()]
    if len(questions) != 4:
        return False
    lengths = []
    for question in questions:
        text, option_count, in_options = "", 0, False
        for line in question.split("\n"):
            if re.match(r"^[A-Ea-e][\.|\)]\s*\w+", line.strip()):
                option_count += 1
                in_options = True
            elif not in_options:
                text += " " + line.strip()
        if option_count != 5:
            return False
        lengths.append(len(text.strip()))
    return all(a < b for a, b in zip(lengths, lengths[1:], strict=False))


@register("ifbench", "custom:reverse_newline")
def reverse_newline(response: str) -> bool:
    """From the line containing "Zimbabwe" on, at least 52 non-empty lines in reverse alphabetical order."""
    edge = string.punctuation + " "
    lines = [line.strip(edge) for line in response.split("\n") if line.strip(edge)]
    start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
    if start is None or len(lines) - start < 52:
        return False
    names = [_to_ascii(line) for line in lines[start:]]
    return names == sorted(names, reverse=True)


@register("ifbench", "custom:word_reverse")
def word_reverse(response: str) -> bool:
    """Read word by word backwards, the response mentions "bald eagle" and forms one sentence."""
    text = remove_punctuation(response.lower().strip())
    text = " ".join(reversed(text.split()))
    return "bald eagle" in text and text in split_sentences(text)


@register("ifbench", "custom:character_reverse")
def character_reverse(response: str) -> bool:
    return "elgae dlab" in response.lower()


@register("ifbench", "custom:sentence_alphabet")
def sentence_alphabet(response: str) -> bool:
    """26 sentences whose first letters (after leading punctuation/whitespace) run a to z."""
    sentences = split_sentences(response)
    if len(sentences) != 26:
        return False
    for letter, sentence in zip(string.ascii_lowercase, sentences, strict=True):
        stripped = sentence.lstrip(string.punctuation + string.whitespace)
        if not stripped or stripped[0].lower() != letter:
            return False
    return True


@register("ifbench", "custom:european_capitals_sort")
def european_capitals_sort(response: str) -> bool:
    """Exactly the 27 capitals north of 45°, comma-separated, from north to south (diacritics ignored)."""
    capitals = [capital.strip() for capital in _to_ascii(response).split(",") if capital.strip()]
    return capitals == EUROPEAN_CAPITALS_BY_LATITUDE


@register("ifbench", "custom:csv_city")
def csv_city(response: str) -> bool:
    rows = _csv_rows(response)
    return len(rows) == 8 and rows[0] == CITY_CSV_HEADER and all(len(row) == 5 for row in rows[1:])


@register("ifbench", "custom:csv_special_character")
def csv_special_character(response: str) -> bool:
    """Header ProductID,Category,Brand,Price,Stock; 14 rows of 5 fields; some field is a quoted value containing
    a special character. As in the reference, quotes are tripled before parsing, and the answer is decided at the
    first row holding such a field (later rows are not checked)."""
    if not _SPECIAL_CSV_HEADER.match(response.split("\n")[0].strip()):
        return False
    rows = _csv_rows(response.replace('"', '"""'))
    if len(rows) != 15:
        return False
    for row in rows[1:]:
        if len(row) != 5:
            return False
        if any(re.match(r'".*[^\d\w\s].*"', field) for field in row):
            return True
    return False


@register("ifbench", "custom:csv_quotes")
def csv_quotes(response: str) -> bool:
    """Tab-separated header StudentID..Score and 3 rows, every one of the 5 fields in double quotes. (An empty
    field crashes the reference; here it fails.)"""
    if not _QUOTES_CSV_HEADER.match(response.split("\n")[0].strip()):
        return False
    rows = _csv_rows(response.replace('"', '"""'), delimiter="\t")
    if len(rows) != 4:
        return False
    for row in rows:
        if len(row) != 5:
            return False
        for field in row:
            field = field.strip()
            if not field or field[0] != '"' or field[-1] != '"':
                return False
    return True


_DAYS_IN_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


@register("ifbench", "custom:date_format_list")
def date_format_list(response: str) -> bool:
    """Comma-separated YYYY-MM-DD dates with years 1769-1821 and plausible month/day (month 00 and day 00 pass,
    as in the reference)."""
    for date in response.strip().split(","):
        date = date.strip()
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", date):
            return False
        year, month, day = (int(part) for part in date.split("-"))
        if not 1769 <= year <= 1821 or month > 12:
            return False
        if day > _DAYS_IN_MONTH.get(month, 99):
            return False
    return True
