"""Reading ease and sentence length, computed the same way on every machine.

textstat 0.7.x looks English words up in NLTK's CMU dictionary and tries to download it
from the internet at first use. That fails offline (CI, locked-down networks, bot
start-up) and gives different scores depending on whether the download once worked. So
we use textstat's own word and sentence counts and its English Flesch constants, with
syllables from Pyphen: exactly textstat's fallback path for words not in CMUdict.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import re
import sys
import types
from functools import lru_cache

import pyphen


class _LoadOnUse(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then loads it.

    Unlike the standard library's ``LazyLoader``, it survives a later ``import`` of the
    same name (which reads ``__spec__``) without loading anything.
    """

    def __init__(self, spec: importlib.machinery.ModuleSpec):
        super().__init__(spec.name)
        self.__spec__ = spec

    def __getattr__(self, attr: str):
        real = sys.modules.get(self.__name__)
        if real is None or real is self:
            sys.modules.pop(self.__name__, None)
            real = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _import_textstat() -> types.ModuleType:
    """textstat, without paying for NLTK at start-up.

    textstat imports NLTK at import time only to reach CMUdict, which this module never
    uses (see above), and loading NLTK takes about 0.15 s of every start-up. So NLTK is
    registered as a stand-in first: textstat's ``import nltk`` succeeds at once, and NLTK
    really loads the moment anything uses it, so code that does use it gets the real thing.
    """
    if "nltk" not in sys.modules:
        spec = importlib.util.find_spec("nltk")
        if spec is not None:
            sys.modules["nltk"] = _LoadOnUse(spec)
    import textstat

    return textstat


textstat = _import_textstat()

MIN_READING_EASE = 50.0
MAX_SENTENCE_WORDS = 30

# Flesch reading ease constants for English (textstat's "en" config).
_FRE_BASE, _FRE_SENTENCE, _FRE_SYLLABLE = 206.835, 1.015, 84.6

_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|approx|no|mr|mrs|ms|dr)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\n\s*\n")
_WORD = re.compile(r"[A-Za-z0-9]")


@lru_cache(maxsize=1)
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")  # textstat's default language


def sentences(text: str) -> list[str]:
    """Split on sentence ends, not on the dots in "e.g." or "etc."."""
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\0"), text.strip())
    parts = _SENTENCE_END.split(protected)
    return [p.replace("\0", ".").strip() for p in parts if p and p.strip()]


def word_count(sentence: str) -> int:
    return sum(1 for token in sentence.split() if _WORD.search(token))


def longest_sentence(text: str) -> tuple[int, str]:
    """(word count, sentence) for the longest sentence in `text`."""
    best = (0, "")
    for sentence in sentences(text):
        best = max(best, (word_count(sentence), sentence), key=lambda pair: pair[0])
    return best


@lru_cache(maxsize=4096)
def reading_ease(text: str) -> float:
    """Flesch reading ease (higher is easier; 50+ is plain English), rounded like textstat."""
    words = textstat.lexicon_count(text)
    if words == 0:
        return 0.0
    sentence_total = max(1, textstat.sentence_count(text))
    hyphenator = _hyphenator()
    syllables = sum(
        len(hyphenator.positions(word)) + 1
        for word in textstat.remove_punctuation(text).lower().split()
    )
    score = _FRE_BASE - _FRE_SENTENCE * words / sentence_total - _FRE_SYLLABLE * syllables / words
    return round(score, 2)
