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
    """Instantiate every enabled live entry; weights load here, once. Shadow entries are skipped
    (``build_candidates`` builds them)."""
    built: dict[str, Classifier] = {}
    for key, entry in config.items():
        if entry.get("shadow"):
            continue
        signal_name = _instantiate_into(built, key, entry, config)
        if signal_name != key:
            raise ClassifierConfigError(f"entry {key!r} names {entry.get('class')}, whose signal name is "
                                        f"{signal_name!r}")
    return built


def build_candidates(config: dict[str, dict[str, Any]]) -> dict[str, tuple[str, Classifier]]:
    """Candidate models: entries with ``shadow: true`` and ``replaces: <live signal name>``.

    Returns {entry name: (the live signal it would replace, the classifier)}. A candidate is scored
    in shadow and never read by a policy until promoted. Raises ClassifierConfigError when
    ``replaces`` names no live entry or a classifier of another signal type.
    """
    built: dict[str, Classifier] = {}
    replaced: dict[str, str] = {}
    for key, entry in config.items():
        if not entry.get("shadow"):
            continue
        target = entry.get("replaces")
        live = config.get(target) if isinstance(target, str) else None
        if live is None or live.get("shadow"):
            raise ClassifierConfigError(f"shadow entry {key!r} must name the live entry it would replace "
                                        f"(`replaces: <name>`); live entries: "
                                        f"{', '.join(k for k, v in config.items() if not v.get('shadow'))}")
        signal_name = _instantiate_into(built, key, {k: v for k, v in entry.items() if k not in ("shadow", "replaces")},
                                        config)
        if signal_name != target:
            raise ClassifierConfigError(f"shadow entry {key!r} produces signal {signal_name!r}, not {target!r}")
        replaced[key] = target
    return {key: (replaced[key], classifier) for key, classifier in built.items()}


def _instantiate_into(built: dict[str, Classifier], key: str, entry: dict[str, Any],
                      config: dict[str, dict[str, Any]]) -> str | None:
    """Builds ``entry`` into ``built[key]`` unless disabled; returns its class's signal name.
    ``config``: the whole configuration, handed to ``from_config``."""
    options = dict(entry)
    enabled = options.pop("enabled", True)
    dotted = options.pop("class", None)
    if not dotted:
        raise ClassifierConfigError(f"classifier {key!r} has no 'class'")
    cls = resolve_class(dotted)
    if not enabled:
        return cls.name
    try:
        built[key] = cls.from_config(options, config)
    except TypeError as exc:
        raise ClassifierConfigError(f"classifier {key!r}: bad options: {exc}") from exc
    return cls.name
