"""Benign images for nsfw_drawings: the reference-agreement set and the false-positive sets.

Photos are scikit-image's bundled samples (``skimage.data``, shipped in the wheel that
opennsfw2 already installs; public-domain or CC0 pictures per its README) and its Labeled
Faces in the Wild subset (200 small face crops). Drawings are the code-generated ones in
``tests/corpus/benign_drawings/`` (``datasets/benign_drawings.py``). No sexual imagery,
by rule: agreement is checked on benign pictures only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

DRAWINGS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "benign_drawings"

# Bundled in the scikit-image wheel (no download); photographs and scans.
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "page", "text", "brick",
                  "grass", "gravel", "cell", "hubble_deep_field", "retina", "immunohistochemistry", "clock")
# Bundled samples that are drawings, renderings or synthetic, not photographs.
SKIMAGE_DRAWINGS = ("logo", "horse", "colorwheel", "shepp_logan_phantom", "checkerboard")


def _rgb(array: np.ndarray) -> np.ndarray:
    """Any skimage sample -> (H, W, 3) uint8 RGB (alpha composited on white)."""
    if array.dtype == bool or array.dtype.kind == "f":
        array = np.clip(np.asarray(array, np.float64) * 255, 0, 255).round().astype(np.uint8)
    image = Image.fromarray(array)
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))


def skimage_images(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    import skimage.data

    return {f"skimage-{name}": _rgb(getattr(skimage.data, name)()) for name in names}


def stereo_pair() -> dict[str, np.ndarray]:
    """The two colour photographs of scikit-image's stereo motorcycle pair."""
    import skimage.data

    left, right, _ = skimage.data.stereo_motorcycle()
    return {"skimage-motorcycle-left": _rgb(left), "skimage-motorcycle-right": _rgb(right)}


def lfw_faces(count: int = 200) -> dict[str, np.ndarray]:
    """Up to 200 face crops (25x25 grey) from scikit-image's LFW subset, as RGB."""
    import skimage.data

    faces = skimage.data.lfw_subset()[:count]
    return {f"lfw-{index:03d}": _rgb(face) for index, face in enumerate(faces)}


def generated_drawings() -> dict[str, np.ndarray]:
    return {f"drawing-{path.stem}": np.asarray(Image.open(path).convert("RGB"))
            for path in sorted(DRAWINGS_DIR.glob("*.png"))}


def edge_cases() -> dict[str, np.ndarray]:
    """Shapes the resize must get right: 1x1, one row, a thin strip, exactly 224, odd sizes."""
    rng = np.random.default_rng(3)
    return {
        "edge-1x1": np.full((1, 1, 3), (200, 30, 90), np.uint8),
        "edge-1x300": rng.integers(0, 256, (1, 300, 3), dtype=np.uint8),
        "edge-500x7": rng.integers(0, 256, (500, 7, 3), dtype=np.uint8),
        "edge-224": rng.integers(0, 256, (224, 224, 3), dtype=np.uint8),
        "edge-flat-grey": np.full((97, 131, 3), 128, np.uint8),
    }


def agreement_set() -> dict[str, np.ndarray]:
    """What tests/corpus/nsfwjs_reference.json scores: photos, drawings, faces and odd shapes."""
    return {**skimage_images(SKIMAGE_PHOTOS + SKIMAGE_DRAWINGS), **stereo_pair(), **lfw_faces(12),
            **generated_drawings(),
            **edge_cases()}
