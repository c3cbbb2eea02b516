"""Hostile text shapes against ordinary prose of the same length, through the text normalisation
and the two lexicon signals that read the raw prompt.

    PYTHONPATH=. python benchmarks/hostile_text.py [--rounds 5]

A regex that backtracks turns 8,000 characters into seconds of CPU for one request; each shape
below once did (a hostile review, 2026-12-01: "a_ a_ a_ ..." 0.5 s in the spaced-letters pass,
"@@@...." 0.5 s in the address test, "groom a kid" x 700 17 s in the grooming nearness test).
Prints, per shape and stage, the median time over rounds as a ratio of the ordinary text's,
measured in the same run: a ratio near 1 means the shape costs what prose costs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers.minor_indicators import MinorIndicatorsClassifier  # noqa: E402
from classifiers.self_harm_indicators import SelfHarmIndicatorsClassifier  # noqa: E402
from classifiers.text_normalization import normalize_for_classification  # noqa: E402

LENGTH = 8000
ORDINARY = "a kid at the beach building a sandcastle, golden hour, soft light. " * 200
SHAPES = {
    "underscore-spaced letters": "a_ " * 2667,
    "digits and underscores": "1_ " * 2667,
    "at signs then dots": "@" * 4000 + "." * 4000,
    "grooming words and children": "groom a kid " * 700,
    "children only": "a kid " * 1334,
    "request words then a child": "me " * 2660 + "groom a kid",
    "self-harm phrases": "kill myself " * 667,
    "an accent on every letter": "\u1e31\u00ed\u013a\u013a \u00fd\u00f3\u00fa " * 889,
    "zalgo (marks kept to two)": "k\u0300\u0301\u0302\u0303i\u0300\u0301\u0302\u0303 " * 800,
    "enclosed letters": "\U0001F17A\U0001F178\U0001F17B\U0001F17B " * 1600,
}


def median_ms(function, text: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    stages = {"normalisation": normalize_for_classification, "minor_indicators": MinorIndicatorsClassifier().signal,
              "self_harm_indicators": SelfHarmIndicatorsClassifier().signal}
    base = {name: median_ms(stage, ORDINARY[:LENGTH], rounds) for name, stage in stages.items()}
    print(f"{LENGTH} characters; ordinary prose: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in base.items()))
    print(f"{'shape':32s}" + "".join(f"{name:>22s}" for name in stages))
    for shape, text in SHAPES.items():
        ratios = [median_ms(stage, text[:LENGTH], rounds) / base[name] for name, stage in stages.items()]
        print(f"{shape:32s}" + "".join(f"{ratio:21.2f}x" for ratio in ratios))


if __name__ == "__main__":
    main()
