"""The hostile-image corpus, generated: name -> (bytes, expected status, expected code or None)."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, idat: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat or zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def zlib_bomb_png(side: int = 12_000) -> bytes:
    """A real decompression bomb: side x side grey pixels that compress to a few KB."""
    compressor = zlib.compressobj(9)
    row = b"\0" + b"\0" * side
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def scene(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size, (90, 140, 200))
    for x in range(0, size[0], 8):
        for y in range(0, size[1], 8):
            image.putpixel((x, y), (250, 200, 40))
    return image.convert(mode)


def many_frame_gif(frames: int = 10_000, screen: tuple[int, int] = (1, 1)) -> bytes:
    """A GIF of 1x1 frames on a `screen`-sized canvas, written by hand so it stays small."""
    header = b"GIF89a" + struct.pack("<HH", *screen) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    frame = (b"\x21\xf9\x04\x00\x01\x00\x00\x00" + b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"
             + b"\x02\x02\x44\x01\x00")
    return header + frame * frames + b"\x3b"


def exif_rotated_jpeg() -> bytes:
    image = scene(size=(80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    return encoded(image, "JPEG", exif=exif.tobytes())


def sixteen_bit_png() -> bytes:
    return encoded(Image.new("I;16", (40, 30), 40_000), "PNG")


def polyglot_jpeg_zip() -> bytes:
    """A valid JPEG with a ZIP archive appended: decoders read the JPEG, archivers the ZIP."""
    return encoded(scene(), "JPEG") + b"PK\x03\x04" + b"\0" * 26 + b"payload.txt" + b"hello"


def scan_heavy_progressive_jpeg(side: int = 6000, repeats: int = 3000) -> bytes:
    """A progressive JPEG whose last scan (a few bytes) repeats: each copy re-walks every block.

    About 1 MB at 6000x6000 with 3000 repeats; libjpeg decodes it for minutes.
    """
    data = encoded(Image.new("RGB", (side, side), (120, 130, 140)), "JPEG", progressive=True, quality=90)
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * repeats + data[end:]


def corpus() -> dict[str, tuple[bytes, int, str | None]]:
    jpeg, png, gif = encoded(scene(), "JPEG"), encoded(scene(), "PNG"), encoded(scene("P"), "GIF")
    return {
        "zero bytes": (b"", 400, "image_empty"),
        "truncated JPEG": (jpeg[: len(jpeg) // 2], 422, "image_truncated"),
        "truncated PNG": (png[: len(png) // 2], 422, None),
        "truncated GIF": (gif[:20], 422, None),
        "corrupt JPEG body": (jpeg[:200] + bytes(range(256)) * 4, 422, None),
        "PNG declaring 100000x100000": (png_declaring(100_000, 100_000), 413, "image_too_many_pixels"),
        "zlib bomb 12000x12000": (zlib_bomb_png(), 413, "image_too_many_pixels"),
        "huge dimensions in a tiny GIF": (many_frame_gif(1, screen=(65_535, 65_535)), 413, "image_too_many_pixels"),
        "SVG": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415,
                "image_unsupported_format"),
        "BMP": (encoded(scene(), "BMP"), 415, "image_unsupported_format"),
        "TIFF": (encoded(scene(), "TIFF"), 415, "image_unsupported_format"),
        "text pretending to be an image": (b"GIF89 is not what this is" * 10, 422, "image_invalid"),
        "10,000-frame GIF": (many_frame_gif(), 200, None),
        "10,001-frame GIF": (many_frame_gif(10_001), 422, "image_too_costly"),
        "GIF of 2000 frames of 300x300": (many_frame_gif(2000, screen=(300, 300)), 422, "image_too_costly"),
        "2-frame GIF on a 5000x4000 canvas": (many_frame_gif(2, screen=(5000, 4000)), 422, "image_too_costly"),
        "scan-heavy progressive JPEG 6000x6000": (scan_heavy_progressive_jpeg(), 422, "image_too_costly"),
        "scan-heavy progressive JPEG 500x500": (scan_heavy_progressive_jpeg(500, 200), 422, "image_too_costly"),
        # Under the scan count, over scans x pixels: 40 scans of 36 Mpx.
        "progressive JPEG 6000x6000 of 40 scans": (scan_heavy_progressive_jpeg(6000, 30), 422, "image_too_costly"),
        "PNG declaring 1x39999999": (png_declaring(1, 39_999_999), 422, "image_bad_shape"),
        "PNG declaring 39999999x1": (png_declaring(39_999_999, 1), 422, "image_bad_shape"),
        "PNG declaring 2x30000": (png_declaring(2, 30_000), 422, "image_bad_shape"),
        "GIF declaring 65535x2": (many_frame_gif(1, screen=(65_535, 2)), 422, "image_bad_shape"),
        "wide but sane panorama 4000x50": (encoded(scene(size=(4000, 50)), "PNG"), 200, None),
        "CMYK JPEG": (encoded(scene("CMYK"), "JPEG"), 200, None),
        "16-bit PNG": (sixteen_bit_png(), 200, None),
        "RGBA PNG": (encoded(scene("RGBA"), "PNG"), 200, None),
        "EXIF-rotated JPEG": (exif_rotated_jpeg(), 200, None),
        "JPEG+ZIP polyglot": (polyglot_jpeg_zip(), 200, None),
    }
