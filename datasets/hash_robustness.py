"""Robustness of pHash and PDQ to the edits reposts go through, and their false matches.

    python datasets/hash_robustness.py      # about a minute on 2 cores

Images: scikit-image's bundled samples plus generated scenes (shapes over
gradients and texture). Each is edited (resize, JPEG 30/60/90, 5/10/20% crop,
3 and 6 degree rotation, brightness, an overlaid text watermark, horizontal
flip); an edit should match its original (recall), and no image should match
a different one (false match rate, over every pair of distinct images and
edits). PDQ is measured as the service uses it: hashes below quality 50 are
dropped (a miss), and the query's 8 flips/rotations are all searched.
Writes datasets/results/hash_robustness.{json,png}.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.pdq_hash import PdqHashClassifier  # noqa: E402
from classifiers.base import DecodedImage  # noqa: E402

OUT = ROOT / "datasets" / "results"
PHASH_THRESHOLDS = list(range(0, 25))
PDQ_THRESHOLDS = list(range(0, 101, 4)) + [31, 50, 70]
SKIMAGE_SAMPLES = ["astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "page", "text",
                   "horse", "clock", "brick", "grass", "gravel", "hubble_deep_field", "immunohistochemistry",
                   "logo", "retina", "microaneurysms", "colorwheel", "cell", "eagle", "human_mitosis",
                   "kidney", "lily", "skin", "motorcycle_left", "motorcycle_right", "stereo_motorcycle"]


def skimage_images() -> list[Image.Image]:
    from skimage import data

    images = []
    for name in SKIMAGE_SAMPLES:
        try:
            array = getattr(data, name)()
        except Exception:  # some samples need a download; those are skipped offline
            continue
        if isinstance(array, tuple):
            array = array[0]
        array = np.asarray(array).astype(np.float64) if np.asarray(array).dtype != np.uint8 else np.asarray(array)
        if array.dtype != np.uint8:
            array = (255 * (array - array.min()) / max(float(array.max() - array.min()), 1e-9)).astype(np.uint8)
        if array.ndim == 3 and array.shape[2] == 4:
            array = array[:, :, :3]
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=2)
        if array.ndim == 3 and array.shape[2] == 3:
            images.append(Image.fromarray(array, "RGB"))
    return images


def generated_scene(seed: int, size: int = 512) -> Image.Image:
    """Gradient sky, shapes, and a little texture (as generated art has)."""
    rng = np.random.default_rng(seed)
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, size)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(size, axis=1)
    pixels += rng.normal(0, 12, (size // 8, size // 8, 1)).repeat(8, 0).repeat(8, 1)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(5, 12))):
        x, y, radius = int(rng.integers(0, size)), int(rng.integers(0, size)), int(rng.integers(15, size // 4))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        elif shape == 1:
            draw.rectangle((x - radius, y - radius // 2, x + radius, y + radius // 2), fill=colour)
        else:
            draw.polygon([(x, y - radius), (x - radius, y + radius), (x + radius, y + radius)], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(0.8))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def crop(image: Image.Image, fraction: float) -> Image.Image:
    width, height = image.size
    dx, dy = int(width * fraction / 2), int(height * fraction / 2)
    return image.crop((dx, dy, width - dx, height - dy))


def watermark(image: Image.Image) -> Image.Image:
    marked = image.copy()
    draw = ImageDraw.Draw(marked)
    width, height = marked.size
    for row in range(3):
        draw.text((width // 10, height // 4 + row * height // 5), "@reposter  www.example.com  #viral",
                  fill=(255, 255, 255))
    return marked


EDITS = {
    "resize_50": lambda im: im.resize((im.width // 2, im.height // 2), Image.BILINEAR),
    "jpeg_30": lambda im: jpeg(im, 30),
    "jpeg_60": lambda im: jpeg(im, 60),
    "jpeg_90": lambda im: jpeg(im, 90),
    "crop_5": lambda im: crop(im, 0.05),
    "crop_10": lambda im: crop(im, 0.10),
    "crop_20": lambda im: crop(im, 0.20),
    "rotate_3": lambda im: im.rotate(3, resample=Image.BILINEAR),
    "rotate_6": lambda im: im.rotate(6, resample=Image.BILINEAR),
    "brightness_130": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
    "watermark_text": watermark,
    "hflip": ImageOps.mirror,
}


def hashes_of(image: Image.Image, pdq: PdqHashClassifier) -> tuple[int, list[int] | None]:
    phash = int(str(imagehash.phash(image)), 16)
    signal = pdq.classify(DecodedImage(image, "PNG", image.width, image.height, ""))
    pdq_hashes = [int(h, 16) for h in [signal.hash, *signal.dihedral]] if signal.hash else None
    return phash, pdq_hashes


def rates(true_distances: list[float], false_distances: list[float], thresholds: list[int]) -> list[dict]:
    true_distances, false_distances = np.array(true_distances), np.array(false_distances)
    return [{"threshold": t, "recall": float(np.mean(true_distances <= t)),
             "false_match_rate": float(np.mean(false_distances <= t))} for t in thresholds]


def main() -> None:
    pdq = PdqHashClassifier()
    originals = skimage_images() + [generated_scene(seed) for seed in range(40)]
    print(f"{len(originals)} images ({len(originals) - 40} scikit-image samples, 40 generated), {len(EDITS)} edits")
    hashed = [hashes_of(image, pdq) for image in originals]
    edited = {name: [hashes_of(edit(image), pdq) for image in originals] for name, edit in EDITS.items()}
    inf = float("inf")

    def pdq_distance(query: list[int] | None, stored: list[int] | None) -> float:
        if query is None or stored is None:
            return inf  # quality below 50: no hash, so no match either way
        return min((q ^ stored[0]).bit_count() for q in query)

    phash_true, pdq_true, per_edit = [], [], {}
    for name, results in edited.items():
        p_true = [(h[0] ^ o[0]).bit_count() for h, o in zip(results, hashed)]
        q_true = [pdq_distance(h[1], o[1]) for h, o in zip(results, hashed)]
        phash_true += p_true
        pdq_true += q_true
        per_edit[name] = {"phash": p_true, "pdq": q_true}
    phash_false, pdq_false = [], []
    queries = hashed + [h for results in edited.values() for h in results]
    owners = list(range(len(originals))) * (1 + len(EDITS))
    for query, owner in zip(queries, owners):
        for other, stored in enumerate(hashed):
            if other != owner:
                phash_false.append((query[0] ^ stored[0]).bit_count())
                pdq_false.append(pdq_distance(query[1], stored[1]))

    report = {
        "images": len(originals), "edits": list(EDITS), "true_pairs": len(phash_true), "distinct_pairs": len(phash_false),
        "pdq_quality_below_50": sum(1 for h in hashed if h[1] is None),
        "phash": rates(phash_true, phash_false, PHASH_THRESHOLDS),
        "pdq": rates(pdq_true, pdq_false, sorted(set(PDQ_THRESHOLDS))),
        "recall_by_edit": {
            name: {"phash@8": float(np.mean(np.array(d["phash"]) <= 8)),
                   "phash@10": float(np.mean(np.array(d["phash"]) <= 10)),
                   "pdq@31": float(np.mean(np.array(d["pdq"]) <= 31)),
                   "pdq@50": float(np.mean(np.array(d["pdq"]) <= 50))} for name, d in per_edit.items()},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hash_robustness.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"PDQ quality < 50 on {report['pdq_quality_below_50']} of {len(originals)} originals")
    for signal in ("phash", "pdq"):
        print(f"{signal}: threshold  recall  false-match rate")
        for row in report[signal]:
            print(f"  {row['threshold']:>4}  {row['recall']:.3f}  {row['false_match_rate']:.5f}")
    print("recall by edit:")
    for name, row in report["recall_by_edit"].items():
        print(f"  {name:15} " + "  ".join(f"{k} {v:.2f}" for k, v in row.items()))
    plot(report, OUT / "hash_robustness.png")


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, signal, bits in ((axes[0], "phash", 64), (axes[1], "pdq", 256)):
        rows = report[signal]
        thresholds = [r["threshold"] for r in rows]
        axis.plot(thresholds, [r["recall"] for r in rows], marker="o", label="recall of the true duplicate")
        axis.set_ylabel("recall", color="tab:blue")
        # False match rates are tiny: on their own log axis, so the first false match is visible.
        rate_axis = axis.twinx()
        rate_axis.plot(thresholds, [r["false_match_rate"] for r in rows], marker="x", color="tab:orange",
                       label="false match rate (right, log)")
        rate_axis.set_yscale("symlog", linthresh=1e-5)
        rate_axis.set_ylim(0, 1)
        rate_axis.set_ylabel("false match rate", color="tab:orange")
        axis.set_title(f"{signal} ({bits} bits)")
        axis.set_xlabel("threshold (Hamming distance)")
        axis.set_ylim(-0.02, 1.02)
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left")
        rate_axis.legend(loc="center left")
    figure.suptitle(f"{report['images']} images x {len(report['edits'])} edits; "
                    f"{report['distinct_pairs']} distinct pairs")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
