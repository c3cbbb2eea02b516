"""Phrases that state suicidal intent, a plan, a method or self-injury, from a clinician-validated lexicon.

A transparent signal beside the text model, which misses some plain first-person method
questions ("How do I slit my wrists?": self-harm/instructions 0.16; model card, known failure
modes). The lexicon (``classifiers/lexicons/self_harm_indicators.yaml``) is built by
``datasets/self_harm_lexicon.py`` from the Suicide Risk Lexicon v1.0 (Apache-2.0): per kind
(the lexicon's construct: ``active_suicidal_ideation``, ``passive_suicidal_ideation``,
``direct_self_injury``, ``lethal_means``, ``other_suicidal_language``), English phrases matched
case-insensitively as whole words on the normalised prompt (look-alike letters folded, l33t
decoded: see text_normalization). The file's ``project_phrases`` are wordings written for this
project that the lexicon has no first-person form for ("how do I overdose", "I'd rather be dead"),
and one kind of their own, ``reported_suicide``: a past-tense report of someone else's suicide
("took his own life"), which the default policy does not treat as a risk to the writer.
Each indicator carries its kind, its ``source`` (``lexicon`` or ``project``), the normalised words
that matched and the span in the ORIGINAL prompt (``prompt[start:end]``).

An indicator is evidence, not a decision: "I cut myself shaving" has one. The default policy
sends a prompt with one to a person. English only: the lexicon is.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.text_normalization import normalize_with_offsets

DEFAULT_LEXICON = Path(__file__).with_name("lexicons") / "self_harm_indicators.yaml"


class SelfHarmIndicator(Signal):
    kind: str  # the lexicon's construct
    source: str = "lexicon"  # "lexicon" (Suicide Risk Lexicon v1.0) or "project" (written for this project)
    term: str  # the normalised words that matched
    start: int  # span in the original prompt, in code points
    end: int


class SelfHarmIndicatorsSignal(Signal):
    indicators: list[SelfHarmIndicator]


class _Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phrases: dict[str, list[str]] = Field(min_length=1)
    project_phrases: dict[str, list[str]] = {}

    def groups(self) -> list[tuple[str, str, list[str]]]:
        """(source, kind, phrases) per non-empty list, the lexicon's first."""
        return [(source, kind, phrases) for source, lists in (("lexicon", self.phrases), ("project", self.project_phrases))
                for kind, phrases in lists.items() if phrases]

    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.phrases, *self.project_phrases]))


class SelfHarmLexiconError(ValueError):
    pass


_APOSTROPHE = r"(?:['’ʼ´‘`′‛ˈ]|\s\u0301?)?"  # NFKC reads an acute accent ´ as a space and U+0301
# "myself", or "my self" unless it starts a compound ("killing my self-esteem", "my self doubt").
_MYSELF = (r"(?:myself|my[\s_\-.]+self(?!-\w|\s+(?:esteem|worth|confidence|doubt|care|image|respect|control|love|"
           r"discipline)\b))")
_BETWEEN = r"[\s_\-.]*"  # "kill myself", "kill-myself", "kill_myself", "kill.myself", "#killmyself"
# Everyday phrasal uses after "myself": "cut myself a slice", "cut myself off", "burn myself out",
# "shoot myself an email", "hang myself up on the hook", "shoot myself in the foot"; idioms of
# busyness ("drown myself in work"); and accidents, said as such ("cut myself shaving", "hurt myself
# at the gym", "burned myself on the stove", "while cooking", "by accident").
_IDIOM_AFTER_MYSELF = (
    r"(?![\s_\-.]+(?:a|an|off|out|up|some|in\s+the\s+foot"
    r"|in\s+(?:my\s+)?(?:work|coffee|books?|music|homework|studies|chores|paperwork|projects?|games?|tv|netflix)"
    r"|shaving|cooking|chopping|by\s+accident|accidentally"
    r"|on\s+(?:the|a|my)\s+(?:stove|oven|pan|iron|kettle|grill|hob|toaster|curling\s+iron)"
    r"|at\s+(?:the\s+)?(?:gym|practice|training|work)"
    r"|(?:while|when)\s+(?:cooking|shaving|chopping|working\s+out|lifting|running|playing|training|skiing"
    r"|climbing|gardening|skating|cycling|hiking|fixing|opening))\b)"
)
# Idioms of "die": "I want to die laughing", "I could die of embarrassment".
_IDIOM_AFTER_DIE = r"(?![\s_\-.]+(?:laughing|of\s+(?:laughter|embarrassment|boredom|cringe|shame|envy)|a\s+little)\b)"
# An accident said as such before a phrase: "I accidentally cut myself".
_ACCIDENT_BEFORE = r"(?<!accidentally\s)(?<!accidently\s)"


def phrase_pattern(phrase: str) -> str:
    """A lexicon phrase as a regex: words separated by whitespace, hyphens, underscores, dots or
    nothing (hashtags); "myself" also as "my self" (not a compound such as "my self-esteem"), and
    not before a phrasal use, an idiom or an accident ("cut myself a slice", "drown myself in work",
    "cut myself shaving"); "die" not before "laughing" or "of embarrassment"; any apostrophe-like
    mark or none; "wrist" also "wrists". Raises
    SelfHarmLexiconError when empty."""
    words = phrase.split()
    if not words:
        raise SelfHarmLexiconError("self_harm_indicators lexicon: an empty phrase")
    parts = []
    for word in words:
        # Any apostrophe-like mark, a space where normalisation dropped one ("I`m"), or none ("dont", "ive").
        part = re.sub(r"['’]", lambda _: _APOSTROPHE, re.escape(word.casefold()))
        parts.append({"myself": _MYSELF, "wrist": r"wrists?"}.get(word.casefold(), part))
    last = words[-1].casefold()
    return _BETWEEN.join(parts) + {"myself": _IDIOM_AFTER_MYSELF, "die": _IDIOM_AFTER_DIE}.get(last, "")


class SelfHarmIndicatorsClassifier(Classifier[str, SelfHarmIndicatorsSignal]):
    name = "self_harm_indicators"
    modality = Modality.TEXT
    batchable = False  # one regex pass per prompt, item by item

    def __init__(self, lexicon: str | Path | None = None) -> None:
        """Loads and compiles the lexicon; raises SelfHarmLexiconError naming what is wrong."""
        path = Path(lexicon) if lexicon else DEFAULT_LEXICON
        self._spec = _load(path)
        self.kinds = self._spec.kinds()
        self._groups = [(source, kind) for source, kind, _ in self._spec.groups()]
        # Whole words only, one pass per prompt; within a group the longest phrase first.
        branches = [f"(?P<k{index}>{'|'.join(map(phrase_pattern, sorted(phrases, key=len, reverse=True)))})"
                    for index, (_, _, phrases) in enumerate(self._spec.groups())]
        # Not inside a longer word. A hyphen after a phrase may be a dash ("hang myself–tonight" reads
        # "hang myself-tonight" once dashes are folded), so it does not stop a match.
        # An underscore is a boundary too ("#i_want_to_die_").
        # The end is checked in ``signal``: "kill myself!!1" reads "kill myselfiii" once l33t is decoded.
        # Not right after "accidentally" ("I accidentally cut myself").
        self._pattern = re.compile(rf"(?<![^\W_]){_ACCIDENT_BEFORE}(?:{'|'.join(branches)})", re.IGNORECASE)
        self.identity = ModelIdentity(name="suicide-risk-lexicon", version="1.0",
                                      weights_sha256=sha256_of_files(path))

    @classmethod
    def field_vocabulary(cls, options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """``indicators.kind`` is one of the lexicon's kinds, ``indicators.source`` lexicon or project."""
        spec = _load(Path(options["lexicon"]) if options.get("lexicon") else DEFAULT_LEXICON)
        return {"indicators.kind": spec.kinds(), "indicators.source": ("lexicon", "project")}

    def classify_batch(self, inputs: Sequence[str]) -> list[SelfHarmIndicatorsSignal]:
        return [self.signal(text) for text in inputs]

    def signal(self, prompt: str) -> SelfHarmIndicatorsSignal:
        text, starts, ends = normalize_with_offsets(prompt)
        found = []
        for match in self._pattern.finditer(text):
            begin, finish = match.span()
            if not _ends_a_word(text, finish, prompt, ends[finish - 1]):
                continue
            source, kind = self._groups[int(match.lastgroup[1:])]
            found.append(SelfHarmIndicator(kind=kind, source=source, term=match.group(0).casefold(),
                                           start=starts[begin], end=ends[finish - 1]))
        return SelfHarmIndicatorsSignal(indicators=found)


def _ends_a_word(text: str, finish: int, prompt: str, original_end: int) -> bool:
    """A match ends a word when the normalised text goes on with no letter or digit, or the original
    prompt does: normalising can turn what follows into letters ("myself!!1" -> "myselfiii" by l33t,
    "myself™" -> "myselfTM" by NFKC), and the original shows it was not part of the word."""
    following = text[finish:finish + 1]
    return not following.isalnum() or not prompt[original_end:original_end + 1].isalnum()


def _load(path: Path) -> _Lexicon:
    try:
        spec = _Lexicon.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise SelfHarmLexiconError(f"self_harm_indicators lexicon {path}: {exc}") from exc
    for _, _, phrases in spec.groups():
        for phrase in phrases:
            phrase_pattern(phrase)
    return spec
