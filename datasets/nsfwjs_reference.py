"""Reference scores from nsfwjs itself, for the agreement test of the converted graph.

Runs ``tests/reference/nsfwjs_reference.js`` (nsfwjs@4.4.0 on TensorFlow.js 4.22.0's
pure-JS CPU backend: nsfwjs' own /255 and aligned-corners resize, then its model) on the
benign agreement set (``datasets/nsfw_drawings_images.py``) and writes
``tests/corpus/nsfwjs_reference.json``: per image, the sha256 and shape of the RGB pixels
given, and the five class probabilities.

Needs node and npm at generation time only (the test reads the committed JSON).
Run: ``python datasets/nsfwjs_reference.py [--node-modules DIR]``; without a directory,
the pinned packages are installed into a temporary one from the npm registry.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "datasets")]

from classifiers.nsfw_drawings_conversion import CLASSES, NSFWJS_VERSION  # noqa: E402
from nsfw_drawings_images import agreement_set  # noqa: E402

REFERENCE_PATH = ROOT / "tests" / "corpus" / "nsfwjs_reference.json"
SCRIPT = ROOT / "tests" / "reference" / "nsfwjs_reference.js"
TFJS_VERSION = "4.22.0"
PACKAGES = (f"nsfwjs@{NSFWJS_VERSION}", f"@tensorflow/tfjs@{TFJS_VERSION}", "buffer@6.0.3")


def pixels_digest(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels, np.uint8).tobytes()).hexdigest()


def install_packages(directory: Path) -> Path:
    subprocess.run(["npm", "install", "--prefix", str(directory), "--no-audit", "--no-fund", *PACKAGES],
                   check=True, capture_output=True, text=True, timeout=900)
    return directory / "node_modules"


def reference_scores(images: dict[str, np.ndarray], node_modules: Path | None = None) -> dict[str, list[float]]:
    """``{name: [5 probabilities]}`` from nsfwjs under node."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        manifest = []
        for index, (name, pixels) in enumerate(images.items()):
            (root / f"{index}.rgb").write_bytes(np.ascontiguousarray(pixels, np.uint8).tobytes())
            manifest.append({"name": name, "file": f"{index}.rgb", "height": pixels.shape[0],
                             "width": pixels.shape[1]})
        (root / "manifest.json").write_text(json.dumps(manifest))
        modules = node_modules or install_packages(root / "npm")
        subprocess.run(["node", str(SCRIPT), str(root / "manifest.json"), str(root / "scores.json")], check=True,
                       env={**os.environ, "NODE_PATH": str(modules)}, capture_output=True, text=True, timeout=1800)
        return json.loads((root / "scores.json").read_text())


def write_reference(out: Path = REFERENCE_PATH, node_modules: Path | None = None) -> Path:
    images = agreement_set()
    scores = reference_scores(images, node_modules)
    document = {
        "reference": f"nsfwjs@{NSFWJS_VERSION} MobileNetV2 on @tensorflow/tfjs@{TFJS_VERSION} (cpu backend)",
        "classes": list(CLASSES),
        "images": {name: {"shape": list(pixels.shape[:2]), "sha256": pixels_digest(pixels),
                          "scores": [round(float(value), 7) for value in scores[name]]}
                   for name, pixels in images.items()},
    }
    out.write_text(json.dumps(document, indent=1) + "\n")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, help="a node_modules holding the pinned packages")
    print(write_reference(node_modules=parser.parse_args().node_modules))
