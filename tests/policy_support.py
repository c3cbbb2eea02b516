"""For tests that decide a prompt as the service does: the shipped default policy, the prompt's
signals computed by ``classify_offline`` (the policy test runner's path: each classifier's signal
and the prompt facts), and the policy's action with the rules that fired."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from classifiers.base import Classifier
from classifiers.registry import load_config
from moderation_service.images import ImageLimits
from moderation_service.offline_classify import classify_offline
from moderation_service.policy import CompiledPolicy, evaluate, load_policy_set
from moderation_service.policy.schema import signal_schemas

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def shipped_default_policy() -> CompiledPolicy:
    return load_policy_set(POLICIES, signal_schemas(load_config())).policies["default"]


def prompt_signals(classifiers: Mapping[str, Classifier], prompt: str) -> dict[str, Any]:
    """The signals of ``classifiers`` (text ones) on ``prompt``, with the prompt facts; a failed
    classifier fails the test rather than reaching the policy as a missing signal."""
    signals, failed = classify_offline(dict(classifiers), prompt, None, ImageLimits())
    assert not failed, failed
    return signals


def decide(policy: CompiledPolicy, signals: Mapping[str, Any]) -> tuple[str, list[str]]:
    decision = evaluate(policy, dict(signals))
    return decision.action, [reason.rule_id for reason in decision.reasons]
