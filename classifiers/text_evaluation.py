"""``moderation evaluate text``: the text model against baselines, side by side, on every shared set.

Scorers (one run): the bundled text safety model (calibrated scores, its
operating thresholds), the first five-category head (``toxicity-v1``, its own
F1-tuned thresholds; ``self_harm`` read as ``self-harm``) and
``alt-profanity-check`` (one probability, read as every category it can stand
for: ``toxic``, ``harassment``, ``hate``; threshold 0.5), when installed.

Sets: the validation and test splits of the training data (per category, by the
rows each source labels), the held-out template split, HateCheck per
functionality (score ``hate``), Multilingual HateCheck per language (``hate``),
XSTest (a prompt is flagged when any harm category reaches its threshold: false
positive rate on ``safe``, recall on ``unsafe``), the text-to-image prompts
(I2P test rows per category; COCO test captions: false positive rate), and OLID
(``toxic`` against OFF, ``harassment`` against targeted insults).

Writes a JSON report and a PNG of precision-recall curves; evaluation-only sets
are read here and nowhere in training.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from classifiers.text_categories import CATEGORIES
from classifiers.text_training_data import DatasetMissingError

HARM_FOR_XSTEST = tuple(category for category in CATEGORIES if category != "toxic")
MHC_LANGUAGES = ("french", "german", "italian", "portuguese", "spanish")
Scores = dict[str, np.ndarray]  # category -> (n,) scores


class Scorer:
    """A named function texts -> per-category scores, with thresholds.

    ``route_thresholds`` (optional): texts -> one threshold table per text, or None where
    ``thresholds`` apply. The served pipeline judges text in another language at the
    multilingual head's thresholds, as the default policy does (``threshold``).
    """

    def __init__(self, name: str, score: Callable[[Sequence[str]], Scores], thresholds: dict[str, float],
                 route_thresholds: Callable[[Sequence[str]], list[dict[str, float] | None]] | None = None) -> None:
        self.name, self._score, self.thresholds = name, score, thresholds
        self._route_thresholds = route_thresholds
        self._seen: dict[str, dict[str, float]] = {}  # several sets share texts (test split, PR curves)

    def threshold(self, category: str, texts: Sequence[str]) -> np.ndarray:
        """Per text, the threshold ``category`` is judged at: shape (len(texts),)."""
        default = self.thresholds.get(category, 0.5)
        if self._route_thresholds is None:
            return np.full(len(texts), default, dtype=np.float32)
        tables = self._route_thresholds(texts)
        return np.array([default if table is None else table.get(category, default) for table in tables], dtype=np.float32)

    def __call__(self, texts: Sequence[str]) -> Scores:
        fresh = list(dict.fromkeys(text for text in texts if text not in self._seen))
        if fresh:
            scored = self._score(fresh)
            for index, text in enumerate(fresh):
                self._seen[text] = {name: float(values[index]) for name, values in scored.items()}
        names = list(self._seen[texts[0]]) if texts else []
        return {name: np.array([self._seen[text][name] for text in texts], dtype=np.float32) for name in names}


def _from_classifier(classify: Callable[[list[str]], list[dict[str, float]]], rename: dict[str, str] | None = None,
                     batch: int = 64) -> Callable[[Sequence[str]], Scores]:
    def score(texts: Sequence[str]) -> Scores:
        rows: list[dict[str, float]] = []
        for start in range(0, len(texts), batch):
            rows.extend(classify(list(texts[start : start + batch])))
        names = {key for row in rows[:1] for key in row}
        return {(rename or {}).get(name, name): np.array([row[name] for row in rows], dtype=np.float32) for name in names}
    return score


def model_scorer() -> Scorer:
    from classifiers.toxicity import ToxicityClassifier

    classifier = ToxicityClassifier()
    classify = lambda texts: [signal.scores for signal in classifier.classify_batch(texts)]  # noqa: E731
    return Scorer(f"text-safety ({classifier.identity.version})", _from_classifier(classify), dict(classifier.thresholds),
                  route_thresholds=classifier.other_language_thresholds)


def legacy_scorer() -> Scorer:
    from classifiers.text_normalization import normalize_for_classification
    from classifiers.toxicity import LegacyHeadBackend

    backend = LegacyHeadBackend()

    def classify(texts: list[str]) -> list[dict[str, float]]:
        clean = [normalize_for_classification(text) or " " for text in texts]
        return backend.score(clean, 32)

    thresholds = {("self-harm" if k == "self_harm" else k): v for k, v in backend.thresholds.items()}
    return Scorer("toxicity-v1 head (today's baseline)", _from_classifier(classify, {"self_harm": "self-harm"}), thresholds)


def profanity_scorer() -> Scorer | None:
    try:
        from profanity_check import predict_prob
    except ImportError:
        return None

    def score(texts: Sequence[str]) -> Scores:
        probabilities = predict_prob(list(texts)).astype(np.float32)
        return {category: probabilities for category in ("toxic", "harassment", "hate")}

    return Scorer("alt-profanity-check 1.9.1", score, {"toxic": 0.5, "harassment": 0.5, "hate": 0.5})


# --------------------------------------------------------------------------- metrics


def metrics(truth: np.ndarray, scores: np.ndarray, threshold: float | np.ndarray) -> dict[str, Any]:
    """Precision, recall, F1, accuracy, FPR and AUPRC; ``threshold`` is one value or one per row."""
    from sklearn.metrics import average_precision_score

    truth = truth.astype(bool)
    predicted = scores >= threshold
    lines = sorted({round(float(value), 4) for value in np.atleast_1d(threshold)})
    tp, fp = int((predicted & truth).sum()), int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if truth.any() else None
    f1 = (2 * precision * recall / (precision + recall) if precision and recall else 0.0) if recall is not None else None
    return {
        "n": int(truth.size), "positives": int(truth.sum()), "threshold": lines[0] if len(lines) == 1 else lines,
        "precision": _r(precision), "recall": _r(recall), "f1": _r(f1),
        "accuracy": _r(float((predicted == truth).mean())) if truth.size else None,
        "fpr": _r(fp / int((~truth).sum())) if (~truth).any() else None,
        "auprc": _r(float(average_precision_score(truth, scores))) if 0 < truth.sum() < truth.size else None,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def flagged_any(scorer: Scorer, texts: Sequence[str], categories: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(flagged, max score) over the harm categories a scorer has, each at its threshold per text."""
    scores = scorer(texts)
    present = [category for category in categories if category in scores]
    stacked = np.stack([scores[category] for category in present])
    over = np.stack([scores[category] >= scorer.threshold(category, texts) for category in present])
    return over.any(axis=0), stacked.max(axis=0)


# --------------------------------------------------------------------------- sets


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    if not path.is_file():
        raise DatasetMissingError(f"evaluation set not found at {path}; see the shared data sets' README.md")
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def labelled_split(root: Path, name: str) -> list[Any]:
    from classifiers.text_model_training import TrainingConfig, build_splits

    return build_splits(root, TrainingConfig(), seed=13)[name]


def evaluate_split(rows: Sequence[Any], scorers: Sequence[Scorer]) -> dict[str, Any]:
    texts = [row.text for row in rows]
    out: dict[str, Any] = {}
    for scorer in scorers:
        scores = scorer(texts)
        per_category = {}
        for column, category in enumerate(CATEGORIES):
            labelled = np.array([bool(row.mask[column]) for row in rows])
            if category not in scores or not labelled.any():
                continue
            truth = np.array([row.labels[column] for row in rows])[labelled]
            threshold = scorer.threshold(category, texts)[labelled]
            per_category[category] = metrics(truth, scores[category][labelled], threshold)
        out[scorer.name] = per_category
    return out


def evaluate_templates(scorers: Sequence[Scorer]) -> dict[str, Any]:
    from classifiers.text_normalization import normalize_for_classification
    from classifiers.text_training_data import load_templates, make_row

    rows = [make_row(normalize_for_classification(text), "templates", {k: float(v) for k, v in labels.items()})
            for text, labels, _, split in load_templates() if split == "heldout"]
    return evaluate_split(rows, scorers)


def evaluate_hatecheck(root: Path, scorers: Sequence[Scorer]) -> dict[str, Any]:
    rows = _read_csv(root / "hatecheck" / "test_suite_cases.csv")
    return _hatecheck_like(rows, "test_case", scorers)


def _hatecheck_like(rows: list[dict[str, str]], text_column: str, scorers: Sequence[Scorer]) -> dict[str, Any]:
    texts = [row[text_column] for row in rows]
    truth = np.array([row["label_gold"] == "hateful" for row in rows])
    functionalities = sorted({row["functionality"] for row in rows})
    out: dict[str, Any] = {}
    for scorer in scorers:
        scores = scorer(texts)
        if "hate" not in scores:
            continue
        threshold = scorer.threshold("hate", texts)
        result = {"overall": metrics(truth, scores["hate"], threshold), "per_functionality": {}}
        for functionality in functionalities:
            rows_in = np.array([row["functionality"] == functionality for row in rows])
            result["per_functionality"][functionality] = metrics(truth[rows_in], scores["hate"][rows_in], threshold[rows_in])
        out[scorer.name] = result
    return out


def evaluate_mhc(root: Path, scorers: Sequence[Scorer], limit: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for language in MHC_LANGUAGES:
        rows = _read_csv(root / "multilingual-hatecheck" / f"hatecheck_cases_final_{language}.csv")
        if limit and len(rows) > limit:
            rows = random.Random(language).sample(rows, limit)
        result = _hatecheck_like(rows, "test_case", scorers)
        out[language] = {name: value["overall"] for name, value in result.items()}
    return out


def evaluate_xstest(root: Path, scorers: Sequence[Scorer]) -> dict[str, Any]:
    rows = _read_csv(root / "xstest" / "xstest_prompts.csv")
    texts = [row["prompt"] for row in rows]
    unsafe = np.array([row["label"] == "unsafe" for row in rows])
    out: dict[str, Any] = {}
    for scorer in scorers:
        flagged, worst = flagged_any(scorer, texts, HARM_FOR_XSTEST)
        per_type: dict[str, float] = {}
        for kind in sorted({row["type"] for row in rows}):
            rows_in = np.array([row["type"] == kind for row in rows])
            per_type[kind] = round(float(flagged[rows_in].mean()), 4)
        out[scorer.name] = {
            "fpr_safe": round(float(flagged[~unsafe].mean()), 4), "recall_unsafe": round(float(flagged[unsafe].mean()), 4),
            "auprc_any": metrics(unsafe, worst, 1.0)["auprc"], "flag_rate_per_type": per_type,
        }
    return out


def evaluate_olid(root: Path, scorers: Sequence[Scorer], limit: int | None) -> dict[str, Any]:
    rows = _read_csv(root / "olid" / "offenseval-training-v1.tsv", "\t")
    if limit and len(rows) > limit:
        rows = random.Random(3).sample(rows, limit)
    from classifiers.text_training_data import clean_source_text

    texts = [clean_source_text(row["tweet"]) or "." for row in rows]
    offensive = np.array([row["subtask_a"] == "OFF" for row in rows])
    targeted = np.array([row["subtask_b"] == "TIN" for row in rows])
    out: dict[str, Any] = {}
    for scorer in scorers:
        scores = scorer(texts)
        result = {}
        if "toxic" in scores:
            result["toxic_vs_OFF"] = metrics(offensive, scores["toxic"], scorer.threshold("toxic", texts))
        if "harassment" in scores:
            result["harassment_vs_TIN"] = metrics(targeted, scores["harassment"], scorer.threshold("harassment", texts))
        out[scorer.name] = result
    return out


def evaluate_t2i(test_rows: Sequence[Any], scorers: Sequence[Scorer]) -> dict[str, Any]:
    i2p = [row for row in test_rows if row.source == "i2p"]
    coco = [row for row in test_rows if row.source == "coco"]
    out = {"i2p_test": evaluate_split(i2p, scorers), "coco_test_fpr": {}}
    for scorer in scorers:
        flagged, _ = flagged_any(scorer, [row.text for row in coco], HARM_FOR_XSTEST)
        out["coco_test_fpr"][scorer.name] = {"n": len(coco), "fpr": round(float(flagged.mean()), 4)}
    return out


# --------------------------------------------------------------------------- entry point


def evaluate_text(root: Path, out_dir: Path, limit: int | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every set, every scorer; writes ``text_evaluation.json`` and ``text_pr_curves.png`` into ``out_dir``."""
    root = Path(root)
    peer = profanity_scorer()
    if peer is None:
        log("alt-profanity-check is not installed (pip install '.[evaluation]'): the peer baseline is left out")
    scorers = [scorer for scorer in (model_scorer(), legacy_scorer(), peer) if scorer]
    log("scorers: " + ", ".join(scorer.name for scorer in scorers))
    report: dict[str, Any] = {"scorers": {scorer.name: scorer.thresholds for scorer in scorers}}
    from classifiers.multilingual_evaluation import english_only_scorer, evaluate_multilingual_templates, head_only_scorer

    other_languages = [*scorers, english_only_scorer(), head_only_scorer()]  # served, baselines, before/alone
    val, test = labelled_split(root, "val"), labelled_split(root, "test")
    for name, run in (
        ("validation", lambda: evaluate_split(val, scorers)),
        ("test", lambda: evaluate_split(test, scorers)),
        ("templates_heldout", lambda: evaluate_templates(scorers)),
        ("hatecheck", lambda: evaluate_hatecheck(root, scorers)),
        ("multilingual_hatecheck", lambda: evaluate_mhc(root, other_languages, limit)),
        ("multilingual_templates_heldout", lambda: evaluate_multilingual_templates(other_languages)),
        ("xstest", lambda: evaluate_xstest(root, scorers)),
        ("text_to_image", lambda: evaluate_t2i(test, scorers)),
        ("olid", lambda: evaluate_olid(root, scorers, limit)),
    ):
        report[name] = run()
        log(f"done: {name}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "text_evaluation.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    plot_pr_curves(test, scorers, out_dir / "text_pr_curves.png")
    return report


def plot_pr_curves(rows: Sequence[Any], scorers: Sequence[Scorer], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    texts = [row.text for row in rows]
    scored = [(scorer, scorer(texts)) for scorer in scorers]
    shown = [c for c in CATEGORIES if sum(row.labels[CATEGORIES.index(c)] * row.mask[CATEGORIES.index(c)] for row in rows) >= 5]
    columns = 4
    figure, axes = plt.subplots((len(shown) + columns - 1) // columns, columns, figsize=(16, 3.6 * ((len(shown) + 3) // 4)))
    for axis, category in zip(np.ravel(axes), shown):
        column = CATEGORIES.index(category)
        labelled = np.array([bool(row.mask[column]) for row in rows])
        truth = np.array([row.labels[column] for row in rows])[labelled]
        for scorer, scores in scored:
            if category in scores:
                precision, recall, _ = precision_recall_curve(truth, scores[category][labelled])
                axis.plot(recall, precision, label=scorer.name.split(" (")[0])
        axis.set_title(f"{category} (test, {int(truth.sum())}/{truth.size})")
        axis.set_xlabel("recall")
        axis.set_ylabel("precision")
        axis.set_ylim(0, 1.02)
        axis.legend(fontsize=7)
    for axis in np.ravel(axes)[len(shown):]:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def format_summary(report: dict[str, Any]) -> str:
    """A short text table: the headline figures per scorer."""
    lines = []
    for name in report["scorers"]:
        hatecheck = report["hatecheck"].get(name, {})
        overall = hatecheck.get("overall", {})
        worst = min(
            ((f, m["accuracy"]) for f, m in hatecheck.get("per_functionality", {}).items()), key=lambda x: x[1], default=("-", None)
        )
        xs = report["xstest"].get(name, {})
        lines.append(f"{name}")
        lines.append(f"  HateCheck hate F1 {overall.get('f1')}  AUPRC {overall.get('auprc')}  worst functionality {worst}")
        lines.append(f"  XSTest FPR(safe) {xs.get('fpr_safe')}  recall(unsafe) {xs.get('recall_unsafe')}")
        test = report["test"].get(name, {})
        lines.append("  test AUPRC " + ", ".join(f"{c} {m['auprc']}" for c, m in test.items()))
    from classifiers.multilingual_evaluation import format_mhc

    lines.append(format_mhc(report))
    return "\n".join(lines)


def format_markdown(report: dict[str, Any]) -> str:
    """The tables the model card quotes, from a report written by ``evaluate_text``."""
    names = list(report["scorers"])
    short = {name: name.split(" (")[0] for name in names}
    out = []

    def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
        out.append(f"### {title}\n")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out.extend("| " + " | ".join("-" if cell is None else str(cell) for cell in row) + " |" for row in rows)
        out.append("")

    for split in ("test", "validation", "templates_heldout"):
        rows = []
        for category in CATEGORIES:
            for name in names:
                m = report[split].get(name, {}).get(category)
                if m:
                    rows.append([category, short[name], m["n"], m["positives"], m["threshold"], m["precision"], m["recall"], m["f1"], m["auprc"]])
        table(f"{split} split, per category", ["category", "scorer", "n", "positives", "threshold", "precision", "recall", "F1", "AUPRC"], rows)
    rows = [[short[n], report["hatecheck"][n]["overall"]["f1"], report["hatecheck"][n]["overall"]["precision"],
             report["hatecheck"][n]["overall"]["recall"], report["hatecheck"][n]["overall"]["auprc"]] for n in names if n in report["hatecheck"]]
    table("HateCheck (3,728 cases, score `hate`)", ["scorer", "F1", "precision", "recall", "AUPRC"], rows)
    functionalities = sorted(report["hatecheck"][names[0]]["per_functionality"])
    rows = []
    for functionality in functionalities:
        row = [functionality, report["hatecheck"][names[0]]["per_functionality"][functionality]["n"]]
        row += [report["hatecheck"][n]["per_functionality"][functionality]["accuracy"] for n in names if n in report["hatecheck"]]
        rows.append(row)
    table("HateCheck per functionality (accuracy: recall on hateful, specificity on non-hateful)",
          ["functionality", "n"] + [short[n] for n in names if n in report["hatecheck"]], rows)
    mhc = report["multilingual_hatecheck"]
    mhc_names = list(dict.fromkeys(n for language in mhc for n in mhc[language]))
    rows = [[language] + [mhc[language].get(n, {}).get("f1") for n in mhc_names] for language in mhc]
    table("Multilingual HateCheck, F1 of `hate` per language", ["language"] + [n.split(" (")[0] for n in mhc_names], rows)
    rows = [[short[n], report["xstest"][n]["fpr_safe"], report["xstest"][n]["recall_unsafe"], report["xstest"][n]["auprc_any"]] for n in names]
    table("XSTest (flagged: any harm category at its threshold)", ["scorer", "FPR on safe", "recall on unsafe", "AUPRC (max harm score)"], rows)
    rows = [[short[n], report["text_to_image"]["coco_test_fpr"][n]["fpr"]] for n in names]
    table("COCO captions (test split), false positive rate", ["scorer", "FPR"], rows)
    rows = []
    for n in names:
        for key, m in report["olid"].get(n, {}).items():
            rows.append([short[n], key, m["n"], m["precision"], m["recall"], m["f1"], m["auprc"]])
    table("OLID", ["scorer", "score vs label", "n", "precision", "recall", "F1", "AUPRC"], rows)
    return "\n".join(out)
