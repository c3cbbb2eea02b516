"""Time open_nsfw on onnxruntime against Keras on torch, side by side, in one run.

Both runtimes get the same preprocessed batches (opennsfw2's Yahoo
preprocessing, timed separately since both pay it), so the ratio is the
model's cost alone. Run: ``python benchmarks/nsfw_runtime.py``.
"""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Keras' torch backend calls np.array on tensors, which numpy 2 flags on every call.
warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword")

BATCH_SIZES = (1, 8)
REPETITIONS = 5


def generated_images(count: int, size: int = 512) -> list[Image.Image]:
    """Noise with a few discs; the model's cost does not depend on content."""
    rng = np.random.default_rng(0)
    images = []
    for _ in range(count):
        image = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(5):
            x, y = (int(v) for v in rng.integers(0, size, 2))
            radius = int(rng.integers(10, size // 3))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        images.append(image)
    return images


def median_seconds(run: Callable[[], object], repetitions: int = REPETITIONS) -> float:
    run()  # warm-up: first calls allocate and pick kernels
    timings = []
    for _ in range(repetitions):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    import keras
    import onnxruntime
    import torch
    from opennsfw2 import Preprocessing, preprocess_image

    from classifiers.nsfw_conversion import convert_onnx_to_keras, load_keras_model, onnx_weights_path

    session = onnxruntime.InferenceSession(str(onnx_weights_path()), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    with tempfile.TemporaryDirectory() as folder:
        model = load_keras_model(convert_onnx_to_keras(Path(folder) / "open_nsfw.weights.h5"))

    images = generated_images(max(BATCH_SIZES))
    preprocess_per_image = median_seconds(lambda: preprocess_image(images[0], Preprocessing.YAHOO))
    preprocessed = np.stack([preprocess_image(image, Preprocessing.YAHOO) for image in images])

    def run_onnx(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: batch})[0]

    def run_keras(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return keras.ops.convert_to_numpy(model(batch, training=False))

    print(f"CPU cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, "
          f"onnxruntime {onnxruntime.__version__}, keras {keras.__version__} on {keras.backend.backend()}")
    print(f"Yahoo preprocessing (both runtimes): {preprocess_per_image * 1e3:.1f} ms/image")
    print(f"{'batch':>5} {'onnxruntime ms/img':>19} {'keras-torch ms/img':>19} {'ratio':>6} {'max |diff|':>11}")
    for size in BATCH_SIZES:
        batch = preprocessed[:size]
        onnx_seconds = median_seconds(lambda: run_onnx(batch))
        keras_seconds = median_seconds(lambda: run_keras(batch))
        max_diff = float(np.max(np.abs(run_onnx(batch) - run_keras(batch))))
        print(f"{size:>5} {onnx_seconds / size * 1e3:>19.1f} {keras_seconds / size * 1e3:>19.1f} "
              f"{keras_seconds / onnx_seconds:>5.1f}x {max_diff:>11.2e}")


if __name__ == "__main__":
    main()
