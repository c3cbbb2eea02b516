"""Reproducible conversion of nsfwjs's MobileNetV2 into the bundled ONNX graph.

Source: the npm package ``nsfwjs@4.4.0`` (MIT, Infinite Red), which bundles
GantMan's ``nsfw_model`` MobileNetV2 (224x224, classes drawing, hentai,
neutral, porn, sexy) as a TensorFlow.js *layers* model: a Keras 2.2.4
topology plus one weight shard of uint8-quantised tensors, both wrapped in
browserify modules. The package's tarball is checked against the registry's
sha512 integrity before anything is read.

Tools needed at conversion time only: ``npm`` (to fetch the tarball, unless
one is given), ``node`` (to evaluate the two wrapper modules: no JavaScript is
parsed here) and the ``onnx`` package. Serving needs onnxruntime alone.

The graph keeps the weights as the package ships them: each tensor is a
uint8 initializer dequantised in the graph as ``q * scale + min`` (TensorFlow.js'
own rule), so the file stays the package's size and nothing is rounded twice.
onnxruntime folds those constants once, when the session opens.

Run: ``moderation convert nsfw-drawings`` (``--tarball`` for an offline copy).
"""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

NSFWJS_VERSION = "4.4.0"
# `npm view nsfwjs@4.4.0 dist.integrity`
NSFWJS_INTEGRITY = "sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA=="
MODEL_NAME = "mobilenet_v2"
CLASSES = ("drawing", "hentai", "neutral", "porn", "sexy")  # nsfwjs' NSFW_CLASSES, in output order
IMAGE_SIZE = 224
MODEL_DIR = Path(__file__).resolve().parent / "models" / "nsfw_drawings"
ONNX_FILENAME = "nsfwjs-mobilenet_v2.onnx"
OPSET = 17
INPUT_NAME = "image"  # (N, 224, 224, 3) float32 RGB in [0, 1], NHWC as in TensorFlow.js
OUTPUT_NAME = "probabilities"  # (N, 5) softmax over CLASSES

# Evaluates the package's own wrapper modules (UMD bundles) and writes what they export.
_NODE_DUMP = """
const fs = require('fs');
const [modelJs, shardJs, outJson, outBase64] = process.argv.slice(1);
fs.writeFileSync(outJson, JSON.stringify(require(modelJs)));
fs.writeFileSync(outBase64, require(shardJs));
"""


class ConversionError(RuntimeError):
    """The package could not be fetched, verified or converted."""


def onnx_path(model_dir: Path = MODEL_DIR) -> Path:
    return model_dir / ONNX_FILENAME


def fetch_tarball(directory: Path) -> Path:
    """``npm pack nsfwjs@4.4.0`` into ``directory``; raises ConversionError without npm."""
    try:
        result = subprocess.run(["npm", "pack", f"nsfwjs@{NSFWJS_VERSION}", "--pack-destination", str(directory)],
                                capture_output=True, text=True, check=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        raise ConversionError(f"npm pack nsfwjs@{NSFWJS_VERSION} failed: {error}") from error
    return directory / result.stdout.strip().splitlines()[-1]


def verify_integrity(tarball: Path) -> None:
    """Raises ConversionError unless the tarball's sha512 is the registry's for 4.4.0."""
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != NSFWJS_INTEGRITY:
        raise ConversionError(f"{tarball}: integrity {digest} is not nsfwjs@{NSFWJS_VERSION}'s {NSFWJS_INTEGRITY}")


def read_layers_model(tarball: Path) -> tuple[dict[str, Any], bytes]:
    """The TensorFlow.js layers model in the package: (model JSON, weight shard bytes)."""
    verify_integrity(tarball)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        wanted = {f"package/dist/models/{MODEL_NAME}/model.min.js",
                  f"package/dist/models/{MODEL_NAME}/group1-shard1of1.min.js"}
        with tarfile.open(tarball) as archive:
            members = {member.name: member for member in archive.getmembers()
                       if member.name in wanted and member.isfile()}
            if len(members) != len(wanted):
                raise ConversionError(f"{tarball}: missing {sorted(wanted - set(members))}")
            for name, member in members.items():  # read by name: nothing else in the archive is written
                (root / Path(name).name).write_bytes(archive.extractfile(member).read())
        model_js, shard_js = (root / Path(name).name for name in sorted(wanted, key=lambda n: "shard" in n))
        try:
            subprocess.run(["node", "-e", _NODE_DUMP, str(model_js), str(shard_js),
                            str(root / "model.json"), str(root / "shard.b64")],
                           capture_output=True, text=True, check=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as error:
            raise ConversionError(f"node could not evaluate the package's model modules: {error}") from error
        model = json.loads((root / "model.json").read_text())
        return model, base64.b64decode((root / "shard.b64").read_text())


def dequantized_weights(manifest: list[dict[str, Any]], shard: bytes) -> dict[str, tuple[np.ndarray, float, float]]:
    """Weight name -> (uint8 array in its Keras shape, scale, min), read in manifest order."""
    weights, offset = {}, 0
    for group in manifest:
        for spec in group["weights"]:
            quantization = spec.get("quantization") or {}
            if quantization.get("dtype") != "uint8" or spec.get("dtype") != "float32":
                raise ConversionError(f"{spec['name']}: only uint8-quantised float32 weights are supported")
            size = int(np.prod(spec["shape"]))
            values = np.frombuffer(shard, dtype=np.uint8, count=size, offset=offset).reshape(spec["shape"])
            weights[spec["name"]] = (values, float(quantization["scale"]), float(quantization["min"]))
            offset += size
    if offset != len(shard):
        raise ConversionError(f"the manifest describes {offset} bytes, the shard has {len(shard)}")
    return weights


class _GraphBuilder:
    """Keras layers (channels_last) -> ONNX nodes (NCHW inside, NHWC at the input)."""

    def __init__(self, weights: dict[str, tuple[np.ndarray, float, float]]) -> None:
        from onnx import helper

        self.helper = helper
        self.weights = weights
        self.nodes: list = []
        self.initializers: list = []
        self.used: set[str] = set()
        self.flattened: list[str] = []

    def node(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def constant(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def weight(self, layer: str, key: str, transpose: tuple[int, ...] | None = None) -> str:
        """``layer/key`` dequantised in the graph; ``transpose`` reorders the stored uint8 axes."""
        name = f"{layer}/{key}"
        values, scale, minimum = self.weights[name]
        self.used.add(name)
        if transpose is not None:
            values = values.transpose(transpose)
        quantized = self.constant(f"{name}:uint8", values)
        as_float = self.node("Cast", [quantized], f"{name}:float", to=1)
        scaled = self.node("Mul", [as_float, self.constant(f"{name}:scale", np.array(scale, np.float32))],
                           f"{name}:scaled")
        return self.node("Add", [scaled, self.constant(f"{name}:min", np.array(minimum, np.float32))], name)

    def layer(self, kind: str, config: dict[str, Any], source: list[str], name: str) -> str:
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = config["padding"]
            pads = self.constant(f"{name}:pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
            return self.node("Pad", [source[0], pads], name)
        if kind in ("Conv2D", "DepthwiseConv2D"):
            return self.convolution(kind, config, source[0], name)
        if kind == "BatchNormalization":
            if config.get("axis") not in (-1, 3, [3]) or not (config.get("center") and config.get("scale")):
                raise ConversionError(f"{name}: only channels-last batch norm with centre and scale is supported")
            parameters = [self.weight(name, key) for key in ("gamma", "beta", "moving_mean", "moving_variance")]
            return self.node("BatchNormalization", [source[0], *parameters], name, epsilon=float(config["epsilon"]))
        if kind == "ReLU":
            if config.get("negative_slope") or config.get("threshold"):
                raise ConversionError(f"{name}: only ReLU with negative_slope 0 and threshold 0 is supported")
            bounds = [self.constant(f"{name}:low", np.array(0, np.float32))]
            if config.get("max_value") is not None:
                bounds.append(self.constant(f"{name}:high", np.array(config["max_value"], np.float32)))
            return self.node("Clip", [source[0], *bounds], name)
        if kind == "Add":
            return self.node("Sum", source, name)
        if kind == "AveragePooling2D":
            if config["padding"] != "valid":
                raise ConversionError(f"{name}: only valid average pooling is supported")
            return self.node("AveragePool", [source[0]], name, kernel_shape=config["pool_size"],
                             strides=config["strides"])
        if kind == "Flatten":
            # Only where the spatial size is 1x1 (checked in build_onnx) do NCHW and NHWC flatten alike.
            self.flattened.append(source[0])
            return self.node("Flatten", [source[0]], name)
        if kind == "Dropout":
            return self.node("Identity", [source[0]], name)
        if kind == "Dense":
            if not config.get("use_bias", True):
                raise ConversionError(f"{name}: a Dense layer without bias is not supported")
            product = self.node("MatMul", [source[0], self.weight(name, "kernel")], f"{name}:matmul")
            added = self.node("Add", [product, self.weight(name, "bias")], f"{name}:linear")
            return self.activation(config["activation"], added, name)
        raise ConversionError(f"{name}: layer type {kind} is not supported")

    def convolution(self, kind: str, config: dict[str, Any], source: str, name: str) -> str:
        if config["dilation_rate"] != [1, 1] or config.get("depth_multiplier", 1) != 1:
            raise ConversionError(f"{name}: dilated convolutions and depth multipliers are not supported")
        kernel_h, kernel_w = config["kernel_size"]
        if config["padding"] == "same":
            if config["strides"] != [1, 1]:
                raise ConversionError(f"{name}: 'same' padding is supported with stride 1 only")
            pads = [(kernel_h - 1) // 2, (kernel_w - 1) // 2, kernel_h // 2, kernel_w // 2]
        else:
            pads = [0, 0, 0, 0]
        if kind == "Conv2D":
            kernel, group = self.weight(name, "kernel", (3, 2, 0, 1)), 1  # HWIO -> OIHW
        else:
            kernel = self.weight(name, "depthwise_kernel", (2, 3, 0, 1))  # HWC1 -> C1HW
            group = self.weights[f"{name}/depthwise_kernel"][0].shape[2]
        inputs = [source, kernel] + ([self.weight(name, "bias")] if config["use_bias"] else [])
        output = self.node("Conv", inputs, f"{name}:conv" if config["activation"] != "linear" else name,
                           kernel_shape=[kernel_h, kernel_w], strides=config["strides"], pads=pads, group=group)
        return self.activation(config["activation"], output, name)

    def activation(self, kind: str, source: str, name: str) -> str:
        if kind == "linear":
            return source if source == name else self.node("Identity", [source], name)
        if kind == "relu":
            return self.node("Relu", [source], name)
        if kind == "softmax":
            return self.node("Softmax", [source], name, axis=-1)
        raise ConversionError(f"{name}: activation {kind} is not supported")


def build_onnx(model: dict[str, Any], shard: bytes):
    """The ONNX ModelProto for a TensorFlow.js layers model of Keras layers in topological order."""
    from onnx import TensorProto, checker, helper

    config = model["modelTopology"]["model_config"]["config"]
    weights = dequantized_weights(model["weightsManifest"], shard)
    builder = _GraphBuilder(weights)
    (input_layer, _, _), = config["input_layers"]
    (output_layer, _, _), = config["output_layers"]
    tensors = {input_layer: builder.node("Transpose", [INPUT_NAME], f"{input_layer}:nchw", perm=[0, 3, 1, 2])}
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            continue
        inbound = layer["inbound_nodes"]
        if len(inbound) != 1:
            raise ConversionError(f"{layer['name']}: shared layers are not supported")
        sources = [tensors[source[0]] for source in inbound[0]]
        tensors[layer["name"]] = builder.layer(layer["class_name"], layer["config"], sources, layer["name"])
    builder.node("Identity", [tensors[output_layer]], OUTPUT_NAME)
    unused = set(weights) - builder.used
    if unused:
        raise ConversionError(f"weights no layer read: {sorted(unused)[:5]}")
    graph = helper.make_graph(
        builder.nodes, f"nsfwjs-{NSFWJS_VERSION}-{MODEL_NAME}",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", IMAGE_SIZE, IMAGE_SIZE, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", len(CLASSES)])],
        initializer=builder.initializers,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="moderation-service nsfw_drawings_conversion",
                                   producer_version="1")
    onnx_model.ir_version = 8  # readable by every onnxruntime >= 1.17 (the dependency's floor)
    for key, value in _metadata().items():
        onnx_model.metadata_props.add(key=key, value=value)
    checker.check_model(onnx_model, full_check=True)
    _check_flatten_inputs(onnx_model, builder.flattened)
    return onnx_model


def _check_flatten_inputs(onnx_model, tensors: list[str]) -> None:
    """A Flatten of an (N, C, H, W) tensor equals Keras' channels-last Flatten only when H = W = 1."""
    from onnx import shape_inference

    inferred = shape_inference.infer_shapes(onnx_model)
    shapes = {info.name: [dim.dim_value for dim in info.type.tensor_type.shape.dim]
              for info in inferred.graph.value_info}
    for tensor in tensors:
        if shapes.get(tensor, [None] * 4)[2:] != [1, 1]:
            raise ConversionError(f"Flatten of {tensor} {shapes.get(tensor)}: only a 1x1 spatial size is supported")


def _metadata() -> dict[str, str]:
    return {"source": f"npm:nsfwjs@{NSFWJS_VERSION} dist/models/{MODEL_NAME}", "integrity": NSFWJS_INTEGRITY,
            "classes": ",".join(CLASSES), "input": "NHWC float32 RGB in [0, 1], 224x224", "licence": "MIT"}


def convert(out: Path | None = None, tarball: Path | None = None) -> Path:
    """Fetch (or take) the package, verify it, and write the ONNX graph; returns its path."""
    out = out or onnx_path()
    with tempfile.TemporaryDirectory() as scratch:
        model, shard = read_layers_model(tarball or fetch_tarball(Path(scratch)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build_onnx(model, shard).SerializeToString(deterministic=True))
    return out

