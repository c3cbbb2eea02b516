"""YAML policies: loaded and compiled once, evaluated as a pure function."""
from moderation_service.policy.compiler import CompiledPolicy
from moderation_service.policy.engine import Decision, RuleMatch, evaluate
from moderation_service.policy.policy_set import PolicySet, build_policy_set, load_policy_set
from moderation_service.policy.problems import PolicyError, Problem

__all__ = ["CompiledPolicy", "Decision", "PolicyError", "PolicySet", "Problem", "RuleMatch",
           "build_policy_set", "evaluate", "load_policy_set"]
