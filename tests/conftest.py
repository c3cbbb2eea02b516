"""Shared fixtures. The real classifiers load once per test session."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def real_classifiers():
    from classifiers.registry import build_classifiers, load_config

    return build_classifiers(load_config())


@pytest.fixture(scope="session")
def default_policy():
    """The shipped default policy, compiled against the shipped classifiers' signal schemas."""
    from policy_support import shipped_default_policy

    return shipped_default_policy()


@pytest.fixture(scope="session")
def language():
    """The ``text`` signal's classifier (lingua) as the service configures it."""
    from classifiers.registry import build_classifiers, load_config

    return build_classifiers({"text": load_config()["text"]})["text"]


def synthetic_scene(seed: int, size: tuple[int, int] = (512, 512)) -> Image.Image:
    """A benign generated picture: a gradient sky, a sun and some hills."""
    rng = np.random.default_rng(seed)
    width, height = size
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, height)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(width, axis=1).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.integers(0, width), rng.integers(0, height)
        radius = int(rng.integers(20, width // 4))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        else:
            draw.rectangle((x - radius, y - radius // 2, x + radius, y + radius // 2), fill=colour)
    return image


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def animation(fmt: str, frames: list[Image.Image], durations: list[int]) -> bytes:
    """An animated GIF, WebP (lossless) or PNG of ``frames``, each shown ``durations`` ms, looping."""
    options = {"lossless": True} if fmt == "WEBP" else {}
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=durations, loop=0, **options)


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database per test.

    .ci/run starts a real server and sets MODERATION_TEST_POSTGRES_URL; without
    it (a developer's machine) these tests are skipped, and say why.
    """
    import uuid

    from sqlalchemy import create_engine, text

    admin_url = os.environ.get("MODERATION_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("no PostgreSQL: set MODERATION_TEST_POSTGRES_URL (source .ci/postgres.sh)")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def with_key(test_client, scopes=("moderate",), client_name: str = "tests"):
    """Give a TestClient an API key of its app's own key store, as an upstream service has."""
    from moderation_service.auth import ApiKeyStore

    store = ApiKeyStore(test_client.app.state.storage.session_factory)
    test_client.headers["Authorization"] = f"Bearer {store.create(client_name, list(scopes)).secret}"
    return test_client
