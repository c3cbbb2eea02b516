"""Metadata out of the stored copy of an image: EXIF (GPS position, camera serial, owner
name), XMP, IPTC, comments and PNG text chunks.

JPEG and PNG are edited at the container level, so the pixels (and the hashes
computed on them) are byte for byte the same: JPEG keeps its JFIF header,
ICC colour profile (APP2) and Adobe colour-transform marker (APP14), and drops
the other APPn segments and comments; PNG drops its text, time and EXIF
chunks. A JPEG whose EXIF orientation is not 1 is re-encoded upright first
(quality 95), because without its EXIF a viewer would show it rotated.
WebP and GIF are re-encoded without metadata (WebP losslessly).
"""
from __future__ import annotations

import io
import logging
import struct

from PIL import Image, ImageOps

# Pillow's DEBUG lines print EXIF tag values (owner names, serials): personal data in the logs.
logging.getLogger("PIL").setLevel(logging.INFO)

_JPEG_KEEP_APP = {0xE0, 0xE2, 0xEE}  # JFIF, ICC profile, Adobe
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def strip_metadata(data: bytes, image_format: str) -> bytes:
    """``data`` without metadata (see module doc); other formats are returned as they are."""
    if image_format == "JPEG":
        return _strip_jpeg(data)
    if image_format == "PNG":
        return _strip_png(data)
    if image_format in ("WEBP", "GIF"):
        return _reencode(data, image_format)
    return data


def _strip_jpeg(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        if image.getexif().get(0x0112, 1) != 1:  # orientation
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=95, icc_profile=image.info.get("icc_profile"))
            data = out.getvalue()
    out = bytearray(data[:2])  # SOI
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[position:]
            return bytes(out)
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        segment = data[position:position + 2 + length]
        if not ((0xE0 <= marker <= 0xEF and marker not in _JPEG_KEEP_APP) or marker == 0xFE):
            out += segment
        position += 2 + length
    return _reencode(data, "JPEG")  # not a well-formed stream: let Pillow write a clean one


def _strip_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        return _reencode(data, "PNG")
    out = bytearray(signature)
    position = len(signature)
    while position + 8 <= len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8]
        chunk = data[position:position + 12 + length]
        if kind not in _PNG_DROP:
            out += chunk
        position += 12 + length
        if kind == b"IEND":
            break
    return bytes(out)


def _reencode(data: bytes, image_format: str) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        if image_format == "GIF":
            image.info.pop("comment", None)
            image.save(out, "GIF", save_all=getattr(image, "n_frames", 1) > 1)
        elif image_format == "WEBP":
            image.info.pop("exif", None)
            image.info.pop("xmp", None)
            image.save(out, "WEBP", lossless=True, save_all=getattr(image, "n_frames", 1) > 1)
        else:
            clean = image.convert("RGB") if image_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK") else image
            clean.save(out, image_format, quality=95) if image_format == "JPEG" else clean.save(out, image_format)
        return out.getvalue()
