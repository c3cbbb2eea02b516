"""The arithmetic limit: each model's FLOPs against this machine's measured FLOP/s.

    python benchmarks/arithmetic_limit.py

FLOPs are counted from the ONNX graphs the service runs (Conv, MatMul and
Gemm, 2 FLOPs per multiply-add; the element-wise rest is a few per cent), at
batch 1 and, for text, at the token count of the benchmark's prompts. FLOP/s
is the best of several large fp32 matrix products through onnxruntime, on one
thread and on every core: the most these models' kernels could reach here.
The quotient is the highest throughput the cores allow for each model alone;
`benchmarks/http_load.py` prints it beside what it measured.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_PROMPT = "portrait of an old sailor, oil on canvas, dramatic light #12"
GEMM_SIZES = (256, 512, 1024)  # the best of them: small ones stay in cache, as the models' tiles do


def graph_flops(onnx_path: Path, feed: dict[str, np.ndarray]) -> float:
    """Multiply-add FLOPs of one run on ``feed``, from the shapes the run really had."""
    import onnx
    from onnx import helper

    import onnxruntime

    model = onnx.load(str(onnx_path))
    counted = [node for node in model.graph.node if node.op_type in ("Conv", "MatMul", "Gemm")]
    known = {output.name for output in model.graph.output}
    tensors = {name for node in counted for name in (*node.input[:2], node.output[0])}
    # Expose every operand as an output, run once, read the real shapes.
    model.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in sorted(tensors - known))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "exposed.onnx"
        onnx.save(model, str(path))
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]
        shapes = {name: value.shape for name, value in zip(names, session.run(None, feed))}
    for initializer in model.graph.initializer:
        shapes.setdefault(initializer.name, tuple(initializer.dims))

    flops = 0.0
    for node in counted:
        out = shapes[node.output[0]]
        if node.op_type == "Conv":
            weight = shapes[node.input[1]]  # Cout, Cin/groups, kH, kW
            flops += 2.0 * np.prod(out) * np.prod(weight[1:])
        else:
            left = shapes[node.input[0]]
            transposed = node.op_type == "Gemm" and any(a.name == "transA" and a.i for a in node.attribute)
            flops += 2.0 * np.prod(out) * (left[-2] if transposed else left[-1])
    return float(flops)


def measured_flops_per_s(threads: int) -> float:
    """Best fp32 GEMM rate through onnxruntime (the runtime the models use)."""
    return max(_gemm_flops_per_s(size, threads) for size in GEMM_SIZES)


def _gemm_flops_per_s(n: int, threads: int, repetitions: int = 7) -> float:
    import onnx
    from onnx import TensorProto, helper

    import onnxruntime

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [n, n]) for name in ("a", "b")],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])],
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "gemm.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {"a": rng.standard_normal((n, n), dtype=np.float32), "b": rng.standard_normal((n, n), dtype=np.float32)}
    return 2.0 * n**3 / best_seconds(session, feed, repetitions)


def best_seconds(session, feed: dict[str, np.ndarray], repetitions: int = 7) -> float:
    session.run(None, feed)  # warm-up: the first run allocates and picks kernels
    best = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        session.run(None, feed)
        best = min(best, time.perf_counter() - start)
    return best


def measured_items_per_s(onnx_path: Path, feed: dict[str, np.ndarray], threads: int, batch: int) -> float:
    """The model alone, every core on it, ``feed`` repeated into one batch."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    batched = {name: np.repeat(value, batch, axis=0) for name, value in feed.items()}
    return batch / best_seconds(session, batched)


def served_graphs() -> dict[str, dict]:
    import onnx
    from transformers import AutoTokenizer

    from classifiers.nsfw_conversion import onnx_weights_path
    from classifiers.toxicity import bundled_encoder_path
    from classifiers.toxicity_onnx import default_graph_path, export_graph

    graph = default_graph_path()
    if not graph.is_file():
        export_graph(graph)
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()), local_files_only=True)
    text_feed = {name: np.array([ids], dtype=np.int64) for name, ids in tokenizer(BENCH_PROMPT).items()}
    tokens = text_feed["input_ids"].shape[1]
    nsfw_path = onnx_weights_path()
    image_feed = {onnx.load(str(nsfw_path)).graph.input[0].name: np.zeros((1, 224, 224, 3), np.float32)}
    return {
        "nsfw": {"path": nsfw_path, "feed": image_feed, "batch": 8},
        "toxicity": {"path": graph, "feed": text_feed, "batch": 32, "tokens": tokens},
    }


def arithmetic_limit(cores: int | None = None) -> dict:
    cores = cores or os.cpu_count() or 1
    rates = {"one_thread": measured_flops_per_s(1), "all_cores": measured_flops_per_s(cores)}
    models = {}
    for name, graph in served_graphs().items():
        flops = graph_flops(graph["path"], graph["feed"])
        measured = {
            f"batch_{batch}": measured_items_per_s(graph["path"], graph["feed"], cores, batch)
            for batch in (1, graph["batch"])
        }
        models[name] = {
            "gflop_per_item": flops / 1e9,
            "max_items_per_s": rates["all_cores"] / flops,
            "measured_items_per_s": measured,
            **({"tokens": graph["tokens"]} if "tokens" in graph else {}),
        }
    return {"cores": cores, "gflop_per_s": {k: v / 1e9 for k, v in rates.items()}, "models": models}


def print_limit(limit: dict) -> None:
    rates = limit["gflop_per_s"]
    print(f"\narithmetic limit ({limit['cores']} cores, fp32 GEMM through onnxruntime: "
          f"{rates['one_thread']:.0f} GFLOP/s on one thread, {rates['all_cores']:.0f} on all):")
    for name, cost in limit["models"].items():
        detail = f" at {cost['tokens']} tokens" if "tokens" in cost else ""
        measured = ", ".join(f"{rate:.0f} at {key.replace('_', ' ')}" for key, rate in cost["measured_items_per_s"].items())
        print(f"  {name:<10}{cost['gflop_per_item']:6.3f} GFLOP per item{detail}: at most "
              f"{cost['max_items_per_s']:.0f} items/s on every core; measured alone: {measured} items/s")


if __name__ == "__main__":
    print_limit(arithmetic_limit())
