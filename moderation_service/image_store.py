"""Content-addressed image storage on disk: images/ab/cd/<sha256>.<ext>."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from moderation_service.image_metadata import strip_metadata

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str, image_format: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.{EXTENSIONS.get(image_format, 'bin')}"

    def put(self, sha256: str, image_format: str, data: bytes) -> Path:
        """Idempotent; written to a temporary file and renamed, so a crash leaves no partial image.
        The stored copy has no metadata (EXIF, XMP, PNG text: ``image_metadata``); ``sha256`` names the upload."""
        target = self.path_for(sha256, image_format)
        if target.exists():
            return target
        data = strip_metadata(data, image_format)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
        return target
