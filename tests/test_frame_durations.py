"""Frame durations read from the container before decoding, so only the sampled frames are shrunk."""
from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from conftest import animation, synthetic_scene
from moderation_service import images
from moderation_service.frame_durations import frame_durations
from moderation_service.images import decode_image

PATTERNS = [
    [100] * 20,                                  # all equal: nothing is held longer than the median
    [40] * 9 + [3000] + [40] * 10,               # one frame held for seconds
    [0, 20, 5000, 20, 20, 7000, 20, 20, 20, 20, 20, 1000, 20, 20],
    [250, 10, 10, 10, 10, 10, 10, 10, 10, 10, 900, 900, 900, 10, 10, 10, 10, 10, 10, 10, 10, 10],
]


def pillow_durations(data: bytes) -> list[float]:
    with Image.open(io.BytesIO(data)) as image:
        found = []
        for index in range(image.n_frames):
            image.seek(index)
            image.load()
            found.append(float(image.info.get("duration") or 0))
        return found


def varied_animation(fmt: str, durations: list[int]) -> bytes:
    return animation(fmt, [synthetic_scene(300 + k, (128, 96)) for k in range(len(durations))], durations)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
@pytest.mark.parametrize("durations", PATTERNS + [[random.Random(seed).choice([0, 10, 50, 100, 250, 1000])
                                                   for _ in range(12)] for seed in range(3)])
def test_durations_read_ahead_are_the_ones_pillow_reports(fmt, durations):
    data = varied_animation(fmt, durations)
    assert frame_durations(data, fmt) == pillow_durations(data)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
@pytest.mark.parametrize("durations", PATTERNS)
def test_the_same_frames_are_sampled_and_only_they_are_shrunk(fmt, durations, monkeypatch):
    data = varied_animation(fmt, durations)
    shrunk = []
    original_views = images._views
    monkeypatch.setattr(images, "_views", lambda *args, **kwargs: shrunk.append(kwargs["frame"]) or original_views(*args, **kwargs))
    ahead = decode_image(data)
    sampled = sorted({view.frame for view in ahead.views})
    assert sorted(shrunk) == sampled  # nothing shrunk for nothing
    monkeypatch.setattr(images, "frame_durations", lambda data, fmt: None)  # decode first, choose after
    shrunk.clear()
    behind = decode_image(data)
    assert sorted({view.frame for view in behind.views}) == sampled
    assert len(shrunk) >= len(sampled)


def test_a_structure_the_walk_cannot_follow_is_left_to_the_decoder():
    assert frame_durations(b"GIF89a" + bytes(7) + b"\x99", "GIF") is None
    assert frame_durations(b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x21\xf9", "GIF") is None  # cut short
    assert frame_durations(b"\xff\xd8\xff", "JPEG") is None
