"""PII detection measured against its anchor, in one run, on the same texts.

Two sets: presidio-research's synthetic benchmark (``synth_dataset_v2.json``,
1,500 sentences, MIT, evaluation only; in ``../shared/datasets/presidio-synth``)
and our evasion set (``datasets/pii_evasion.py``). Two systems: our classifier
(``classifiers.pii.PresidioPiiClassifier``) and presidio's default
``AnalyzerEngine`` with the same spaCy model, the same entities and the same
score threshold (the anchor).

Matching is per span and type: a labelled span is found when a prediction of
the same type covers at least half of its characters; a prediction is correct
when a labelled span of the same type covers at least half of its characters.
Synthetic labels are mapped to our entity types (GPE and STREET_ADDRESS are
LOCATION, DOMAIN_NAME is URL); labels we do not detect (ORGANIZATION,
DATE_TIME, AGE, ...) are left out, as are predictions of types the set never
labels. F2 weighs recall twice: a missed card number costs more than a
redacted word.

Run: ``moderation evaluate pii`` or ``python datasets/pii_evaluation.py``
(a few minutes on 2 CPUs); ``--out`` writes the report as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "datasets"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from pii_evasion import evasion_cases  # noqa: E402

SYNTH_FILE = Path("presidio-synth") / "synth_dataset_v2.json"
DEFAULT_DATASETS = ROOT.parent / "shared" / "datasets"
LABEL_MAP = {"GPE": "LOCATION", "STREET_ADDRESS": "LOCATION", "DOMAIN_NAME": "URL"}
Span = tuple[str, int, int]


def load_synth(shared_datasets: Path) -> list[tuple[str, list[Span]]]:
    """(text, labelled spans with our type names); ``FileNotFoundError`` naming the file when absent."""
    path = Path(shared_datasets) / SYNTH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the presidio-research synthetic set (see ../shared/datasets/README.md)")
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        (row["full_text"], [(LABEL_MAP.get(s["entity_type"], s["entity_type"]), s["start_position"], s["end_position"])
                            for s in row["spans"]])
        for row in rows
    ]


def _covered(span: Span, others: Iterable[Span]) -> bool:
    kind, start, end = span
    chars = sum(max(0, min(end, o_end) - max(start, o_start)) for o_kind, o_start, o_end in others if o_kind == kind)
    return chars * 2 >= (end - start)


def score(gold: Sequence[list[Span]], predicted: Sequence[list[Span]], entity_types: Iterable[str]) -> dict[str, dict]:
    """Per entity type: support, tp/fn (labels found or not), fp, precision, recall, F2."""
    types = set(entity_types)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"support": 0, "found": 0, "predicted": 0, "correct": 0})
    labelled_types = {kind for spans in gold for kind, _, _ in spans}
    for gold_spans, predicted_spans in zip(gold, predicted):
        gold_spans = [s for s in gold_spans if s[0] in types]
        predicted_spans = [s for s in predicted_spans if s[0] in types and s[0] in labelled_types]
        for span in gold_spans:
            counts[span[0]]["support"] += 1
            counts[span[0]]["found"] += _covered(span, predicted_spans)
        for span in predicted_spans:
            counts[span[0]]["predicted"] += 1
            counts[span[0]]["correct"] += _covered(span, gold_spans)
    report = {}
    for kind in sorted(counts):
        c = counts[kind]
        precision = c["correct"] / c["predicted"] if c["predicted"] else None
        recall = c["found"] / c["support"] if c["support"] else None
        f2 = (5 * precision * recall / (4 * precision + recall)
              if precision is not None and recall is not None and (precision or recall) else None)
        report[kind] = {**c, "precision": _round(precision), "recall": _round(recall), "f2": _round(f2)}
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def ours(classifier: Any) -> Callable[[list[str]], list[list[Span]]]:
    def predict(texts: list[str]) -> list[list[Span]]:
        return [[(e.type, e.start, e.end) for e in signal.entities] for signal in classifier.classify_batch(texts)]
    return predict


def anchor(entities: list[str], score_threshold: float, spacy_model: str) -> Callable[[list[str]], list[list[Span]]]:
    """presidio's default ``AnalyzerEngine`` (default registry) with our spaCy model."""
    import classifiers.pii  # noqa: F401  (keeps tldextract offline)
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model}]}).create_engine()
    engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])

    def predict(texts: list[str]) -> list[list[Span]]:
        return [[(r.entity_type, r.start, r.end) for r in engine.analyze(text, "en", entities=entities,
                                                                         score_threshold=score_threshold)]
                for text in texts]
    return predict


def evaluate_pii(shared_datasets: Path | None = DEFAULT_DATASETS, limit: int | None = None) -> dict[str, Any]:
    """Both systems on both sets. Without the synthetic set (``shared_datasets`` None or
    missing) only the evasion set is measured, and the report says so."""
    from classifiers.pii import PresidioPiiClassifier

    classifier = PresidioPiiClassifier()
    systems = {"ours": ours(classifier),
               "presidio_default": anchor(classifier.entities, classifier.score_threshold,
                                          classifier.identity.name.split("+", 1)[1])}
    sets: dict[str, tuple[list[str], list[list[Span]]]] = {}
    cases = evasion_cases()
    sets["evasion"] = ([c.text for c in cases], [list(c.entities) for c in cases])
    report: dict[str, Any] = {"entities": classifier.entities, "score_threshold": classifier.score_threshold,
                              "model": classifier.identity.as_dict(), "sets": {}}
    try:
        synth = load_synth(shared_datasets) if shared_datasets is not None else None
    except FileNotFoundError as exc:
        synth, report["synthetic_missing"] = None, str(exc)
    if synth is not None:
        synth = synth[:limit] if limit else synth
        sets["synthetic"] = ([t for t, _ in synth], [s for _, s in synth])
    for set_name, (texts, gold) in sets.items():
        report["sets"][set_name] = {"texts": len(texts)}
        for system_name, predict in systems.items():
            started = time.perf_counter()
            predicted = predict(texts)
            report["sets"][set_name][system_name] = {
                "seconds": round(time.perf_counter() - started, 2),
                "per_entity": score(gold, predicted, classifier.entities),
            }
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = []
    if "synthetic_missing" in report:
        lines.append(f"synthetic set skipped: {report['synthetic_missing']}")
    for set_name, result in report["sets"].items():
        lines.append(f"\n{set_name} ({result['texts']} texts)")
        lines.append(f"{'entity':<15}{'support':>8}  {'ours P/R/F2':>22}  {'presidio default P/R/F2':>26}")
        kinds = sorted(set(result["ours"]["per_entity"]) | set(result["presidio_default"]["per_entity"]))
        for kind in kinds:
            cells = []
            for system in ("ours", "presidio_default"):
                m = result[system]["per_entity"].get(kind, {})
                cells.append("/".join("-" if m.get(k) is None else f"{m[k]:.3f}" for k in ("precision", "recall", "f2")))
            support = (result["ours"]["per_entity"].get(kind) or result["presidio_default"]["per_entity"][kind])["support"]
            lines.append(f"{kind:<15}{support:>8}  {cells[0]:>22}  {cells[1]:>26}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--limit", type=int, default=None, help="first N synthetic sentences only")
    parser.add_argument("--out", type=Path, default=None, help="write the report here as JSON")
    args = parser.parse_args(argv)
    report = evaluate_pii(args.datasets, args.limit)
    print(format_report(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
