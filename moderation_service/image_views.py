"""Hash lookups for every view of an image (sampled frames, light and dark backgrounds).

The image_hash and pdq signals list their hashes per view when an image has
several; the bank matcher and the near-duplicate index take one hash at a
time, so each view is looked up on its own and the results merged: each bank
entry or earlier item appears once, at its smallest distance, naming the view
(``frame``, ``background``) that matched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from moderation_service.banks.matcher import BankMatch, BanksSignal
from moderation_service.banks.store import NewEntry

if TYPE_CHECKING:
    from moderation_service.banks.runtime import Banks


class ViewBankMatch(BankMatch):
    """A bank match naming the view of the image that matched (None for sha256 and prompt matches)."""

    frame: int | None = None
    background: str | None = None


class ViewBanksSignal(BanksSignal):
    """``banks`` as policies see it (the schema policy lint checks paths against)."""

    matches: list[ViewBankMatch] = []
    quarantined: list[ViewBankMatch] = []


@dataclass(frozen=True)
class ViewHashes:
    frame: int
    background: str | None
    phash: str | None = None
    pdq: list[str] = field(default_factory=list)  # the hash, then its flips and rotations

    def label(self) -> dict[str, Any]:
        return {"frame": self.frame, "background": self.background}

    def lookup_hashes(self) -> dict[str, list[str]]:
        """This view's hashes as a bank lookup takes them (PDQ in all eight orientations)."""
        return {name: values for name, values in (("phash", [self.phash] if self.phash else []),
                                                  ("pdq", self.pdq)) if values}


def view_hashes(signals: dict[str, dict]) -> list[ViewHashes]:
    """Each view's usable hashes, from the plain image_hash and pdq signals, in view order."""
    image_hash = signals.get("image_hash") or {}
    pdq = signals.get("pdq") or {}
    by_view: dict[tuple[int, str | None], dict[str, Any]] = {}
    for view in image_hash.get("views") or [{"frame": 0, "background": None, **image_hash}] if image_hash else []:
        by_view.setdefault((view["frame"], view["background"]), {})["phash"] = view.get("phash")
    for view in pdq.get("views") or [{"frame": 0, "background": None, **pdq}] if pdq else []:
        if view.get("hash"):
            by_view.setdefault((view["frame"], view["background"]), {})["pdq"] = [view["hash"], *view.get("dihedral", [])]
    return [ViewHashes(frame, background, found.get("phash"), found.get("pdq", []))
            for (frame, background), found in by_view.items()]


def distinct_hashes(views: Iterable[ViewHashes]) -> list[tuple[str, str]]:
    """The distinct (signal type, hash) pairs of ``views``' pHash and plain PDQ hash, in view order."""
    pairs = ((signal_type, hash_hex) for view in views
             for signal_type, hash_hex in (("phash", view.phash), ("pdq", view.pdq[0] if view.pdq else None)))
    return list(dict.fromkeys(pair for pair in pairs if pair[1]))


def view_entries(views: Iterable[ViewHashes], label: str | None) -> list[NewEntry]:
    """Bank entries for ``views``' distinct pHash and plain PDQ hashes (``distinct_hashes``). A PDQ entry
    carries its view's seven flips and rotations as ``variants``: earlier items keep their plain hash
    only, and retro-hunt finds a mirrored copy published before through them."""
    views = list(views)
    turned = {view.pdq[0]: tuple(view.pdq[1:]) for view in views if view.pdq}
    return [NewEntry(signal_type, hash_hex, label, turned.get(hash_hex, ()) if signal_type == "pdq" else ())
            for signal_type, hash_hex in distinct_hashes(views)]


def bank_matches(banks: "Banks", views: list[ViewHashes], image_sha256: str | None, prompt: str | None) -> dict:
    """Bank matches of the item (bytes, prompt) and of every view, as plain data for policies.

    An entry counts once towards quarantine per item, however many views match it.
    """
    first = views[0] if views else ViewHashes(0, None)
    found = banks.lookup_item(phash=first.phash, pdq=first.pdq or None, image_sha256=image_sha256, prompt=prompt)
    best: dict[int, tuple[dict, bool]] = {}
    for kind, quarantined in (("matches", False), ("quarantined", True)):
        for match in getattr(found, kind):
            plain = match.model_dump(mode="json")
            if plain["signal_type"] in ("phash", "pdq"):
                plain.update(first.label())
            best[match.entry_id] = (plain, quarantined)
    for view in views[1:]:
        hashes = view.lookup_hashes()
        if not hashes:
            continue
        found = banks.matcher.lookup(hashes, count_for_quarantine=False)
        for kind, quarantined in (("matches", False), ("quarantined", True)):
            for match in getattr(found, kind):
                earlier = best.get(match.entry_id)
                if earlier is None and not quarantined and banks.matcher.flood_monitor is not None:
                    banks.matcher.flood_monitor.record(match.entry_id)
                if earlier is None or match.distance < earlier[0]["distance"]:
                    best[match.entry_id] = ({**match.model_dump(mode="json"), **view.label()}, quarantined)
    order = lambda plain: (plain["distance"], plain["bank"], plain["entry_id"])  # noqa: E731
    return {"matches": sorted((plain for plain, q in best.values() if not q), key=order),
            "quarantined": sorted((plain for plain, q in best.values() if q), key=order)}
