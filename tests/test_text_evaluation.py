"""`moderation evaluate text`'s judging: one threshold per text where the served pipeline routes text
in another language to the multilingual head, as the default policy does.

The first tests use a small fake scorer (a function of the text) only to exercise the metric code;
the last one uses the real classifier and language detector.
"""
from __future__ import annotations

import numpy as np
import pytest

from classifiers.text_evaluation import Scorer, flagged_any, metrics


def _fake_scorer(route: bool) -> Scorer:
    """Scores 0.4 for every text; texts starting with "es:" are judged at 0.3 when routed."""
    def score(texts):
        return {"hate": np.full(len(texts), 0.4, dtype=np.float32), "violence": np.zeros(len(texts), dtype=np.float32)}

    def tables(texts):
        return [{"hate": 0.3} if text.startswith("es:") else None for text in texts]

    return Scorer("fake", score, {"hate": 0.6, "violence": 0.5}, route_thresholds=tables if route else None)


def test_without_routes_every_text_gets_the_scorers_threshold() -> None:
    scorer = _fake_scorer(route=False)
    assert scorer.threshold("hate", ["a", "es: b"]).tolist() == pytest.approx([0.6, 0.6])
    assert scorer.threshold("unknown category", ["a"]).tolist() == [0.5]


def test_routed_texts_are_judged_at_their_own_threshold() -> None:
    scorer = _fake_scorer(route=True)
    texts = ["en one", "es: dos", "en three", "es: cuatro"]
    assert scorer.threshold("hate", texts).tolist() == pytest.approx([0.6, 0.3, 0.6, 0.3])
    assert scorer.threshold("violence", texts).tolist() == pytest.approx([0.5] * 4)  # no route table entry
    flagged, worst = flagged_any(scorer, texts, ["hate", "violence"])
    assert flagged.tolist() == [False, True, False, True]
    assert worst.tolist() == pytest.approx([0.4] * 4)


def test_metrics_with_one_threshold_per_row_counts_each_row_at_its_own() -> None:
    truth = np.array([True, True, False, False])
    scores = np.array([0.4, 0.4, 0.4, 0.1])
    result = metrics(truth, scores, np.array([0.6, 0.3, 0.3, 0.3]))
    assert (result["precision"], result["recall"], result["fpr"]) == (0.5, 0.5, 0.5)
    assert result["threshold"] == [0.3, 0.6]  # the distinct lines used
    assert metrics(truth, scores, 0.3)["threshold"] == 0.3


@pytest.mark.slow
def test_the_served_scorer_judges_other_languages_at_the_heads_thresholds() -> None:
    from classifiers.text_evaluation import model_scorer
    from classifiers.toxicity import ToxicityClassifier

    scorer = model_scorer()
    head = ToxicityClassifier()._multilingual.thresholds
    texts = ["Our neighbours invited us for dinner on Sunday evening",
             "Nuestros vecinos nos invitaron a cenar el domingo por la noche",
             "Unsere Nachbarn haben uns am Sonntagabend zum Essen eingeladen"]
    assert scorer.threshold("hate", texts).tolist() == pytest.approx(
        [scorer.thresholds["hate"], head["hate"], head["hate"]], abs=1e-6)
