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
# Names the first, five-category head used that mean something else now: old -> new.
RENAMED: dict[str, str] = {"self_harm": "self-harm"}
