"""Builds classifiers from declarative configuration.

Each entry names a class by dotted path, so a new classifier is one new file
plus one configuration entry; nothing here changes.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from classifiers.base import Classifier

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.yaml")


class ClassifierConfigError(ValueError):
    pass


def load_config(path: Path | None = None) -> dict[str, dict[str, Any]]:
    path = path or DEFAULT_CONFIG_PATH
    try:
        config = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ClassifierConfigError(f"cannot read classifier configuration {path}: {exc}") from exc
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        raise ClassifierConfigError(f"{path}: expected a mapping of classifier name to options")
    return config


def resolve_class(dotted: str) -> type[Classifier]:
    module_name, _, attr = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ClassifierConfigError(f"unknown classifier class {dotted!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Classifier)):
        raise ClassifierConfigError(f"{dotted!r} is not a Classifier")
    return cls


def build_classifiers(config: dict[str, dict[str, Any]]) -> dict[str, Classifier]:
    """Instantiate every enabled entry; weights load here, once."""
    built: dict[str, Classifier] = {}
    for key, entry in config.items():
        options = dict(entry)
        if not options.pop("enabled", True):
            continue
        dotted = options.pop("class", None)
        if not dotted:
            raise ClassifierConfigError(f"classifier {key!r} has no 'class'")
        cls = resolve_class(dotted)
        if cls.name != key:
            raise ClassifierConfigError(f"entry {key!r} names {dotted}, whose signal name is {cls.name!r}")
        try:
            built[key] = cls.from_config(options)
        except TypeError as exc:
            raise ClassifierConfigError(f"classifier {key!r}: bad options: {exc}") from exc
    return built
