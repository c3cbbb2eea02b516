"""What the second NSFW model (nsfw_drawings) costs per request, side by side in one run.

    python benchmarks/second_nsfw_model.py [--rounds N]      (or: make bench)

Starts `moderation serve` twice: as shipped, and with nsfw_drawings turned off (its
entry removed from the classifier configuration, and the rules that read it removed from
a copy of the policies, since lint refuses a rule on an unknown signal). Both get the same
still-image requests at concurrency 1, image-only and prompt+image, in interleaved rounds
so that drift on a shared machine hits both alike. Prints the server's CPU per request
(user + system, all threads) and p50 latency for each, and the ratios.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import ROOT, Server, drive, payloads  # noqa: E402

SIGNAL = "nsfw_drawings"
REQUESTS_PER_ROUND = 40


def without_signal(node: Any) -> Any:
    """A policy document with every condition that reads SIGNAL removed (and rules left empty dropped)."""
    if isinstance(node, dict):
        kept = {key: without_signal(value) for key, value in node.items() if key != "rules"}
        if "rules" in node:
            kept["rules"] = [rule for rule in map(without_signal, node["rules"]) if rule.get("when")]
        return kept
    if isinstance(node, list):
        return [without_signal(item) for item in node if not (isinstance(item, str) and SIGNAL in item)]
    if isinstance(node, str) and SIGNAL in node:
        return None
    return node


def turned_off(directory: Path) -> dict[str, str]:
    """Settings for a server without SIGNAL: a classifier config and a policies folder in ``directory``."""
    from classifiers.registry import load_config

    config = {name: options for name, options in load_config().items() if name != SIGNAL}
    (directory / "classifiers.yaml").write_text(yaml.safe_dump(config))
    policies = directory / "policies"
    policies.mkdir()
    for path in (ROOT / "policies").glob("*.yaml"):
        (policies / path.name).write_text(yaml.safe_dump(without_signal(yaml.safe_load(path.read_text())),
                                                         sort_keys=False, allow_unicode=True))
    return {"MODERATION_CLASSIFIERS_CONFIG": str(directory / "classifiers.yaml"),
            "MODERATION_POLICY_PATH": str(policies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as scratch:
        servers = {"with nsfw_drawings": Server({}), "without": Server(turned_off(Path(scratch)))}
        try:
            kinds = {kind: payloads(kind) for kind in ("image", "prompt_image")}
            figures: dict = {(name, kind): {"cpu": [], "p50": []} for name in servers for kind in kinds}
            for name, server in servers.items():  # warm-up: first requests load lazily initialised paths
                for bodies in kinds.values():
                    asyncio.run(drive(server, bodies, 1, 8))
            for _ in range(rounds):
                for kind, bodies in kinds.items():
                    for name, server in servers.items():
                        line = asyncio.run(drive(server, bodies, 1, REQUESTS_PER_ROUND))
                        if line["errors"]:
                            raise RuntimeError(f"{name}: {line['errors']} errors")
                        figures[(name, kind)]["cpu"].append(line["cpu_ms_per_request"])
                        figures[(name, kind)]["p50"].append(line["p50_ms"])
        finally:
            for server in servers.values():
                server.stop()
    print(f"still 512x512 JPEG at c=1, medians of {rounds} interleaved rounds of {REQUESTS_PER_ROUND} requests")
    for kind in kinds:
        on, off = (figures[(name, kind)] for name in servers)
        cpu_on, cpu_off = statistics.median(on["cpu"]), statistics.median(off["cpu"])
        p50_on, p50_off = statistics.median(on["p50"]), statistics.median(off["p50"])
        print(f"  {kind:<13} CPU/request with {cpu_on:6.1f} ms, without {cpu_off:6.1f} ms: x{cpu_on / cpu_off:.3f}"
              f"   p50 with {p50_on:6.1f} ms, without {p50_off:6.1f} ms: x{p50_on / p50_off:.3f}")


if __name__ == "__main__":
    main()
