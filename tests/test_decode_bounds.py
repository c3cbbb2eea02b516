"""Decoding is bounded in work and memory by construction, and never holds up other requests.

Every image is generated here. Memory is measured as the high-water mark of a
child process's resident set (VmHWM), not as a timing.
"""
from __future__ import annotations

import base64
import io
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

import moderation_service.service as service_module
from conftest import encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.images import ImageLimits, ImageRejected, _shrunk, decode_image, jpeg_scan_count
from moderation_service.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_ADDED_MB = 300
sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from hostile_images import png_declaring  # noqa: E402


def gradient(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size)


def worst_rgba_png() -> bytes:
    """40 Mpx of RGBA: 160 MB decoded, the most a PNG within the pixel limit can take."""
    g = gradient((8000, 5000))
    return encode(Image.merge("RGBA", [g, g.transpose(Image.Transpose.FLIP_LEFT_RIGHT), g, g]), "PNG",
                  compress_level=1)


def worst_progressive_jpeg() -> bytes:
    """40 Mpx, 4:4:4, progressive: libjpeg keeps every coefficient (240 MB) while decoding."""
    g = gradient((8000, 5000))
    return encode(Image.merge("RGB", [g, g, g]), "JPEG", progressive=True, subsampling=0, quality=95)


def animation_at_the_budget() -> bytes:
    """400 frames of 500x500: the whole frame-pixel budget (100 Mpx), every frame decoded."""
    base = gradient((500, 500)).convert("RGB")
    frames = []
    for i in range(400):
        frame = base.copy()
        ImageDraw.Draw(frame).rectangle((i, 10, i + 100, 250), fill=(200, 40, 40))
        frames.append(frame)
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=40)
    return buffer.getvalue()


_MEASURE = """
import sys
def high_water_mb():
    return int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) // 1024
from moderation_service.images import decode_image
data = open(sys.argv[1], 'rb').read()
before = high_water_mb()
decoded = decode_image(data)
print(high_water_mb() - before, len(decoded.all_views()))
"""


def webp_at_the_canvas_limit() -> bytes:
    """Two frames of 4000x2500 (the canvas limit): libwebp keeps about 16 bytes a canvas pixel."""
    frames = [gradient((4000, 2500)).convert("RGB"), gradient((4000, 2500)).rotate(180).convert("RGB")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=40)
    return buffer.getvalue()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc for VmHWM")
@pytest.mark.parametrize("make", [worst_rgba_png, worst_progressive_jpeg, animation_at_the_budget,
                                  webp_at_the_canvas_limit])
def test_no_decode_adds_more_than_300_mb_resident(tmp_path, make):
    path = tmp_path / "input"
    path.write_bytes(make())
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    added_mb, views = map(int, result.stdout.split())
    assert views >= 1
    assert added_mb < MAX_ADDED_MB, f"{make.__name__} added {added_mb} MB"


def test_a_large_image_is_shrunk_band_by_band_as_a_whole_image_resize_would():
    picture = synthetic_scene(4).resize((3000, 2200))
    rgba = picture.convert("RGBA")
    rgba.putalpha(gradient(picture.size))
    for image in (picture, rgba, picture.convert("P"), picture.convert("L")):
        banded = np.asarray(_shrunk(image, 512)).astype(int)
        whole = np.asarray(image.convert("RGBA" if image.mode == "RGBA" else "RGB")
                           .resize(banded.shape[1::-1], Image.Resampling.LANCZOS)).astype(int)
        assert banded.shape[:2] == (375, 512)  # 4 bands of at most 8 MB of source rows
        assert np.abs(banded - whole).max() <= 1, image.mode


def test_a_large_jpeg_is_decoded_scaled_down_and_reports_its_own_size():
    decoded = decode_image(encode(synthetic_scene(1).resize((6000, 4000)), "JPEG"))
    assert (decoded.width, decoded.height) == (6000, 4000)
    assert decoded.rgb.size == (2048, 1365)


def test_scans_are_counted_exactly():
    picture = synthetic_scene(2)
    assert jpeg_scan_count(encode(picture, "JPEG")) == 1
    progressive = encode(picture, "JPEG", progressive=True)
    assert jpeg_scan_count(progressive) == progressive.count(b"\xff\xda") > 1
    # An EXIF thumbnail is a JPEG with its own scan, inside APP1: not counted.
    exif = Image.Exif()
    exif[0x010E] = "x"
    thumbnail = encode(picture.resize((64, 64)), "JPEG")
    with_thumbnail = encode(picture, "JPEG", exif=exif.tobytes() + thumbnail)
    assert with_thumbnail.count(b"\xff\xda") == 2 and jpeg_scan_count(with_thumbnail) == 1


def test_ordinary_progressive_jpegs_are_accepted_and_repeated_scans_are_not():
    picture = synthetic_scene(3).resize((2000, 2000))
    assert decode_image(encode(picture, "JPEG", progressive=True)).width == 2000
    data = encode(picture, "JPEG", progressive=True)
    last, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    for repeats, limits in ((120, ImageLimits()), (20, ImageLimits(max_jpeg_scan_pixels=100_000_000))):
        with pytest.raises(ImageRejected) as info:
            decode_image(data[:end] + data[last:end] * repeats + data[end:], limits)
        assert (info.value.code, info.value.status) == ("image_too_costly", 422)


@pytest.mark.parametrize("size", [(1, 40_000), (40_000, 2), (30_000, 200), (33_000, 2000)])
def test_extreme_shapes_are_refused_before_decoding(size):
    with pytest.raises(ImageRejected) as info:
        decode_image(png_declaring(*size), ImageLimits(max_pixels=100_000_000))
    assert info.value.code == "image_bad_shape"


# --- one client's costly images never hold up another's requests ----------------------------


@pytest.fixture
def stuck_decoder(monkeypatch):
    """A small fake around the decoder (not a classifier): it blocks until released, as a
    costly image would, then decodes for real."""
    release, started = threading.Event(), threading.Semaphore(0)
    real = service_module.decode_image

    def decode(data, limits):
        started.release()
        release.wait(60)
        return real(data, limits)

    monkeypatch.setattr(service_module, "decode_image", decode)
    yield release, started
    release.set()


def test_prompt_only_requests_complete_while_every_decoder_is_busy(tmp_path, real_classifiers, stuck_decoder):
    release, started = stuck_decoder
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0, rate_limit_per_minute=0,
                        decode_workers=2, classifier_workers=4)
    image = base64.b64encode(encode(synthetic_scene(1))).decode()
    with TestClient(create_app(settings, real_classifiers)) as client, ThreadPoolExecutor(8) as pool:
        with_key(client)
        images = [pool.submit(client.post, "/v1/moderations", json={"image": image}) for _ in range(8)]
        assert started.acquire(timeout=60) and started.acquire(timeout=60)  # both decoders are stuck
        for n in range(3):
            body = client.post("/v1/moderations", json={"prompt": f"a lighthouse at dusk, number {n}"}).json()
            assert body["decision"] == "allow"
            assert all("error" not in body["signals"][name] for name in ("toxicity", "pii"))
        assert not any(request.done() for request in images)  # the prompts did not wait for them
        release.set()
        assert all(request.result(timeout=120).status_code == 200 for request in images)


def test_a_decode_past_its_deadline_is_image_too_costly(tmp_path, real_classifiers, stuck_decoder):
    release, _ = stuck_decoder
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0, rate_limit_per_minute=0,
                        decode_timeout_ms=200)
    image = base64.b64encode(encode(synthetic_scene(1))).decode()
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        response = client.post("/v1/moderations", json={"image": image})
        assert response.status_code == 422 and response.json()["error"]["code"] == "image_too_costly"
        release.set()


# --- a hard deadline: decoding in child processes ------------------------------------------


def test_a_decode_past_its_deadline_is_killed_with_its_process_and_the_next_one_decodes():
    from hostile_images import scan_heavy_progressive_jpeg
    from moderation_service.decode_pool import DecodePool

    # Limits raised so the scan-heavy JPEG is decoded (for minutes) rather than refused.
    limits = ImageLimits(max_jpeg_scans=10**9, max_jpeg_scan_pixels=10**15)
    pool = DecodePool(workers=1, limits=limits, timeout_s=2.0)
    try:
        assert pool.decode(encode(synthetic_scene(1), "PNG")).rgb.size == (512, 512)
        first_worker = pool.pids()
        with pytest.raises(ImageRejected) as info:
            pool.decode(scan_heavy_progressive_jpeg(6000, 3000))
        assert (info.value.code, info.value.status) == ("image_too_costly", 422)
        assert pool.killed == 1 and pool.pids() == set()  # the stalled worker is gone, not left running
        with pytest.raises(ImageRejected) as info:  # the decoder's own refusals still come through
            pool.decode(b"not an image at all")
        assert info.value.code == "image_invalid"
        decoded = pool.decode(encode(synthetic_scene(2).convert("RGBA"), "PNG"))
        assert decoded.sha256 and pool.pids() and pool.pids() != first_worker
    finally:
        pool.close()


def test_the_service_decodes_in_processes_when_asked(tmp_path, real_classifiers):
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0, rate_limit_per_minute=0,
                        decode_isolation="process")
    image = base64.b64encode(encode(synthetic_scene(1))).decode()
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        body = client.post("/v1/moderations", json={"image": image}).json()
        assert body["decision"] == "allow" and body["signals"]["image_hash"]["phash"]
        refused = client.post("/v1/moderations", json={"image": base64.b64encode(png_declaring(1, 39_999_999)).decode()})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "image_bad_shape"
