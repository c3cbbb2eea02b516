"""The text model's categories: the OpenAI / Azure moderation taxonomy, plus ``toxic``.

Policies address them as ``toxicity.scores.<category>``, written as they are,
``/`` and ``-`` included: ``toxicity.scores.self-harm/intent >= 0.5`` (see
policies/README.md).
"""
from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "sexual", "sexual/minors",
    "violence", "violence/graphic", "self-harm", "self-harm/intent", "self-harm/instructions", "illicit", "toxic",
)


def labels(**positives: int) -> dict[str, int]:
    """Every category 0 except those named, written with ``__`` for ``/`` and ``_`` for ``-``:
    ``labels(self_harm__intent=1)`` -> ``{..., "self-harm/intent": 1, ...}`` (13 keys)."""
    found = {category: 0 for category in CATEGORIES}
    for key, value in positives.items():
        name = key.replace("__", "/").replace("_", "-")
        if name not in found:
            raise KeyError(f"{name!r} is not a category")
        found[name] = value
    return found


# Names the first, five-category head used that mean something else now: old -> new.
RENAMED: dict[str, str] = {"self_harm": "self-harm"}
