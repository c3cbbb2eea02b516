"""Runs the classifiers on one prompt and image outside a request: for policy
test cases and tools. The service's own path is ModerationService.moderate."""
from __future__ import annotations

from typing import Any

from classifiers.base import Classifier, Modality
from moderation_service.images import ImageLimits, decode_image
from moderation_service.service import prompt_facts


def classify_offline(classifiers: dict[str, Classifier], prompt: str | None, image: bytes | None,
                     limits: ImageLimits) -> tuple[dict[str, Any], dict[str, str]]:
    inputs = {Modality.TEXT: prompt or None, Modality.IMAGE: decode_image(image, limits) if image else None}
    signals: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name, classifier in classifiers.items():
        if inputs[classifier.modality] is None:
            continue
        try:
            signals[name] = classifier.classify(inputs[classifier.modality]).model_dump(mode="json")
        except Exception as exc:  # reported to the policy as a failed signal, as in the service
            failed[name] = type(exc).__name__
    return {**signals, **prompt_facts(prompt)}, failed
