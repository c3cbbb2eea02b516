"""What viewers see is what is moderated: every sampled frame of an animation, both
backgrounds of a transparent picture, and never a decision from a blank hash.

End to end through the API on the real classifiers and a SQLite file; every
image is generated here (benign synthetic scenes), none is committed.
"""
from __future__ import annotations

import base64
import io

import imagehash
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from conftest import animation, encode, synthetic_scene, with_key
from classifiers.base import DecodedImage
from classifiers.image_hash import ImageHashClassifier, phash_with_quality
from moderation_service.api.app import create_app
from moderation_service.auth import ApiKeyStore
from moderation_service.images import decode_image
from moderation_service.settings import Settings

BENIGN_SEED, BANKED_SEED = 1, 2


@pytest.fixture(scope="module")
def app(tmp_path_factory, real_classifiers):
    settings = Settings(data_dir=tmp_path_factory.mktemp("views") / "data", policy_watch_interval_s=0,
                        rate_limit_per_minute=0)
    with TestClient(create_app(settings, real_classifiers)) as client:
        yield client.app


@pytest.fixture(scope="module")
def admin(app):
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {ApiKeyStore(app.state.storage.session_factory).create('ops', ['admin']).secret}"
    return client


@pytest.fixture(scope="module")
def moderator(app):
    return with_key(TestClient(app))


@pytest.fixture(scope="module")
def banked_picture(admin) -> Image.Image:
    """A benign scene standing in for known-bad content: its pHash and PDQ are in a block bank."""
    picture = synthetic_scene(BANKED_SEED, (320, 320))
    admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"})
    hashes = admin.post("/v1/banks/lookup", json={"image": b64(encode(picture))}).json()["hashes"]
    entries = [{"signal_type": "phash", "hash": hashes["phash"][0], "label": "known"},
               {"signal_type": "pdq", "hash": hashes["pdq"][0], "label": "known"}]
    assert admin.post("/v1/banks/known-bad/entries", json={"entries": entries}).status_code == 201
    return picture


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def benign_frame(index: int, seed: int = BENIGN_SEED) -> Image.Image:
    # A marker that moves, so no two frames are equal (encoders merge equal neighbours).
    frame = synthetic_scene(seed, (320, 320))
    ImageDraw.Draw(frame).rectangle((4 * index, 300, 4 * index + 12, 312), fill=(250, 250, 250))
    return frame


def moderate(moderator, data: bytes) -> dict:
    response = moderator.post("/v1/moderations", json={"image": b64(data)})
    assert response.status_code == 200, response.text
    return response.json()


def bank_rule_fired(body: dict) -> bool:
    return "hash-bank-block" in [reason["rule_id"] for reason in body["reasons"]]


# --- every frame that shows ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_a_banked_later_frame_behind_a_benign_first_frame_is_blocked(moderator, banked_picture, fmt):
    frames = [benign_frame(i) for i in range(12)]
    frames[4:8] = [banked_picture] * 4  # shown for 200 ms, after a benign 50 ms first frame
    body = moderate(moderator, animation(fmt, frames, [50] * 12))
    assert body["decision"] == "block" and bank_rule_fired(body)
    matched_frames = {match["frame"] for match in body["signals"]["banks"]["matches"]}
    assert matched_frames and matched_frames <= {4, 5, 6, 7}
    assert body["signals"]["pdq"]["views"][0]["frame"] == 0  # the signal lists each sampled frame


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_a_banked_frame_shown_longest_is_found_between_the_evenly_spaced_ones(moderator, banked_picture, fmt):
    frames = [benign_frame(i) for i in range(40)]
    frames[13] = banked_picture  # not among the 8 evenly spaced frames of 40, but shown for 3 s
    durations = [40] * 40
    durations[13] = 3000
    decoded = decode_image(animation(fmt, frames, durations))
    assert 13 in {view.frame for view in decoded.views} and decoded.frame_count == 40
    body = moderate(moderator, animation(fmt, frames, durations))
    assert body["decision"] == "block" and bank_rule_fired(body)
    assert {match["frame"] for match in body["signals"]["banks"]["matches"]} == {13}


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
@pytest.mark.parametrize("decoys", [{0: 5000}, {21: 5010}, {0: 5000, 21: 5010, 25: 5020}],
                         ids=["tie-with-frame-0", "one-decoy-held-longer", "three-decoys"])
def test_decoys_held_as_long_do_not_hide_a_banked_frame_shown_for_seconds(moderator, banked_picture, fmt, decoys):
    frames = [benign_frame(i, seed=13) for i in range(40)]  # frames no other test sends
    frames[3] = banked_picture  # not among the evenly spaced frames of 40
    durations = [100] * 40
    durations[3] = 5000
    for index, duration in decoys.items():
        durations[index] = duration
    decoded = decode_image(animation(fmt, frames, durations))
    assert 3 in {view.frame for view in decoded.views}
    body = moderate(moderator, animation(fmt, frames, durations))
    assert body["decision"] == "block" and 3 in {match["frame"] for match in body["signals"]["banks"]["matches"]}


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_an_animation_of_benign_frames_only_is_not_matched(moderator, banked_picture, fmt):
    body = moderate(moderator, animation(fmt, [benign_frame(i) for i in range(12)], [50] * 12))
    assert not bank_rule_fired(body) and "banks" not in body["signals"]
    assert len(body["signals"]["nsfw"]["views"]) >= 8  # every sampled frame was classified
    assert len(body["signals"]["nsfw_drawings"]["views"]) == len(body["signals"]["nsfw"]["views"])


def test_frames_sampled_are_the_first_the_longest_and_evenly_spaced():
    frames = [benign_frame(i) for i in range(30)]
    durations = [30] * 30
    durations[17] = 500
    decoded = decode_image(animation("GIF", frames, durations))
    expected = {round(i * 29 / 7) for i in range(8)} | {0, 17}
    assert [view.frame for view in decoded.views] == sorted(expected)
    assert all(max(view.rgb.size) <= 512 for view in decoded.views)


# --- what alpha hides ------------------------------------------------------------------------


def alpha_hidden(picture: Image.Image) -> Image.Image:
    """White pixels whose alpha carries the picture: blank on a white page, visible on a dark one."""
    hidden = Image.new("RGBA", picture.size, (255, 255, 255, 255))
    hidden.putalpha(picture.convert("L"))
    return hidden


def test_a_picture_hidden_in_alpha_is_matched_on_the_dark_background(moderator, banked_picture):
    visible_on_dark = banked_picture.convert("L").convert("RGB")
    body = moderate(moderator, encode(alpha_hidden(visible_on_dark)))
    assert body["decision"] == "block" and bank_rule_fired(body)
    assert {match["background"] for match in body["signals"]["banks"]["matches"]} == {"dark"}
    light, dark = body["signals"]["image_hash"]["views"]
    assert (light["background"], light["phash"]) == ("light", None)  # blank on white: no hash
    assert dark["background"] == "dark" and dark["phash"] is not None
    assert {view["background"] for view in body["signals"]["nsfw"]["views"]} == {"light", "dark"}
    assert {view["background"] for view in body["signals"]["nsfw_drawings"]["views"]} == {"light", "dark"}


def key_drawn_16_bit(picture: Image.Image, key: int = 0) -> bytes:
    """A 16-bit greyscale PNG whose tRNS key draws the picture: its dark pixels take the key's
    raw value (transparent to a viewer), the rest a near-black grey. Flat grey to a decoder
    that ignores the key; the picture on a white page."""
    shape = np.asarray(picture.convert("L")) < 128
    values = np.where(shape, key, key + 257).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, "PNG", transparency=key)
    return buffer.getvalue()


def test_a_picture_drawn_by_the_colour_key_of_a_16_bit_grey_png_is_seen():
    ring = Image.new("L", (96, 96), 255)
    ImageDraw.Draw(ring).ellipse((16, 16, 80, 80), outline=0, width=10)
    for key in (0, 40_000):
        decoded = decode_image(key_drawn_16_bit(ring, key))
        light, dark = decoded.views
        assert (light.background, dark.background) == ("light", "dark")
        # On white the ring (transparent) is white and the rest near-black: the picture shows.
        assert light.rgb.getpixel((48, 19)) == (255, 255, 255) and light.rgb.getpixel((48, 48))[0] < 200


def test_a_banked_picture_drawn_by_a_16_bit_colour_key_is_matched(admin, moderator):
    # A two-tone picture in a block bank; the key-drawn file shows it on a white page.
    banked = synthetic_scene(9, (320, 320)).convert("L").point(lambda value: 255 if value > 110 else 0)
    admin.post("/v1/banks", json={"name": "two-tone", "purpose": "block"})
    hashes = admin.post("/v1/banks/lookup", json={"image": b64(encode(banked.convert("RGB")))}).json()["hashes"]
    entries = [{"signal_type": "phash", "hash": hashes["phash"][0]}, {"signal_type": "pdq", "hash": hashes["pdq"][0]}]
    assert admin.post("/v1/banks/two-tone/entries", json={"entries": entries}).status_code == 201
    body = moderate(moderator, key_drawn_16_bit(banked.point(lambda value: 255 - value)))
    assert body["decision"] == "block" and bank_rule_fired(body)
    assert "light" in {match["background"] for match in body["signals"]["banks"]["matches"]}


def test_transparency_gives_two_views_and_an_opaque_image_one():
    picture = synthetic_scene(5).resize((64, 64))
    assert decode_image(encode(picture, "JPEG")).views == ()
    assert decode_image(encode(picture.convert("RGBA"), "PNG")).views == ()  # an alpha channel, all opaque
    sticker = picture.convert("RGBA")
    sticker.putalpha(Image.new("L", sticker.size, 0).point(lambda _: 0))
    ImageDraw.Draw(sticker).ellipse((8, 8, 56, 56), fill=(200, 30, 30, 255))
    views = decode_image(encode(sticker, "PNG")).views
    assert [view.background for view in views] == ["light", "dark"]
    assert views[0].rgb.getpixel((0, 0)) == (255, 255, 255) and views[1].rgb.getpixel((0, 0)) == (0, 0, 0)


# --- no decision from a blank hash ----------------------------------------------------------

FLAT_IMAGES = {
    "white 1x1 PNG": encode(Image.new("RGB", (1, 1), (255, 255, 255)), "PNG"),
    "red 1x1 GIF": encode(Image.new("RGB", (1, 1), (255, 0, 0)), "GIF"),
    "black 2x3 JPEG": encode(Image.new("RGB", (2, 3), (0, 0, 0)), "JPEG"),
    "grey 640x480 WebP": encode(Image.new("RGB", (640, 480), (128, 128, 128)), "WEBP"),
    "blue 300x200 JPEG": encode(Image.new("RGB", (300, 200), (20, 40, 200)), "JPEG", quality=30),
    "transparent 10x10 PNG": encode(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"),
    "green 1x1 in a 16-bit PNG": encode(Image.new("I;16", (1, 1), 30_000), "PNG"),
}


def test_flat_images_never_match_or_index_a_blank_hash(admin, moderator):
    admin.post("/v1/banks", json={"name": "blank-trap", "purpose": "block"})
    entries = [{"signal_type": "phash", "hash": "8000000000000000", "label": "flat"},
               {"signal_type": "phash", "hash": "0000000000000000", "label": "zero"}]
    assert admin.post("/v1/banks/blank-trap/entries", json={"entries": entries}).status_code == 201
    for name, data in FLAT_IMAGES.items():
        body = moderate(moderator, data)
        image_hash = body["signals"]["image_hash"]
        assert body["decision"] == "allow", name
        assert "banks" not in body["signals"], name
        assert image_hash["phash"] is None and image_hash["quality"] < 2.0, name
        assert image_hash["near_duplicates"] == [], name  # the flat images before it were not indexed


def one_axis_pictures() -> dict[str, bytes]:
    """Pictures with structure along one axis only (or a symmetric pattern): their pHash ties at
    the median (a horizontal gradient's is the flat image's) and their PDQ mostly too."""
    rng = np.random.default_rng(3)
    pictures = {}
    for index in range(4):
        low, high = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        ramp = np.linspace(0, 1, 300)[None, :, None]
        pictures[f"gradient {index}"] = encode(Image.fromarray((low * (1 - ramp) + high * ramp).repeat(200, axis=0)
                                                               .astype(np.uint8)), "PNG")
    halves = np.zeros((240, 240, 3), np.uint8)
    halves[:, 120:] = (200, 40, 90)
    pictures["two halves"] = encode(Image.fromarray(halves), "JPEG")
    stripes = np.zeros((300, 500, 3), np.uint8)
    stripes[100:200], stripes[200:] = (221, 0, 0), (255, 206, 0)
    pictures["a striped flag"] = encode(Image.fromarray(stripes), "PNG")
    checker = ((np.indices((256, 256)) // 32).sum(0) % 2 * 255).astype(np.uint8)
    pictures["a checkerboard"] = encode(Image.fromarray(checker), "PNG")
    return pictures


def test_hashes_that_tie_at_the_median_never_match_or_index(admin, moderator):
    admin.post("/v1/banks", json={"name": "generic-trap", "purpose": "block"})
    pictures = one_axis_pictures()
    hashes = admin.post("/v1/banks/lookup", json={"image": b64(pictures["gradient 0"])}).json()["hashes"]
    assert not hashes.get("phash")  # nothing to bank either
    entries = [{"signal_type": "phash", "hash": "8000000000000000"}, {"signal_type": "phash", "hash": "9100000000000000"}]
    assert admin.post("/v1/banks/generic-trap/entries", json={"entries": entries}).status_code == 201
    for name, data in pictures.items():
        body = moderate(moderator, data)
        assert body["signals"]["image_hash"]["phash"] is None, name
        assert body["signals"]["image_hash"]["quality"] > 2.0, name  # structure enough, but a generic hash
        assert "banks" not in body["signals"] and body["decision"] == "allow", (name, body["reasons"])
        assert body["signals"]["image_hash"]["near_duplicates"] == [], name  # the pictures before it were not indexed


def test_a_median_split_hash_of_a_real_picture_sets_half_its_bits():
    from classifiers.image_hash import ties_at_the_median

    for seed in range(8):
        phash, _ = phash_with_quality(synthetic_scene(seed, (200, 150)))
        assert int(phash, 16).bit_count() == 32 and not ties_at_the_median(phash)
    assert ties_at_the_median("8000000000000000") and ties_at_the_median("9100000000000000")
    assert ties_at_the_median("0" * 63 + "f") and not ties_at_the_median("f" * 32 + "0" * 32)


def test_phash_is_imagehash_s_and_quality_separates_flat_from_detailed():
    for seed in range(6):
        picture = synthetic_scene(seed, (200, 150))
        phash, quality = phash_with_quality(picture)
        assert phash == str(imagehash.phash(picture)) and quality > 10
    noisy_flat = Image.fromarray(np.clip(128 + np.random.default_rng(0).normal(0, 20, (300, 300, 3)), 0, 255)
                                 .astype(np.uint8))
    assert phash_with_quality(noisy_flat)[1] < 2.0  # its hash would be a hash of noise
    for size in [(1, 1), (5, 5), (400, 300)]:
        assert phash_with_quality(Image.new("RGB", size, (77, 10, 200))) == ("8000000000000000", 0.0)
    text_page = Image.new("RGB", (600, 400), "white")
    for line in range(12):
        ImageDraw.Draw(text_page).text((20, 20 + 30 * line), f"an ordinary line of text, number {line}", fill="black")
    assert phash_with_quality(text_page)[1] > 2.0


def test_the_hash_signal_reports_quality_and_withholds_low_quality_hashes():
    classifier = ImageHashClassifier(min_quality=2.0)
    flat = Image.new("RGB", (50, 50), (9, 9, 9))
    signal = classifier.classify(DecodedImage(flat, "PNG", 50, 50, "0" * 64))
    assert (signal.phash, signal.dhash, signal.quality) == (None, None, 0.0)
    detailed = synthetic_scene(3).resize((64, 64))
    signal = classifier.classify(DecodedImage(detailed, "PNG", 64, 64, "0" * 64))
    assert signal.phash == str(imagehash.phash(detailed)) and signal.quality >= 2.0


def test_policies_can_name_the_view_and_the_hash_quality(tmp_path):
    from test_policy_lint import lint

    rule = """\
name: default
rules:
  - id: banked-later-frame
    when: {all: ["banks.matches.frame >= 1", "banks.matches.background == dark"]}
    then: review
  - id: low-quality-hash
    when: {all: ["image_hash.quality < 2", "nsfw.views.background == dark", "nsfw.frame > 0"]}
    then: review
"""
    (tmp_path / "default.yaml").write_text(rule)
    result = lint(tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "default.yaml").write_text(rule.replace("banks.matches.frame", "banks.matches.frames"))
    assert lint(tmp_path).returncode != 0


def test_near_duplicates_are_found_through_every_frame_both_ways(moderator):
    hidden_later = synthetic_scene(7, (320, 320))
    frames = [benign_frame(i, seed=11) for i in range(12)]  # frames no earlier test sent
    frames[4:8] = [hidden_later] * 4
    animated = moderate(moderator, animation("GIF", frames, [50] * 12))
    # A still copy finds the earlier animation through the row of one of its later frames.
    still = moderate(moderator, encode(hidden_later.resize((300, 300)), "JPEG", quality=70))
    assert animated["id"] in {d["item_id"] for d in still["signals"]["image_hash"]["near_duplicates"]}
    # And an animation finds the earlier still through one of its later frames, naming it.
    again = moderate(moderator, animation("WEBP", frames, [50] * 12))
    found = {d["item_id"]: d for d in again["signals"]["image_hash"]["near_duplicates"]}
    assert still["id"] in found and found[still["id"]]["frame"] in {4, 5, 6, 7}
