"""Did an upload end inside its header? Tells a truncated upload from a corrupt one.

Pillow reports both as "cannot identify image file" when the data stops before the
header it needs (a PNG before its first IDAT, a GIF inside its palette, a JPEG before its
frame header). When the magic bytes name an accepted format, these walks over the
structure say whether the data simply ran out, which is ``image_truncated`` (an upload cut
short: send it again) rather than ``image_invalid``.
"""
from __future__ import annotations

import struct

_JPEG_FRAME_HEADERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def header_ends_early(data: bytes, image_format: str | None) -> bool:
    """True when ``data`` of ``image_format`` (PNG, GIF or JPEG; others: False) stops before the
    header a decoder needs to start is complete."""
    walk = {"PNG": _png, "GIF": _gif, "JPEG": _jpeg}.get(image_format or "")
    return walk is not None and walk(data)


def _png(data: bytes) -> bool:
    if len(data) >= 16 and data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return False  # the first chunk of every PNG is a 13-byte IHDR
    position = 8  # after the signature
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT" or not kind.isalpha():  # reached the pixels, or not a chunk at all
            return False
        position += 12 + length  # length, type, data, CRC
    return True


def _gif(data: bytes) -> bool:
    if len(data) < 13:
        return True
    flags = data[10]
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # the global colour table
    while position < len(data):
        block = data[position]
        if block == 0x2C:  # image descriptor
            return position + 10 > len(data)
        if block != 0x21:  # the trailer, or garbage
            return False
        position += 2  # extension introducer and label, then sub-blocks until a zero length
        while position < len(data) and data[position]:
            position += data[position] + 1
        position += 1
    return True


def _jpeg(data: bytes) -> bool:
    position = 2  # after SOI
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
            continue
        if marker == 0xDA:  # scan data before a frame header: corrupt, not short
            return False
        end = position + 2 + struct.unpack(">H", data[position + 2:position + 4])[0]
        if marker in _JPEG_FRAME_HEADERS:
            return end > len(data)
        position = end
    return True
