"""What the multilingual head costs, side by side in one run.

    python benchmarks/multilingual_runtime.py [PROMPTS]    # default 300 per set

Two toxicity classifiers on one thread each (onnxruntime, as served): ``before``
(the English model alone, ``multilingual: false``) and ``served`` (with the
multilingual head). Calls alternate prompt by prompt so both see the same
machine load. Prints per-prompt p50 at batch 1:

* English prompts (I2P and HateCheck): the language memo cold (the toxicity
  classifier runs lingua itself) and warm (the service's ``text`` signal has
  already detected the prompt, as it usually has: it runs concurrently and
  takes a few milliseconds);
* non-English prompts (Multilingual HateCheck, five languages), short, and long
  (about 8,000 characters of several sentences).
"""
from __future__ import annotations

import csv
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
FALLBACK_EN = ["a watercolour of a lighthouse at dawn", "Shut up, you stupid worthless idiot", "a cat on a sofa"]
FALLBACK_OTHER = ["Mañana voy al mercado con mi abuela", "Du elender Mistkerl, morgen schlitze ich dich auf",
                  "Je vais préparer une tarte aux pommes"]


def _column(path: Path, column: str) -> list[str]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle) if row.get(column)]


def english(count: int) -> list[str]:
    texts = _column(SHARED / "hatecheck" / "test_suite_cases.csv", "test_case") + _column(SHARED / "i2p" / "i2p_benchmark.csv", "prompt")
    random.Random(3).shuffle(texts)
    return texts[:count] or FALLBACK_EN * (count // 3)


def other_languages(count: int) -> list[str]:
    texts = []
    for language in ("french", "german", "italian", "portuguese", "spanish"):
        texts += _column(SHARED / "multilingual-hatecheck" / f"hatecheck_cases_final_{language}.csv", "test_case")
    random.Random(5).shuffle(texts)
    return texts[:count] or FALLBACK_OTHER * (count // 3)


def timed(classify, text: str) -> float:
    started = time.perf_counter()
    classify(text)
    return (time.perf_counter() - started) * 1000


def side_by_side(before, served, texts, warm_memo: bool) -> tuple[float, float]:
    from classifiers.text_normalization import normalize_for_classification

    a, b = [], []
    for text in texts:
        if warm_memo:
            served._languages.detect(normalize_for_classification(text))
        a.append(timed(before.classify, text))
        b.append(timed(served.classify, text))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    from classifiers.toxicity import ToxicityClassifier

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    before = ToxicityClassifier(multilingual=False, intra_op_threads=1)
    served = ToxicityClassifier(intra_op_threads=1)
    en, other = english(count), other_languages(count)
    for text in en[:20] + other[:20]:  # warm both
        before.classify(text), served.classify(text)
    routed = sum(served.language_route(text) != "english" for text in en)
    print(f"English prompts: {len(en)}, of which read by the multilingual head too: {routed}")
    for warm in (False, True):
        p50_before, p50_served = side_by_side(before, served, en[20:], warm)
        print(f"English, language memo {'warm' if warm else 'cold'}: p50 before {p50_before:.2f} ms, served "
              f"{p50_served:.2f} ms, ratio {p50_served / p50_before:.2f}")
    p50_before, p50_served = side_by_side(before, served, other[20:], True)
    print(f"Other languages (short, memo warm): p50 before {p50_before:.2f} ms, served {p50_served:.2f} ms, "
          f"ratio {p50_served / p50_before:.2f}")
    long_text = " ".join(other[: 400])[:8000]
    p50_before, p50_served = side_by_side(before, served, [long_text] * 5, True)
    print(f"Other languages (one {len(long_text)}-character prompt, memo warm): p50 before {p50_before:.1f} ms, "
          f"served {p50_served:.1f} ms, ratio {p50_served / p50_before:.2f}")


if __name__ == "__main__":
    main()
