"""What reading frame durations ahead saves when an animation is decoded, side by side in one run.

    python benchmarks/frame_sampling.py [--rounds N]      (about a minute)

Decodes equal-duration and varied-duration animations (GIF, APNG, WebP; 1200-pixel frames)
with durations read from the container first (``moderation_service/frame_durations.py``: only
the sampled frames are shrunk to views) and without (each candidate frame shrunk as it passes,
most dropped once the median is known), in interleaved rounds, and prints the CPU ratio.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation_service import images  # noqa: E402


def animation(fmt: str, pictures: list[Image.Image], durations: list[int]) -> bytes:
    """An animated GIF, PNG or WebP (lossless) of ``pictures``, each shown ``durations`` ms."""
    buffer = io.BytesIO()
    options = {"lossless": True} if fmt == "WEBP" else {}
    pictures[0].save(buffer, format=fmt, save_all=True, append_images=pictures[1:], duration=durations, loop=0,
                     **options)
    return buffer.getvalue()


def frames(count: int, side: int = 1200) -> list[Image.Image]:
    blocks = np.random.default_rng(1).integers(0, 256, (side // 16, side // 16, 3), dtype=np.uint8)
    base = np.kron(blocks, np.ones((16, 16, 1), dtype=np.uint8))  # compresses, so the upload stays under 10 MB
    return [Image.fromarray(np.roll(base, step * 7, axis=1)) for step in range(count)]


def cpu(data: bytes) -> float:
    start = time.process_time()
    images.decode_image(data)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    cases = {f"{fmt} {count} frames, {label}": animation(fmt, frames(count), durations)
             for fmt, count in (("GIF", 30), ("PNG", 30), ("WEBP", 20))
             for label, durations in (("equal", [100] * count), ("one held 3 s", [100] * (count - 1) + [3000]))}
    ahead = images.frame_durations
    for name, data in cases.items():
        timings = {"ahead": [], "after": []}
        for _ in range(rounds):
            images.frame_durations = ahead
            timings["ahead"].append(cpu(data))
            images.frame_durations = lambda data, fmt: None
            timings["after"].append(cpu(data))
        images.frame_durations = ahead
        with_ahead, without = (statistics.median(timings[key]) for key in ("ahead", "after"))
        print(f"  {name:<28} CPU per decode, durations ahead / decoded first: x{with_ahead / without:.2f}")


if __name__ == "__main__":
    main()
