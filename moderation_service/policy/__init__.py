"""YAML policies: loaded and compiled once, evaluated as a pure function."""
from moderation_service.policy.engine import Decision, RuleMatch, evaluate
from moderation_service.policy.loader import CompiledPolicy, PolicyError, load_policy

__all__ = ["CompiledPolicy", "Decision", "PolicyError", "RuleMatch", "evaluate", "load_policy"]
