"""What an image costs per view, side by side in one run: decode plus every image classifier
(open_nsfw, nsfw_drawings, pHash/dHash, PDQ with its dihedral hashes), CPU time per image.

First, the second NSFW model's cost: a still image's CPU per request (decode and every image
classifier) with nsfw_drawings and without it, runs interleaved, as a ratio.

Cases: a still opaque picture (one view), the same picture with transparency
(two views: light and dark), and animated GIFs of 12 and 200 frames (the
first, the longest-shown and 8 evenly spaced frames; every frame decoded),
opaque and transparent. A baseline runs the classifiers the way they ran
before views existed (one ``rgb``, imagehash's pHash without quality) on the
still picture, so the single-view path's overhead is measured too. Last,
decoding in a child process (``MODERATION_DECODE_ISOLATION=process``) against
in this one.
Run: ``python benchmarks/image_views.py``.
"""
from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import imagehash  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

REPETITIONS = 7
SIDE = 512


def scene(seed: int, transparent: bool = False) -> Image.Image:
    image = Image.linear_gradient("L").resize((SIDE, SIDE)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for k in range(6):
        x, y = (seed * 37 + k * 91) % SIDE, (seed * 53 + k * 67) % SIDE
        draw.ellipse((x - 60, y - 60, x + 60, y + 60), fill=((k * 70) % 256, (seed * 40) % 256, 200))
    if transparent:
        image = image.convert("RGBA")
        image.putalpha(Image.linear_gradient("L").resize((SIDE, SIDE)).rotate(90))
    return image


def encoded(frames: list[Image.Image], fmt: str) -> bytes:
    buffer = io.BytesIO()
    if len(frames) == 1:
        frames[0].save(buffer, fmt)
    else:
        frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buffer.getvalue()


def cpu_seconds(run, repetitions: int = REPETITIONS) -> float:
    run()  # warm-up
    timings = []
    for _ in range(repetitions):
        start = time.process_time()
        run()
        timings.append(time.process_time() - start)
    return statistics.median(timings)


def main() -> None:
    from classifiers.registry import build_classifiers, load_config
    from moderation_service.images import decode_image

    image_classifiers = ("nsfw", "nsfw_drawings", "image_hash", "pdq")
    config = {name: options for name, options in load_config().items() if name in image_classifiers}
    classifiers = build_classifiers(config)

    def moderate_image(data: bytes, skip: tuple[str, ...] = ()) -> int:
        image = decode_image(data)
        for name, classifier in classifiers.items():
            if name not in skip:
                classifier.classify(image)
        return len(image.all_views())

    still = encoded([scene(0)], "PNG")
    second_model_cost(lambda: moderate_image(still), lambda: moderate_image(still, skip=("nsfw_drawings",)))
    cases = {
        "still opaque PNG": still,
        "still transparent PNG": encoded([scene(0, transparent=True)], "PNG"),
        "GIF, 12 frames": encoded([scene(i) for i in range(12)], "GIF"),
        "GIF, 200 frames": encoded([scene(i) for i in range(200)], "GIF"),
        "APNG, 12 transparent frames": encoded([scene(i, transparent=True) for i in range(12)], "PNG"),
    }

    def before_views() -> None:  # one rgb, as the classifiers ran before
        image = decode_image(still)
        imagehash.phash(image.rgb), imagehash.dhash(image.rgb)
        classifiers["pdq"].classify(image)
        classifiers["nsfw"].classify(image)

    baseline = cpu_seconds(before_views)
    print(f"{'case':32s} {'views':>5s} {'CPU ms':>8s} {'x still':>8s} {'ms/view':>8s}")
    print(f"{'still, classifiers before views':32s} {1:5d} {baseline * 1000:8.1f} {1.0:8.2f} {baseline * 1000:8.1f}")
    still_cost = None
    for name, data in cases.items():
        views = moderate_image(data)
        seconds = cpu_seconds(lambda: moderate_image(data))
        still_cost = still_cost or seconds
        print(f"{name:32s} {views:5d} {seconds * 1000:8.1f} {seconds / still_cost:8.2f} {seconds * 1000 / views:8.1f}")
    decode_only = {name: cpu_seconds(lambda: decode_image(data)) for name, data in cases.items()}
    print("\ndecode alone (CPU ms): " + ", ".join(f"{name} {s * 1000:.1f}" for name, s in decode_only.items()))

    # MODERATION_DECODE_ISOLATION=process: wall time per decode, in this process against a child's.
    from moderation_service.decode_pool import DecodePool
    from moderation_service.images import ImageLimits

    pool = DecodePool(1, ImageLimits(), timeout_s=60)
    try:
        print("\ndecode wall ms, in process / in a child process (the views copied back):")
        for name, data in cases.items():
            here, child = wall_seconds(lambda: decode_image(data)), wall_seconds(lambda: pool.decode(data))
            print(f"  {name:32s} {here * 1000:7.1f} / {child * 1000:7.1f}  (+{(child - here) * 1000:.1f} ms)")
    finally:
        pool.close()


def second_model_cost(with_it, without_it, rounds: int = 5) -> None:
    """Interleaved medians, so drift on a shared machine hits both sides alike."""
    with_it(), without_it()
    on, off = [], []
    for _ in range(rounds):
        on.append(cpu_seconds(with_it, repetitions=3))
        off.append(cpu_seconds(without_it, repetitions=3))
    on_ms, off_ms = statistics.median(on) * 1000, statistics.median(off) * 1000
    print(f"still image, CPU per request: with nsfw_drawings {on_ms:.1f} ms, without {off_ms:.1f} ms, "
          f"ratio {on_ms / off_ms:.3f} (+{(on_ms / off_ms - 1) * 100:.1f}%)\n")


def wall_seconds(run, repetitions: int = REPETITIONS) -> float:
    run()
    timings = []
    for _ in range(repetitions):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
