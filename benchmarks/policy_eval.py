"""Policy evaluation speed: compiled engine against a naive interpreter, in one run.

    python benchmarks/policy_eval.py

The naive path re-parses and re-compiles the YAML on every call, as an engine
without a compile step would. Figures are per item; the ratio is what counts.
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers.registry import load_config  # noqa: E402
from moderation_service.policy import evaluate  # noqa: E402
from moderation_service.policy.policy_set import compile_single_policy  # noqa: E402
from moderation_service.policy.schema import signal_schemas  # noqa: E402

GOAL_US = 50.0
ROOT = Path(__file__).resolve().parent.parent


def generated_policy(rule_count: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ["name: generated", "thresholds:"]
    lines += [f"  t{i}: {rng.uniform(0.5, 0.99):.2f}" for i in range(20)]
    lines.append("rules:")
    fields = ["toxicity.scores.toxic", "toxicity.scores.hate", "toxicity.scores.sexual", "nsfw.probability"]
    for i in range(rule_count):
        kind = i % 4
        if kind == 0:
            when = f'"{rng.choice(fields)} >= thresholds.t{rng.randrange(20)}"'
        elif kind == 1:
            # A band that some score can fall in: lint refuses a rule whose bounds contradict.
            low = rng.uniform(0.3, 0.9)
            when = (f'{{all: ["{rng.choice(fields)} >= {low:.2f}", '
                    f'"{rng.choice(fields)} < {rng.uniform(low + 0.01, 1):.2f}"]}}')
        elif kind == 2:
            when = '"pii.entities.type in [CREDIT_CARD, US_SSN, IBAN_CODE]"'
        else:
            when = f'{{any: ["count(pii.entities) > {rng.randrange(1, 5)}", "prompt.text contains_any [w{i}, x{i}]"]}}'
        action = rng.choice(["block", "review", "{action: review, queue: q, queue_priority: 2}", "allow"])
        lines.append(f"  - {{id: r{i}, when: {when}, then: {action}}}")
    return "\n".join(lines) + "\n"


def sample_signals(count: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    return [{
        "toxicity": {"scores": {k: rng.random() for k in ("toxic", "hate", "sexual", "violence", "self_harm")}},
        "nsfw": {"probability": rng.random()},
        "pii": {"entities": [{"type": rng.choice(["EMAIL_ADDRESS", "PERSON", "US_SSN"]), "start": 0, "end": 3,
                              "score": 0.9} for _ in range(rng.randrange(0, 4))], "redacted_text": ""},
        "prompt": {"text": "a painting of a lighthouse at dawn", "length": 34},
    } for _ in range(count)]


def per_item_us(function, items: list[dict], repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for signals in items:
            function(signals)
        timings.append((time.perf_counter() - started) / len(items) * 1e6)
    return statistics.median(timings)


def benign_signals(count: int) -> list[dict]:
    """Typical traffic: nothing scores high, so few or no rules fire."""
    return [{
        "toxicity": {"scores": {k: 0.01 for k in ("toxic", "hate", "sexual", "violence", "self_harm")}},
        "nsfw": {"probability": 0.02},
        "pii": {"entities": [], "redacted_text": "a lighthouse at dawn"},
        "prompt": {"text": "a painting of a lighthouse at dawn", "length": 34},
    } for _ in range(count)]


def main() -> None:
    schemas = signal_schemas(load_config())
    workloads = {"benign": benign_signals(2000), "random": sample_signals(2000)}
    print(f"{'policy':<22}{'signals':<9}{'rules':>6}{'fired':>7}{'compiled µs':>13}{'naive µs':>11}{'ratio':>8}")
    for label, text in (("default.yaml", (ROOT / "policies" / "default.yaml").read_text()),
                        ("generated 100 rules", generated_policy(100))):
        policy = compile_single_policy(text, schemas)
        for workload, items in workloads.items():
            fired = statistics.mean(len(evaluate(policy, signals).reasons) for signals in items)
            compiled = per_item_us(lambda signals: evaluate(policy, signals), items)
            naive = per_item_us(lambda signals: evaluate(compile_single_policy(text, schemas), signals),
                                items[:100], 3)
            print(f"{label:<22}{workload:<9}{len(policy.rules):>6}{fired:>7.1f}{compiled:>13.1f}{naive:>11.1f}"
                  f"{naive / compiled:>7.0f}x")
            if label.startswith("generated"):
                verdict = "meets it" if compiled <= GOAL_US else f"misses it by {compiled - GOAL_US:.1f} µs"
                print(f"  goal ≤ {GOAL_US:.0f} µs/item for 100 rules ({workload} signals): {verdict}")


if __name__ == "__main__":
    main()
