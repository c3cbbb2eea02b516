"""Word frequencies as a second opinion on whether a short text is English.

lingua reads character n-grams, and a prompt of two to five words has few of them:
"I'm a deaf person" came out Italian (0.12), "ngl kinda mid" Turkish (0.13). The words
themselves settle most such cases: "i'm", "deaf" and "person" are common in English and
rare in Italian, while "morte aos gays" is common Portuguese and rare English. So where
lingua is unsure (``classifiers.language``), each word's frequency in English is compared
with its frequency in each of lingua's candidate languages.

Frequencies are on the Zipf scale (log10 of occurrences per billion words; "the" is about
7.7, a word seen once in a million about 3), from wordfreq's lists (``large`` for English,
``small`` for the others; wordfreq 3.1, Robyn Speer; code Apache-2.0, data CC BY-SA 4.0;
built from Wikipedia, subtitles, news, books, web text and social media up to 2021). A
word missing from a list counts as ``ZIPF_FLOOR``.
"""
from __future__ import annotations

import re
from typing import Sequence

import wordfreq

# A word a list lacks is this rare (the small lists stop near Zipf 1.5), so a missing word
# is evidence against that language, but a bounded amount.
ZIPF_FLOOR = 1.0
# One word this much more common in a candidate than in English, or missing from English's list,
# withholds the verdict: an English frame around another language's slur ("send the kanaken back")
# is English by the average, and only the multilingual head knows the slur.
FOREIGN_WORD = 1.5
# Only the first words are read: the check is for short text, where lingua is unsure.
MAX_WORDS = 64
# Longer "words" are not words; and wordfreq caches every word it is asked about.
MAX_WORD_LETTERS = 40
# wordfreq lists Croatian with Serbian and Bosnian as Serbo-Croatian.
_WORDFREQ_CODES = {"hr": "sh", "sr": "sh", "bs": "sh"}
# Their words are looked up through MeCab or jieba, which are not installed: never compared.
_NEEDS_SEGMENTER = {"ja", "zh", "ko"}
_LIST = "small"
# English, the language asked about, is read in the large list (321,000 words against 29,000), so that
# "ngl" or "bruv" is not missing from it; 35 MB more.
_ENGLISH_LIST = "large"
# Links and @handles are in no language's list; they would withhold every verdict on a post.
_NOT_WORDS = re.compile(r"(?:https?://|www\.)\S+|@\w+")


class WordEvidence:
    """Per-word frequency evidence for English against other languages.

    ``languages``: ISO 639-1 codes that may be compared. Those wordfreq has no list for (Thai)
    or reads only through a word segmenter (Japanese, Chinese, Korean) are never compared: a
    text whose candidates include one gets no verdict. ``preload``: read every list now (about
    0.4-0.8 s and 100 MB for 27 languages), so that no request pays for a read."""

    def __init__(self, languages: Sequence[str], preload: bool = True) -> None:
        listed = set(wordfreq.available_languages(wordlist=_LIST)) - _NEEDS_SEGMENTER
        self._codes = {code: _WORDFREQ_CODES.get(code, code) for code in languages}
        self._codes = {code: listed_code for code, listed_code in self._codes.items() if listed_code in listed}
        if preload:
            for listed_code in set(self._codes.values()):
                wordfreq.get_frequency_dict(listed_code, wordlist=_LIST)
            if self.covers("en"):
                wordfreq.get_frequency_dict("en", wordlist=_ENGLISH_LIST)

    def covers(self, code: str) -> bool:
        return code in self._codes

    def english_margin(self, text: str, candidates: Sequence[str]) -> float | None:
        """How much more English ``text``'s words are than the most likely of ``candidates``
        (ISO 639-1 codes other than ``en``): the mean over words of
        ``zipf(word, en) - zipf(word, candidate)``, the smallest over candidates, in Zipf units.
        Positive: English is the likelier language of the words. Words are tokens of letters
        (and apostrophes) only, links and @handles left out: "1st" or "3d" is in English's list
        alone, and would buy English for any text. None (no verdict) when the text has no words,
        when a candidate or English has no list, or when one word is missing from English's list
        or ``FOREIGN_WORD`` more common in a candidate."""
        if not self.covers("en") or not all(self.covers(code) for code in candidates) or not candidates:
            return None
        words = [word for word in wordfreq.tokenize(_NOT_WORDS.sub(" ", text), "en")
                 if word.replace("'", "").replace("’", "").isalpha() and len(word) <= MAX_WORD_LETTERS][:MAX_WORDS]
        if not words:
            return None
        english = [wordfreq.zipf_frequency(word, "en", wordlist=_ENGLISH_LIST) for word in words]
        if min(english) == 0.0:
            return None
        margins = []
        for code in candidates:
            differences = [max(e, ZIPF_FLOOR) - self._zipf(word, code) for word, e in zip(words, english)]
            if min(differences) <= -FOREIGN_WORD:
                return None
            margins.append(sum(differences) / len(words))
        return min(margins)

    def _zipf(self, word: str, code: str) -> float:
        return max(wordfreq.zipf_frequency(word, self._codes[code], wordlist=_LIST), ZIPF_FLOOR)
