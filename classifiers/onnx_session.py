"""One way to open an onnxruntime session, shared by every ONNX-served model."""
from __future__ import annotations

import logging
from pathlib import Path

from classifiers.base import pick_torch_device

logger = logging.getLogger(__name__)


def open_session(
    path: Path, device: str = "auto", intra_op_threads: int | None = None, allow_spinning: bool = False
):
    """CPU session unless CUDA is asked for (or ``auto`` finds a GPU) and this build has the provider."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if intra_op_threads is not None:
        options.intra_op_num_threads = intra_op_threads
    # Spinning worker threads burn the cores the other models need on a small machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
    providers = providers_for(pick_torch_device(device), onnxruntime.get_available_providers())
    return onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)


def session_device(session) -> str:
    return "cuda" if "CUDAExecutionProvider" in session.get_providers() else "cpu"


def providers_for(device: str, available: list[str]) -> list[str | tuple[str, dict[str, str]]]:
    """CUDA when asked for and present in this onnxruntime build, CPU always as fallback."""
    if device.startswith("cuda") and "CUDAExecutionProvider" in available:
        device_id = device.partition(":")[2] or "0"
        return [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
    if device.startswith("cuda"):
        logger.warning("device %s requested but this onnxruntime build has no CUDA provider; using the CPU", device)
    return ["CPUExecutionProvider"]
