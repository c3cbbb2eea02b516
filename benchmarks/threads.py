"""onnxruntime intra-op threads for the text and image models, side by side in one run.

    python benchmarks/threads.py auto 1 2     (thread counts; auto is onnxruntime's choice)

Each count starts its own server with that count for both ONNX models, then
measures prompt-only and prompt+image p50 one request at a time, and
prompt-only throughput at concurrency 32.
"""
from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from classifiers.registry import load_config  # noqa: E402
from http_load import Server, drive, payloads  # noqa: E402


def config_with_threads(threads: str, directory: str) -> Path:
    config = load_config()
    for name in ("toxicity", "nsfw"):
        config[name]["intra_op_threads"] = None if threads == "auto" else int(threads)
    path = Path(directory) / f"classifiers-{threads}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def main(thread_counts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        for threads in thread_counts:
            server = Server({"MODERATION_CLASSIFIERS_CONFIG": str(config_with_threads(threads, directory))})
            try:
                prompt = asyncio.run(drive(server, payloads("prompt"), 1, 40))
                both = asyncio.run(drive(server, payloads("prompt_image"), 1, 40))
                loaded = asyncio.run(drive(server, payloads("prompt"), 32, 192))
            finally:
                server.stop()
            print(f"intra_op_threads={threads:<5} prompt p50 {prompt['p50_ms']:5.1f} ms, prompt+image p50 "
                  f"{both['p50_ms']:5.1f} ms, prompt at c=32 {loaded['rps']:5.1f} req/s", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main(sys.argv[1:] or ["auto", "1", "2"])
