"""Did an upload end inside its header? Tells a truncated upload from a corrupt one.

Pillow reports both as "cannot identify image file" when the data stops before the
header it needs (a PNG before its first IDAT, a GIF inside its palette, a JPEG before its
frame header). When the magic bytes name an accepted format, these walks over the
structure say whether the data simply ran out, which is ``image_truncated`` (an upload cut
short: send it again) rather than ``image_invalid``.

The walks over each format's structure (``png_chunks``, ``gif_blocks``, ``jpeg_segments``) are
shared with the decoder's checks (``images``) and with ``frame_durations``.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator

_JPEG_FRAME_HEADERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def header_ends_early(data: bytes, image_format: str | None) -> bool:
    """True when ``data`` of ``image_format`` (PNG, GIF or JPEG; others: False) stops before the
    header a decoder needs to start is complete."""
    walk = {"PNG": _png, "GIF": _gif, "JPEG": _jpeg}.get(image_format or "")
    return walk is not None and walk(data)


def _png(data: bytes) -> bool:
    if len(data) >= 16 and data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return False  # the first chunk of every PNG is a 13-byte IHDR
    for kind, _, _ in png_chunks(data):
        if kind == b"IDAT" or not kind.isalpha():  # reached the pixels, or not a chunk at all
            return False
    return True


def _gif(data: bytes) -> bool:
    if len(data) < 13:
        return True
    for block, position in gif_blocks(data):
        if block == 0x2C:  # image descriptor
            return position + 10 > len(data)
        if block != 0x21:  # the trailer, or garbage
            return False
    return True


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start of its data, length) of each chunk of a PNG, up to IEND or the end of the data."""
    position = 8  # after the signature
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        yield kind, position + 8, length
        if kind == b"IEND":
            return
        position += 12 + length  # length, type, data, CRC


def gif_blocks(data: bytes) -> Iterator[tuple[int, int]]:
    """(introducer, position) of each block of a GIF (of 13 bytes or more) after its header and
    global colour table: 0x21 an extension (label at position + 1, sub-blocks from position + 2),
    0x2C an image descriptor; anything else (the trailer, garbage) is the last one yielded. Stops
    where the data runs out."""
    flags = data[10]
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # the global colour table
    while position < len(data):
        block = data[position]
        yield block, position
        if block == 0x21:
            position = _sub_blocks_end(data, position + 2)
        elif block == 0x2C:
            packed = data[position + 9]
            position += 10 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)  # a local colour table
            position = _sub_blocks_end(data, position + 1)  # after the LZW code size
        else:
            return


def _sub_blocks_end(data: bytes, position: int) -> int:
    """Past the sub-blocks from ``position`` (each a length byte and its bytes, until a zero length)."""
    while position < len(data) and data[position]:
        position += data[position] + 1
    return position + 1


def _jpeg(data: bytes) -> bool:
    for marker, end in jpeg_segments(data):
        if marker in (None, 0xDA, 0xD9):  # not a marker, or scan data or the end before a frame header
            return False
        if marker in _JPEG_FRAME_HEADERS:
            return end > len(data)
    return True  # the data ran out first


def jpeg_segments(data: bytes) -> Iterator[tuple[int | None, int]]:
    """(marker, end of its segment) of each JPEG marker after SOI, in order, until the data runs
    out; (None, position) once the bytes are not a marker. A segment's payload (EXIF thumbnails,
    ICC profiles) is skipped by its length, and after a start of scan its entropy-coded data up to
    the next marker that is neither a stuffed 0xFF00 nor RSTn. ``end`` may lie past the data."""
    position, size = 2, len(data)
    while position + 4 <= size:
        if data[position] != 0xFF:
            yield None, position
            return
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD9:  # markers without a length (SOI, RSTn, EOI, TEM)
            position += 2
            yield marker, position
            continue
        position += 2 + ((data[position + 2] << 8) | data[position + 3])
        yield marker, position
        if marker != 0xDA:
            continue
        while True:
            position = data.find(b"\xff", position)
            if position < 0 or position + 1 >= size:
                return
            following = data[position + 1]
            if following != 0x00 and not 0xD0 <= following <= 0xD7:
                break
            position += 2
