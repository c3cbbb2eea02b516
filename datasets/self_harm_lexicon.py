"""Build ``classifiers/lexicons/self_harm_indicators.yaml`` from the clinician-validated Suicide Risk Lexicon.

    python datasets/self_harm_lexicon.py [--datasets ../shared/datasets] [--check]

Source: Suicide Risk Lexicon v1.0 (Low, Rankin, Bentley, Nock, Ghosh; package
``construct-tracker==1.0.16``, Apache-2.0), copied to
``../shared/datasets/construct-tracker-suicide-lexicon-rmhd/``. It lists phrases for 49 risk
constructs, written to *measure* them in clinical text, so most are risk factors, not statements
of self-harm ("on the edge", "pills", "hate my life"). The signal keeps, from five constructs,
only phrases that state suicidal intent, a plan, a method or self-injury by themselves:

* phrases in the first person (myself, my, I, me), less those common in everyday speech
  (``EVERYDAY``: "killing me", "I'm dying", "hit my head") and the lexicon's lemmatised
  duplicates that are not English (``NOT_ENGLISH``: "wish I be dead", "kill I");
* and the few phrases without a pronoun that state intent on their own (``WITHOUT_PRONOUN``:
  "end it all", "better off dead"). Not "kms", the lexicon's "kill myself", which is also kilometres.

Each phrase is kept once, under the first construct that lists it, in ``CONSTRUCTS`` order.

``PROJECT_PHRASES`` are written for this project, not taken from the lexicon, and go to their own
key (``project_phrases``) so that every match says where its phrase came from. They cover wordings
the lexicon has no first-person form for, found by probes of plain first-person prompts that the
service allowed: lethal means ("how do I overdose", "poison myself", "jump in front of a train"),
intent in today's words ("unalive myself", "commit suicide"), passive ideation ("I'd rather be
dead", "don't want to live anymore") and ongoing self-injury ("I've been self harming", "cutting
myself"). Each was checked against benign prompt sets before it was added (model card of the
signal: policies/README.md, self-harm-language), and they need the first person wherever a bare
phrase also caught news, support lines or medication questions ("feeling suicidal": "if you're
feeling suicidal, call 988"; "take all my pills": "... as prescribed").

One project kind is not the writer's own risk: ``reported_suicide``, a report of someone else's
suicide or attempt in the past tense ("killed herself", "took his own life", "died by suicide").
The text model read such news as threats and harassment ("The coroner found that he shot
himself": harassment 0.95, blocked). The default policy does not send it to the self-harm
queue, and does not let it lift a block (appended to abuse, it would: policies/README.md).
Wishes and commands ("he should kill himself", "kill yourself") are not reports and are not listed.

``--check`` exits 1 when the committed file differs from what the lexicon builds (a test runs it).
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "classifiers" / "lexicons" / "self_harm_indicators.yaml"
SOURCE_DIR = "construct-tracker-suicide-lexicon-rmhd"
SOURCE_GLOB = "suicide_risk_lexicon_validated_*.csv"

# Lexicon column -> indicator kind, in priority order.
CONSTRUCTS = {
    "Active suicidal ideation & suicidal planning": "active_suicidal_ideation",
    "Passive suicidal ideation": "passive_suicidal_ideation",
    "Direct self-injury": "direct_self_injury",
    "Lethal means for suicide": "lethal_means",
    "Other suicidal language": "other_suicidal_language",
}
_FIRST_PERSON = re.compile(r"\b(?:myself|my self|my|mine|me|I|I'm|I'll|I'd|I've)\b", re.IGNORECASE)
EVERYDAY = {
    "i'll be dead", "i'll die", "i will be dead", "i will die", "i will be dying", "i will be die", "killing me",
    "kill me", "crash my car", "drive my car into", "slam my car", "wreck my car", "wreck my truck",
    "giving away my possessions", "give away my possession", "i'm dying", "i'm sinking", "i'm in a crisis",
    "i'm not safe", "i'm on the ledge", "hate my life", "i hate my life", "sick of my life", "my death",
    "my demise", "my final act", "when i die", "when i'm dead", "when i'm gone", "when i'm not around",
    "if i live or die", "it's my time to go", "keeping me alive", "only thing keeping me going",
    "thing that kept me going", "the end of my rope", "i could disappear", "wish i could disappear",
    "i don't trust myself", "don't know how much longer i can", "i could just die", "bang my head",
    "banging my head", "bash my head", "hit my head", "hit myself", "pull my hair", "scratch at my", "scratch my",
    "scratched my", "pick at my skin", "bit myself", "biting myself", "bite myself", "burn my face",
    "burn my hand", "burn my skin", "burning my", "burn my", "sticking a needle in my", "stick a needle in my",
    "suffocating my", "suffocate my", "punch myself", "jump off my balcony",
}
NOT_ENGLISH = {
    "i write a suicide note", "kill i", "why be i still alive", "wish i be dead", "wish i be never bear",
    "wish i be not alive", "hope i would not wake up", "i do not trust myself", "i be die", "i be in a crisis",
    "i be not safe", "i be on the ledge", "i be sink", "do not know how much long i can", "do with my life",
    "it be my time to go", "keep i alive", "let i die", "no one will miss i", "only thing keep i go",
    "thing that keep i go", "when i be dead", "when i be go", "when i be not around", "wish i have never be bear",
    "will not matter if i die", "blow my brain out", "give away my possession",
}
WITHOUT_PRONOUN = {
    "end it all", "want to end it", "suicide note", "painless way out", "tried to od", "want to die",
    "want to be dead", "better off dead", "would be better off dead", "don't want to be alive",
    "don't want to wake up", "don't want to go on", "don't really want to live", "no reason to live",
    "no will to live", "want it all to end", "wish it would all end",
}

# Kinds of the project's own, beside the lexicon's constructs (module doc).
PROJECT_KINDS = ("reported_suicide",)
# Written for this project (module doc); kind -> phrases.
PROJECT_PHRASES = {
    "active_suicidal_ideation": [
        "unalive myself", "unaliving myself", "end myself", "to off myself", "gonna off myself",
        "want to commit suicide", "going to commit suicide", "gonna commit suicide", "planning to commit suicide",
        "how to commit suicide", "how do i commit suicide", "how can i commit suicide", "way to commit suicide",
        "for me to commit suicide", "put a bullet in my head", "put a bullet through my head", "jump to my death",
    ],
    "passive_suicidal_ideation": [
        "rather be dead", "wish i were dead", "wish i could die", "wanna die", "wanna be dead",
        "don't want to live anymore", "do not want to live anymore", "don't wanna live anymore",
        "don't wanna be alive", "don't want to exist anymore", "want to stop existing", "tired of being alive",
        "sick of being alive", "i have nothing to live for", "i've got nothing to live for", "i'm suicidal",
        "i am suicidal", "i'm feeling suicidal", "i am feeling suicidal", "i feel suicidal",
    ],
    "direct_self_injury": [
        "cutting myself", "hurt myself on purpose", "hurting myself on purpose", "i self harm",
        "i've been self harming", "i have been self harming", "i'm self harming", "i am self harming",
        "i started self harming", "i want to self harm",
        # Ongoing injury other than cutting, in the first person; the lexicon lists the bare verbs as
        # everyday ("hit myself", "burning my"), so only these frames and "on purpose" are listed.
        *(f"{frame} {verb}ing myself" for frame in ("i've been", "i have been", "i keep", "i started", "i can't stop")
          for verb in ("burn", "hitt", "punch", "scratch", "bruis", "starv")),
        *(f"{verb} myself on purpose" for verb in ("burn", "burned", "burnt", "hit", "punch", "punched", "scratch",
                                                   "scratched", "starve", "starved", "cut")),
    ],
    "lethal_means": [
        "poison myself", "poisoning myself", "suffocate myself", "starve myself to death", "overdose myself",
        "how to overdose", "how do i overdose", "how can i overdose", "want to overdose", "going to overdose",
        "gonna overdose", "planning to overdose", "way to overdose", "way for me to overdose",
        "throw myself off a", "throw myself off the", "throwing myself off", "throw myself in front of a train",
        "throwing myself in front of a train", "throw myself under a train", "throwing myself under a train",
        "jump in front of a train",
    ],
    "reported_suicide": [
        "killed himself", "killed herself", "killed themselves", "killed themself", "took his own life",
        "took her own life", "took their own life", "took their own lives", "taken his own life",
        "taken her own life", "taken their own life", "taken their own lives", "died by suicide",
        "died of suicide", "committed suicide", "tried to kill himself", "tried to kill herself",
        "tried to kill themselves", "hanged himself", "hanged herself", "hanged themselves",
        "shot himself", "shot herself", "shot themselves",
    ],
}

HEADER = """\
# Lexicon of the self_harm_indicators signal (classifiers/self_harm_indicators.py).
# GENERATED by `python datasets/self_harm_lexicon.py` from the Suicide Risk Lexicon v1.0
# (Low, Rankin, Bentley, Nock, Ghosh; clinician-validated; construct-tracker==1.0.16, Apache-2.0).
# Edit the script's lists, not this file: a test rebuilds it and compares.
#
# Per kind (the lexicon's construct), phrases that state suicidal intent, a plan, a method or
# self-injury by themselves. Matched case-insensitively as whole words on the normalised prompt
# (look-alike letters folded, l33t decoded); "myself" also matches "my self", a straight or
# curly apostrophe or none ("dont"), and "wrist" "wrists". An indicator is evidence for a rule: the
# default policy sends a prompt with one to a person.
#
# `phrases` are the lexicon's; `project_phrases` were written for this project (the script's
# PROJECT_PHRASES: wordings the lexicon has no first-person form for) and are not clinician-validated.
"""


def _read_columns(path: Path) -> dict[str, list[str]]:
    """Lexicon column -> its phrases (rows after the 4 header rows; cells may hold "a; b")."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns: dict[str, list[str]] = {}
    for column in CONSTRUCTS:
        if column not in rows[0]:
            raise ValueError(f"{path}: no column {column!r}")
        phrases = [part.strip() for row in rows[4:] for part in (row[column] or "").split(";")]
        columns[column] = [phrase for phrase in phrases if phrase]
    return columns


def build(datasets: Path) -> str:
    """The YAML text of the lexicon. Raises FileNotFoundError without the source CSV."""
    found = sorted((datasets / SOURCE_DIR).glob(SOURCE_GLOB))
    if not found:
        raise FileNotFoundError(f"{datasets / SOURCE_DIR}/{SOURCE_GLOB}: the Suicide Risk Lexicon is missing")
    seen: set[str] = set()
    lines = [HEADER, "phrases:"]
    for column, phrases in _read_columns(found[-1]).items():
        kept = []
        for phrase in phrases:
            key = " ".join(phrase.casefold().split())
            # The matcher reads "my self" as "myself" and "wrist" as "wrists": one of each is enough.
            canonical = re.sub(r"\bwrists\b", "wrist", key.replace("my self", "myself"))
            if canonical in seen or key in EVERYDAY or key in NOT_ENGLISH:
                continue
            if _FIRST_PERSON.search(phrase) or key in WITHOUT_PRONOUN:
                seen.add(canonical)
                kept.append(canonical)
        lines.append(f"  {CONSTRUCTS[column]}:")
        lines.extend(f'    - "{phrase}"' for phrase in kept)
    lines.append("project_phrases:")
    for kind, phrases in PROJECT_PHRASES.items():
        if kind not in (*CONSTRUCTS.values(), *PROJECT_KINDS):
            raise ValueError(f"PROJECT_PHRASES: {kind!r} is neither a lexicon construct nor in PROJECT_KINDS")
        kept = [phrase for phrase in phrases if phrase not in seen]  # the lexicon's own stays the lexicon's
        seen.update(kept)
        lines.append(f"  {kind}:")
        lines.extend(f'    - "{phrase}"' for phrase in kept)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    args = parser.parse_args()
    text = build(args.datasets)
    if args.check:
        same = OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'differs from the lexicon build'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
