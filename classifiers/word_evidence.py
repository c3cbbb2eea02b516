"""Word frequencies as a second opinion on whether a short text is English.

lingua reads character n-grams, and a prompt of two to five words has few of them:
"I'm a deaf person" came out Italian (0.12), "ngl kinda mid" Turkish (0.13). The words
themselves settle most such cases: "i'm", "deaf" and "person" are common in English and
rare in Italian, while "morte aos gays" is common Portuguese and rare English. So where lingua is
unsure (``classifiers.language``), each word's frequency in English is compared with its
frequency in each of lingua's candidate languages.

Frequencies are on the Zipf scale (log10 of occurrences per billion words; "the" is about
7.7, a word seen once in a million about 3), from wordfreq's ``small`` lists (wordfreq 3.1,
Robyn Speer; code Apache-2.0, data CC BY-SA 4.0; built from Wikipedia, subtitles, news,
books, web text and social media up to 2021). A word missing from a list counts as
``ZIPF_FLOOR``.
"""
from __future__ import annotations

from typing import Sequence

import wordfreq

# A word a list lacks is this rare (the small lists stop near Zipf 1.5), so a missing word
# is evidence against that language, but a bounded amount.
ZIPF_FLOOR = 1.0
# Only the first words are read: the check is for short text, where lingua is unsure.
MAX_WORDS = 64
# wordfreq lists Croatian with Serbian and Bosnian as Serbo-Croatian.
_WORDFREQ_CODES = {"hr": "sh", "sr": "sh", "bs": "sh"}
_LIST = "small"


class WordEvidence:
    """Per-word frequency evidence for English against other languages.

    ``languages``: ISO 639-1 codes that may be compared. Those wordfreq has no list for
    (Thai, for one) are never compared: a text whose candidates include one gets no verdict.
    ``preload``: read every list now (about 1.7 s and 100 MB for 30 languages), so that no
    request pays for a read."""

    def __init__(self, languages: Sequence[str], preload: bool = True) -> None:
        listed = set(wordfreq.available_languages(wordlist=_LIST))
        self._codes = {code: _WORDFREQ_CODES.get(code, code) for code in languages}
        self._codes = {code: listed_code for code, listed_code in self._codes.items() if listed_code in listed}
        if preload:
            for listed_code in set(self._codes.values()):
                wordfreq.get_frequency_dict(listed_code, wordlist=_LIST)

    def covers(self, code: str) -> bool:
        return code in self._codes

    def english_margin(self, text: str, candidates: Sequence[str]) -> float | None:
        """How much more English ``text``'s words are than the most likely of ``candidates``
        (ISO 639-1 codes other than ``en``): the mean over words of
        ``zipf(word, en) - zipf(word, candidate)``, the smallest over candidates, in Zipf units.
        Positive: English is the likelier language of the words. None when the text has no
        words with letters, when a candidate has no list, or when English has none."""
        if not self.covers("en") or not all(self.covers(code) for code in candidates) or not candidates:
            return None
        words = [word for word in wordfreq.tokenize(text, "en") if any(char.isalpha() for char in word)][:MAX_WORDS]
        if not words:
            return None
        english = [self._zipf(word, "en") for word in words]
        return min(sum(e - self._zipf(word, code) for word, e in zip(words, english)) / len(words)
                   for code in candidates)

    def _zipf(self, word: str, code: str) -> float:
        return max(wordfreq.zipf_frequency(word, self._codes[code], wordlist=_LIST), ZIPF_FLOOR)
