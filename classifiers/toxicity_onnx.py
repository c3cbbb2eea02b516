"""The bundled text safety model (MiniLM with its fine-tuned top layers, mean+max
pooling, head, sigmoid) as one ONNX graph: token windows in, raw probabilities out.

The graph is built here from the bundled torch weights, offline and in a
few seconds, and cached under a name derived from those weights, so a
changed model never meets a stale graph. onnxruntime then serves it, with raw
probabilities equal to torch's within ``SCORE_TOLERANCE`` (tests check it);
windowing, the max over windows and calibration are shared with the torch
runtime (``classifiers.toxicity.WindowedScorer``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.base import sha256_of_files
from classifiers.onnx_session import open_session, session_device
from classifiers.toxicity import WindowedScorer, bundled_weight_files

log = logging.getLogger(__name__)

# Largest difference in any probability between this runtime and torch that
# tests accept (measured: under 1e-6 on 2,000 dataset prompts).
SCORE_TOLERANCE = 1e-4
# Bump when the export below changes, so cached graphs are rebuilt.
_GRAPH_RECIPE = "2-text-safety"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OPSET = 17


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "moderation-service"


def graph_path(cache_dir: Path, weights_sha256: str) -> Path:
    """Named by the recipe and the digest of the weights it is built from."""
    digest = hashlib.sha256(f"{_GRAPH_RECIPE}:{weights_sha256}".encode()).hexdigest()
    return Path(cache_dir) / f"toxicity-{digest[:16]}.onnx"


def default_graph_path() -> Path:
    """Where the service looks for the bundled model's graph by default."""
    return graph_path(default_cache_dir(), sha256_of_files(*bundled_weight_files()))


def export_graph(destination: Path, max_length: int = 128) -> Path:
    """Export the bundled torch model to ``destination`` (atomically: workers may race)."""
    import torch

    from classifiers.text_model import load_model

    model, tokenizer, _config = load_model()

    class WithSigmoid(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return torch.sigmoid(self.model(input_ids, attention_mask, token_type_ids))

    example = tokenizer(["an example", "a longer example prompt"], padding=True, return_tensors="pt")
    dynamic = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=destination.parent, suffix=".onnx.partial")
    os.close(handle)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer chatter about Python control flow in transformers
            torch.onnx.export(
                WithSigmoid().eval(),
                tuple(example[name] for name in _INPUTS),
                partial,
                input_names=list(_INPUTS),
                output_names=["probabilities"],
                dynamic_axes={**dynamic, "probabilities": {0: "batch"}},
                opset_version=_OPSET,
                dynamo=False,
            )
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from workers run as other users
        os.replace(partial, destination)
    finally:
        Path(partial).unlink(missing_ok=True)
    return destination


class OnnxBundledBackend(WindowedScorer):
    """Same contract as the torch backend in ``classifiers.toxicity``: ``score`` returns named, calibrated probabilities."""

    def __init__(
        self,
        device: str,
        max_length: int,
        cache_dir: Path | None = None,
        intra_op_threads: int | None = None,
        graph: Path | None = None,
    ) -> None:
        """``graph`` serves that file instead of the cached export (a benchmark's variant)."""
        from transformers import AutoTokenizer

        from classifiers.text_model import read_config
        from classifiers.toxicity import ENCODER_NAME, bundled_encoder_path, bundled_version

        self.config = read_config()
        # Read once: it is both the identity decisions record and the graph's cache key.
        self.weights_sha256 = sha256_of_files(*bundled_weight_files())
        path = graph or graph_path(cache_dir or default_cache_dir(), self.weights_sha256)
        if graph is None and not path.is_file():
            log.info("building the toxicity ONNX graph at %s (once per weights version)", path)
            export_graph(path, max_length)
        self.tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()), local_files_only=True)
        self._session = open_session(path, device, intra_op_threads)
        self.device = session_device(self._session)
        self._input_names = [model_input.name for model_input in self._session.get_inputs()]
        self.graph_file = path
        self.categories = tuple(self.config["categories"])
        self.thresholds = dict(self.config.get("thresholds", {}))
        self.model_name = f"{ENCODER_NAME}+text-safety"
        self.version = f"{bundled_version(self.config)}+onnxruntime"

    def _run(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        (probabilities,) = self._session.run(None, {name: batch[name] for name in self._input_names})
        return probabilities
