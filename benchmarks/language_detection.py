"""What the `text` (lingua), `minor_indicators` and `self_harm_indicators` signals cost, and how lingua's options trade.

    PYTHONPATH=. python benchmarks/language_detection.py [--prompts 2000]

Each lingua configuration is built in a fresh process, so its resident memory is
its own. Printed side by side, per configuration: build time with preloading,
RSS added, per-prompt latency (mean, p50, p99) over English t2i prompts and
MultiJail's translations, the share of English prompts called another language
with confidence >= 0.8 (what the default policy would send to review), and the
accuracy on MultiJail's languages that the configuration knows. Then the cost of
normalisation (with homoglyph folding), of minor_indicators, of self_harm_indicators and of the whole
`text` signal (whole text plus sentence by sentence) per prompt, and of the `text` signal on three
words with and without its words' check (the best of three turns each).
Needs ../shared/datasets (coco-captions-10k, i2p, multijail).
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets"
SUBSET = "en,de,es,fr,it,pt,nl,pl,tr,ru,uk,ar,fa,he,hi,zh,ja,ko,el,th,vi,id,sv,da,nb,fi,cs,sk,ro,hu,hr"
CONFIGS = {
    "high, 31 languages (default)": {"languages": SUBSET, "low": False},
    "low, 31 languages": {"languages": SUBSET, "low": True},
    "low, all 75 languages": {"languages": "all", "low": True},
}
MULTIJAIL_LANGUAGES = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")


def english_prompts(limit: int) -> list[str]:
    prompts = []
    for name, column in (("coco-captions-10k/coco_10k.csv", "prompt"), ("i2p/i2p_benchmark.csv", "prompt")):
        with open(DATA / name, newline="", encoding="utf-8") as handle:
            prompts += [row[column] for row, _ in zip(csv.DictReader(handle), range(limit // 2))]
    return prompts


def multijail() -> list[tuple[str, str]]:
    with open(DATA / "multijail" / "data" / "MultiJail.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return [(language, row[language]) for row in rows for language in MULTIJAIL_LANGUAGES if row.get(language)]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(config: dict, limit: int) -> dict:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    english, translated = english_prompts(limit), multijail()
    before = rss_mb()
    started = time.perf_counter()
    if config["languages"] == "all":
        builder, known = LanguageDetectorBuilder.from_all_languages(), None
    else:
        codes = config["languages"].split(",")
        builder = LanguageDetectorBuilder.from_languages(
            *[Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes])
        known = set(codes)
    if config["low"]:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()
    build_s = time.perf_counter() - started
    timings, wrong_english, correct, counted = [], 0, 0, 0

    def detect(text: str) -> tuple[str, float]:
        started = time.perf_counter()
        values = detector.compute_language_confidence_values(text)
        timings.append((time.perf_counter() - started) * 1000)
        return (values[0].language.iso_code_639_1.name.lower(), values[0].value) if values else ("und", 0.0)

    for text in english:
        language, confidence = detect(text)
        wrong_english += language != "en" and confidence >= 0.8
    for language, text in translated:
        guessed, _ = detect(text)
        if known is None or language in known:
            counted += 1
            correct += guessed == language
    timings.sort()
    return {"build_s": build_s, "rss_mb": rss_mb() - before, "mean_ms": statistics.fmean(timings),
            "p50_ms": timings[len(timings) // 2], "p99_ms": timings[int(len(timings) * 0.99)],
            "english_confidently_other": wrong_english / len(english), "multijail_accuracy": correct / counted,
            "multijail_counted": counted}


def text_signal_costs(limit: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from classifiers.homoglyphs import fold_homoglyphs
    from classifiers.language import LanguageClassifier
    from classifiers.minor_indicators import MinorIndicatorsClassifier
    from classifiers.self_harm_indicators import SelfHarmIndicatorsClassifier
    from classifiers.text_normalization import normalize_for_classification

    prompts = english_prompts(limit) + [text for _, text in multijail()][:limit]
    fold_homoglyphs("\u0430")  # build the table outside the timing
    minors = MinorIndicatorsClassifier()
    self_harm = SelfHarmIndicatorsClassifier()
    text = LanguageClassifier()
    costs = {}
    for name, function in (("normalise (with folding)", normalize_for_classification),
                           ("homoglyph folding alone", fold_homoglyphs),
                           ("minor_indicators (normalise + lexicon)", minors.find),
                           ("self_harm_indicators (normalise + lexicon)", self_harm.classify),
                           ("text signal (normalise, whole text + sentences)", text.classify)):
        started = time.perf_counter()
        for prompt in prompts:
            function(prompt)
        costs[name] = (time.perf_counter() - started) * 1000 / len(prompts)
    long_prompt = ("a quiet street at dusk with \u0441\u0430fe lights, " * 200)[:8000]
    started = time.perf_counter()
    for _ in range(10):
        minors.find(long_prompt)
    costs["minor_indicators on an 8,000-character prompt"] = (time.perf_counter() - started) * 100
    started = time.perf_counter()
    for _ in range(10):
        self_harm.classify(long_prompt)
    costs["self_harm_indicators on an 8,000-character prompt"] = (time.perf_counter() - started) * 100
    started = time.perf_counter()
    for _ in range(10):
        text.classify(long_prompt)
    costs["text signal on an 8,000-character prompt"] = (time.perf_counter() - started) * 100
    # The words' check (english_by_words_below) runs where lingua is unsure, mostly on a few words:
    # the first three words of each prompt, signal computed without the memo, both ways in turns.
    short = [text.prepare(" ".join(prompt.split()[:3])) for prompt in prompts]
    without_words = LanguageClassifier(english_by_words_below=0.0)
    best: dict[str, float] = {}
    for _ in range(3):
        for name, detector in (("text signal on 3 words, words' check off", without_words),
                               ("text signal on 3 words, words' check on", text)):
            started = time.perf_counter()
            for prompt in short:
                detector._signal(prompt)
            best[name] = min(best.get(name, float("inf")), (time.perf_counter() - started) * 1000 / len(short))
    costs.update(best)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(measure(json.loads(arguments.one), arguments.prompts)))
        return
    if not DATA.exists():
        sys.exit(f"needs the shared data sets at {DATA}")
    print(f"{'lingua configuration':32} {'build s':>8} {'RSS MB':>7} {'mean ms':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'EN->other@0.8':>14} {'MultiJail acc':>14}")
    for label, config in CONFIGS.items():
        output = subprocess.run([sys.executable, __file__, "--prompts", str(arguments.prompts), "--one",
                                 json.dumps(config)], capture_output=True, text=True, check=True).stdout
        r = json.loads(output.strip().splitlines()[-1])
        print(f"{label:32} {r['build_s']:8.2f} {r['rss_mb']:7.0f} {r['mean_ms']:8.3f} {r['p50_ms']:7.3f} "
              f"{r['p99_ms']:7.3f} {r['english_confidently_other']:14.2%} "
              f"{r['multijail_accuracy']:9.1%} (n={r['multijail_counted']})")
    print()
    for name, milliseconds in text_signal_costs(arguments.prompts).items():
        print(f"{name:48} {milliseconds:8.3f} ms per prompt")


if __name__ == "__main__":
    main()
