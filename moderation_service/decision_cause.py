"""Which modality caused a decision: the signals each rule read, and whether they are text or image.

A stored reason (a rule that fired) gets ``signals`` (the signals its values
came from, e.g. ``["toxicity"]``) and ``modalities`` (``["text"]``,
``["image"]`` or both). Near-duplicates inherit only what the image caused:
``image_decision`` is the most severe action among rules that read image
signals only, unless a person decided (a reviewer's reject of the image
blocks it, an approval allows it) or a retro-hunt took the item down for an
image hash. The policy engine stays a pure function: this runs on its output.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

TEXT, IMAGE = "text", "image"
SEVERITY = {"allow": 0, "redact": 1, "review": 2, "block": 3}
# Signals that are not classifiers: the normalised prompt, and bank matches by their signal type.
FACT_MODALITIES = {"prompt": TEXT}
BANK_SIGNAL_MODALITIES = {"phash": IMAGE, "pdq": IMAGE, "sha256": IMAGE, "text_sha256": TEXT}
RETRO_ACTOR = "retro-hunt"  # decided_by of a retroactive takedown


def signals_read(reason: Mapping[str, Any]) -> list[str]:
    """Top-level signal names behind a reason's values, e.g. ``toxicity.scores.hate`` -> ``toxicity``,
    ``count(minor_indicators.indicators)`` -> ``minor_indicators``."""
    names = {key.removeprefix("count(").split(".", 1)[0] for key in (reason.get("values") or {})}
    names.discard("thresholds")
    return sorted(names)


def annotate(reasons: list[dict], facts: Mapping[str, Any], classifier_modalities: Mapping[str, str]) -> list[dict]:
    """Each reason dict with ``signals`` and ``modalities`` added (new dicts; the inputs are not changed)."""
    annotated = []
    for reason in reasons:
        names = signals_read(reason)
        modalities: set[str] = set()
        for name in names:
            if name == "banks":
                modalities |= _bank_modalities(facts.get("banks") or {}, reason.get("values") or {})
            elif name in classifier_modalities:
                modalities.add(classifier_modalities[name])
            elif name in FACT_MODALITIES:
                modalities.add(FACT_MODALITIES[name])
        annotated.append({**reason, "signals": names, "modalities": sorted(modalities)})
    return annotated


def _matches_read(banks: Mapping[str, Any], values: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The bank matches a reason read: those of the purpose in its values, or all."""
    purpose = values.get("banks.matches.purpose")
    return [m for m in banks.get("matches") or [] if purpose is None or m.get("purpose") == purpose]


def _bank_modalities(banks: Mapping[str, Any], values: Mapping[str, Any]) -> set[str]:
    return {BANK_SIGNAL_MODALITIES.get(m.get("signal_type"), IMAGE) for m in _matches_read(banks, values)}


def modalities_of(reason: Mapping[str, Any], classifier_modalities: Mapping[str, str] | None = None) -> set[str]:
    """A stored reason's modalities; records from before they were stored are worked out from the values."""
    if "modalities" in reason:
        return set(reason["modalities"])
    found = set()
    for name in signals_read(reason):
        if name == "banks":
            found.add(IMAGE)  # old records kept no match types; image banks were the only kind used then
        elif classifier_modalities and name in classifier_modalities:
            found.add(classifier_modalities[name])
        elif name in FACT_MODALITIES:
            found.add(FACT_MODALITIES[name])
        elif name in ("nsfw", "image_hash", "pdq"):
            found.add(IMAGE)
        elif name in ("toxicity", "pii"):
            found.add(TEXT)
    return found


def inherited(reason: Mapping[str, Any]) -> bool:
    """Whether a reason only read earlier items' decisions (``image_hash.near_duplicates...``)."""
    values = reason.get("values") or {}
    return bool(values) and all(key.startswith(("image_hash.near_duplicates", "thresholds.")) for key in values)


def _own_image_reasons(reasons: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rules that read image signals only, less those that inherited an earlier item's decision:
    passed on again, a block crept through a chain of near-duplicates, each near the last, to
    pictures far from the one that caused it."""
    return [r for r in reasons if modalities_of(r) == {IMAGE} and not inherited(r)]


def _most_severe(reasons: Iterable[Mapping[str, Any]]) -> str:
    return max((r.get("action", "allow") for r in reasons), key=SEVERITY.__getitem__, default="allow")


def image_policy_decision(reasons: Iterable[Mapping[str, Any]]) -> str:
    """The most severe action among the image's own rules (``_own_image_reasons``; "allow" if none)."""
    return _most_severe(_own_image_reasons(reasons))


def reject_covers_image(reasons: Iterable[Mapping[str, Any]]) -> bool:
    """A reviewer's reject is of the image unless every rule that sent the item read text signals only.
    (An item no rule explains, such as an appealed or reported one, is rejected as a whole.)"""
    reasons = list(reasons)
    return not reasons or any(modalities_of(r) != {TEXT} for r in reasons)


def image_decision(reasons: list[Mapping[str, Any]], verdict: str | None = None, final_decision: str | None = None,
                   decided_by: str | None = None) -> str:
    """What a later near-duplicate of this item's image inherits."""
    if decided_by == RETRO_ACTOR and final_decision == "block":
        return "block"  # taken down for an image hash in a block bank
    if verdict == "reject":
        return "block" if reject_covers_image(reasons) else image_policy_decision(reasons)
    if verdict == "approve":
        return "allow"
    return image_policy_decision(reasons)


View = tuple[int, "str | None"]  # (frame, background) of one of an image's views


def image_cause_views(reasons: Iterable[Mapping[str, Any]], signals: Mapping[str, Any]) -> set[View] | None:
    """The views of the image that caused its image decision (``image_policy_decision``), so that
    only their hashes pass it on to near-duplicates: an animation blocked for one banked frame
    must not block later copies of its benign frames. ``None``: the whole image (a rule on an
    image signal that names no view). Empty: no image-only rule of its own fired."""
    reasons = _own_image_reasons(reasons)
    decision = _most_severe(reasons)
    views: set[View] = set()
    for reason in reasons:
        if reason.get("action", "allow") != decision:
            continue
        for name in signals_read(reason):
            found = _views_behind(name, signals.get(name) or {}, reason.get("values") or {})
            if found is None:
                return None
            views |= found
    return views


def _views_behind(name: str, signal: Mapping[str, Any], values: Mapping[str, Any]) -> set[View] | None:
    if name == "banks":
        return {(m.get("frame", 0), m.get("background")) for m in _matches_read(signal, values)
                if BANK_SIGNAL_MODALITIES.get(m.get("signal_type")) == IMAGE}
    if name in ("nsfw", "nsfw_drawings"):  # the view with the highest score
        return {(signal.get("frame", 0), signal.get("background"))}
    return None
