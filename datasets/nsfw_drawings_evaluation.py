"""False-positive rates of nsfw_drawings on benign photos and drawings, open_nsfw beside it.

Only benign images are used (no sexual imagery, by rule), so this measures what a wrong
block or review costs on ordinary uploads, not recall. Sets:
- photos: scikit-image's bundled photographs (19) and its LFW face crops (200);
- drawings: code-generated drawings in 12 styles (``datasets/benign_drawings.py``, 25 seeded
  variants each, 300) and scikit-image's drawn samples (5).
Each image's scores: nsfw_drawings' ``hentai`` (what the default policy reads) and ``porn``
(which it does not read, for the reason these figures show on faces), and open_nsfw's
``probability``, over the same decoded image.

Run: ``moderation evaluate nsfw-drawings`` (writes ``datasets/results/nsfw_drawings_fpr.json``).
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benign_drawings import drawings  # noqa: E402
from nsfw_drawings_images import SKIMAGE_DRAWINGS, SKIMAGE_PHOTOS, lfw_faces, skimage_images, stereo_pair  # noqa: E402

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "nsfw_drawings_fpr.json"
# The default policy's thresholds on these scores (policies/default.yaml), and a few more.
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.8, 0.85)


def benign_sets() -> dict[str, dict[str, np.ndarray]]:
    generated = {f"drawing-{name}": np.asarray(image) for name, image in drawings(per_style=25, seed=11).items()}
    return {
        "photos (scikit-image)": {**skimage_images(SKIMAGE_PHOTOS), **stereo_pair()},
        "faces (LFW subset)": lfw_faces(200),
        "drawings (generated)": generated,
        "drawings (scikit-image)": skimage_images(SKIMAGE_DRAWINGS),
    }


def _decoded(pixels: np.ndarray):
    from moderation_service.images import decode_image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return decode_image(buffer.getvalue())


def evaluate() -> dict:
    """``{set: {count, scores: {name: {threshold: fpr}}, max: {name: value}}}``."""
    from classifiers.nsfw import OpenNsfwClassifier
    from classifiers.nsfw_drawings import NsfwDrawingsClassifier

    drawings_model, open_nsfw = NsfwDrawingsClassifier(), OpenNsfwClassifier()
    report = {}
    for set_name, images in benign_sets().items():
        decoded = [_decoded(pixels) for pixels in images.values()]
        ours = drawings_model.classify_batch(decoded)
        peer = open_nsfw.classify_batch(decoded)
        scores = {"nsfw_drawings.scores.hentai": [s.scores["hentai"] for s in ours],
                  "nsfw_drawings.scores.porn (policy: unused)": [s.scores["porn"] for s in ours],
                  "nsfw_drawings.drawn": [s.drawn for s in ours],
                  "nsfw.probability (open_nsfw, peer)": [s.probability for s in peer]}
        report[set_name] = {
            "count": len(decoded),
            "fpr": {name: {str(t): float(np.mean(np.asarray(values) >= t)) for t in THRESHOLDS}
                    for name, values in scores.items() if not name.endswith("drawn")},
            "max": {name: float(max(values)) for name, values in scores.items()},
            "mean": {name: float(np.mean(values)) for name, values in scores.items()},
        }
    return report


def format_report(report: dict) -> str:
    lines = ["False-positive rate (share of benign images at or above each threshold)", ""]
    for set_name, entry in report.items():
        lines.append(f"{set_name}: {entry['count']} images")
        header = "  score".ljust(44) + "".join(f">= {t}".rjust(9) for t in THRESHOLDS) + "      max"
        lines.append(header)
        for name, rates in entry["fpr"].items():
            lines.append(f"  {name}".ljust(44) + "".join(f"{rates[str(t)]:9.3f}" for t in THRESHOLDS)
                         + f"{entry['max'][name]:9.3f}")
        lines.append(f"  mean nsfw_drawings.drawn: {entry['mean']['nsfw_drawings.drawn']:.3f}")
        lines.append("")
    return "\n".join(lines)


def write(report: dict, out: Path = RESULTS_PATH) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    return out
