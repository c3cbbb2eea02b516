"""Other-language figures for ``moderation evaluate text``.

Beside the served pipeline (``text_evaluation.model_scorer``: the English model,
plus the multilingual head on confidently non-English text, max per category),
Multilingual HateCheck is also scored, in the same run, by:

* the English model alone (the pipeline served before the multilingual head:
  today's figures), and
* the multilingual head alone (every text through USE + MLP), to show which of
  "max with the English model" and "the head alone" measures better.

The held-out split of ``datasets/text_templates_multilingual.py`` is scored per
language. Multilingual HateCheck is evaluation-only: read here, never in training.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from classifiers.text_evaluation import Scorer, _from_classifier, evaluate_split

ISO = {"french": "fr", "german": "de", "italian": "it", "portuguese": "pt", "spanish": "es"}


def english_only_scorer() -> Scorer:
    from classifiers.toxicity import ToxicityClassifier

    classifier = ToxicityClassifier(multilingual=False)
    classify = lambda texts: [signal.scores for signal in classifier.classify_batch(texts)]  # noqa: E731
    return Scorer("English model alone (before this head)", _from_classifier(classify), dict(classifier.thresholds))


def head_only_scorer() -> Scorer:
    from classifiers.multilingual_text_model import MultilingualScorer
    from classifiers.text_normalization import normalize_for_classification

    scorer = MultilingualScorer()

    def score(texts: Sequence[str]) -> dict[str, np.ndarray]:
        clean = [normalize_for_classification(text) or " " for text in texts]
        values = np.concatenate([scorer.score(clean[start : start + 256]) for start in range(0, len(clean), 256)])
        return {category: values[:, column] for column, category in enumerate(scorer.categories)}

    return Scorer(f"multilingual head alone ({scorer.version})", score, dict(scorer.thresholds))


def evaluate_multilingual_templates(scorers: Sequence[Scorer]) -> dict[str, Any]:
    """Held-out multilingual templates, per language and category."""
    from classifiers.multilingual_text_training import load_multilingual_templates
    from classifiers.text_normalization import normalize_for_classification
    from classifiers.text_training_data import make_row

    module_rows = load_multilingual_templates()
    languages = ("es", "it", "fr", "de", "pt", "ru")
    out: dict[str, Any] = {}
    for index, language in enumerate(languages):
        rows = [make_row(normalize_for_classification(text), "templates-multilingual", {k: float(v) for k, v in labels.items()})
                for text, labels, template_id, split in module_rows
                if split == "heldout" and template_id // 1000 == index + 1]
        out[language] = evaluate_split(rows, scorers)
    return out


def format_mhc(report: dict[str, Any]) -> str:
    """One line per scorer: Multilingual HateCheck F1 (and AUPRC) of ``hate`` per language."""
    section = report.get("multilingual_hatecheck", {})
    languages = list(section)
    names = list(dict.fromkeys(name for language in languages for name in section[language]))
    lines = ["Multilingual HateCheck, hate F1 (AUPRC) per language:"]
    for name in names:
        cells = [f"{ISO.get(language, language)} {section[language][name]['f1']} ({section[language][name]['auprc']})"
                 for language in languages if name in section[language]]
        lines.append(f"  {name}: " + ", ".join(cells))
    return "\n".join(lines)


def compare_heads_on_mhc(root, heads: dict[str, Any], limit: int | None = None, hate_lines: Sequence[float] = (),
                         log=print) -> dict[str, Any]:
    """Multilingual HateCheck only (every case of the five languages), in one run, for the served
    pipeline (English model + a multilingual head, routed by language) with each head in ``heads``
    (label -> model directory), and each head alone. Cheaper than ``evaluate text`` when only the
    other-language figures move. Returns ``{language: {scorer: metrics}}``."""
    from pathlib import Path

    from classifiers.multilingual_text_model import MultilingualScorer
    from classifiers.text_evaluation import evaluate_mhc
    from classifiers.text_normalization import normalize_for_classification
    from classifiers.toxicity import ToxicityClassifier

    scorers = []
    for label, directory in heads.items():
        classifier = ToxicityClassifier(multilingual_model_dir=str(directory))
        classify = (lambda c: lambda texts: [signal.scores for signal in c.classify_batch(texts)])(classifier)
        served = Scorer(f"served, {label} ({classifier.identity.version})", _from_classifier(classify),
                        dict(classifier.thresholds))
        head = MultilingualScorer(Path(directory))
        # The same served scores (memoised by the scorer), judged at other hate thresholds: the head's own
        # validation operating threshold, and any fixed line (e.g. a policy's review threshold).
        scorers += [served, Scorer(f"served, {label}, at the head's operating thresholds", served, dict(head.thresholds))]
        scorers += [Scorer(f"served, {label}, at hate {value}", served, {"hate": value}) for value in hate_lines]

        def score(texts: Sequence[str], head=head) -> dict[str, np.ndarray]:
            clean = [normalize_for_classification(text) or " " for text in texts]
            values = np.concatenate([head.score(clean[start : start + 256]) for start in range(0, len(clean), 256)])
            return {category: values[:, column] for column, category in enumerate(head.categories)}

        scorers.append(Scorer(f"head alone, {label} ({head.version})", score, dict(head.thresholds)))
    log("scorers: " + ", ".join(scorer.name for scorer in scorers))
    return evaluate_mhc(Path(root), scorers, limit)


if __name__ == "__main__":  # python -m classifiers.multilingual_evaluation DATASETS OUT.json LABEL=DIR [LABEL=DIR ...] [HATE_THRESHOLD ...]
    import json
    import sys
    from pathlib import Path

    heads = dict(argument.split("=", 1) for argument in sys.argv[3:] if "=" in argument)
    lines = [float(argument) for argument in sys.argv[3:] if "=" not in argument]  # extra hate thresholds
    result = compare_heads_on_mhc(Path(sys.argv[1]), heads, hate_lines=lines)
    Path(sys.argv[2]).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    for language, by_scorer in result.items():
        for name, value in by_scorer.items():
            print(f"{ISO[language]}  {name}: F1 {value['f1']} P {value.get('precision')} R {value.get('recall')} "
                  f"AUPRC {value['auprc']}")
