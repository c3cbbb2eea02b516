"""Decoding of untrusted uploads. Every image is generated here; none is committed."""
from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from moderation_service.images import ImageLimits, ImageRejected, decode_image, sniff_format

LIMITS = ImageLimits()
RED = (255, 0, 0)
WHITE = (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noisy_rgb(size=(64, 48)) -> Image.Image:
    # Noise keeps encoded files big enough that cutting them in half loses pixel data.
    return Image.effect_noise(size, 64).convert("RGB")


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def zero_png(width: int, height: int) -> bytes:
    """A genuine zlib bomb: a 1-bit all-black PNG, compressed row by row so the
    raw scanlines never sit in memory at once."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return png_header(width, height, bit_depth=1) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")


def rejected(data: bytes, limits: ImageLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        decode_image(data, limits)
    return info.value


# --- accepted images -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_supported_formats_decode_to_rgb(fmt):
    data = encode(Image.new("RGB", (40, 30), RED), fmt)
    decoded = decode_image(data, LIMITS)
    assert decoded.format == fmt
    assert (decoded.width, decoded.height) == (40, 30)
    assert decoded.rgb.mode == "RGB" and decoded.rgb.size == (40, 30)
    assert decoded.sha256 == hashlib.sha256(data).hexdigest()
    red, green, blue = decoded.rgb.getpixel((20, 15))
    assert red > 240 and green < 15 and blue < 15


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (16, 16), colour) for colour in (RED, (0, 0, 255), (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(io.BytesIO(data)) as check:
        assert check.n_frames == 3
    assert decode_image(data, LIMITS).rgb.getpixel((8, 8)) == RED


def test_rgba_png_is_composited_on_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    decoded = decode_image(encode(image, "PNG"), LIMITS)
    assert decoded.rgb.mode == "RGB"
    assert decoded.rgb.getpixel((5, 5)) == WHITE
    assert decoded.rgb.getpixel((0, 0)) == RED


def test_palette_png_with_transparency_is_composited_on_white():
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 - 2) * 3)
    image.putpixel((1, 1), 1)
    decoded = decode_image(encode(image, "PNG", transparency=0), LIMITS)
    assert decoded.rgb.getpixel((5, 5)) == WHITE  # black but transparent
    assert decoded.rgb.getpixel((1, 1)) == RED


def test_la_png_is_composited_on_white():
    image = Image.new("LA", (4, 4), (0, 0))
    decoded = decode_image(encode(image, "PNG"), LIMITS)
    assert decoded.rgb.getpixel((2, 2)) == WHITE


def test_cmyk_jpeg_converts_to_rgb():
    data = encode(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "CMYK"
    red, green, blue = decode_image(data, LIMITS).rgb.getpixel((10, 10))
    assert red > 230 and green < 30 and blue < 30


def test_16_bit_greyscale_png_is_scaled_not_clipped():
    pixels = np.full((8, 8), 32896, dtype=np.uint16)  # mid grey in 16 bits
    pixels[0, 0] = 65535
    data = encode(Image.fromarray(pixels), "PNG")
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode.startswith("I;16")
    rgb = decode_image(data, LIMITS).rgb
    assert rgb.getpixel((4, 4)) == (128, 128, 128)
    assert rgb.getpixel((0, 0)) == WHITE


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees: portrait
    data = encode(Image.new("RGB", (40, 20), RED), "JPEG", exif=exif)
    decoded = decode_image(data, LIMITS)
    assert (decoded.width, decoded.height) == (20, 40)
    assert decoded.rgb.size == (20, 40)


def test_image_at_exactly_the_pixel_limit_is_accepted():
    data = encode(Image.new("RGB", (10, 10), RED), "PNG")
    assert decode_image(data, ImageLimits(max_pixels=100)).width == 10


# --- rejected images ----------------------------------------------------------


def assert_rejected(data: bytes, code: str, status: int, limits: ImageLimits = LIMITS) -> None:
    error = rejected(data, limits)
    assert (error.code, error.status) == (code, status), error.message
    assert error.message


def test_empty():
    assert_rejected(b"", "image_empty", 400)


def test_too_many_bytes():
    data = encode(noisy_rgb(), "PNG")
    assert_rejected(data, "image_too_large", 413, ImageLimits(max_bytes=len(data) - 1))


def test_default_byte_limit():
    assert_rejected(b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), "image_too_large", 413)


def test_random_bytes():
    assert_rejected(random.Random(7).randbytes(4096), "image_invalid", 422)


def test_text_that_is_not_an_image():
    assert_rejected(b"hello, this is plainly not an image", "image_invalid", 422)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncated(fmt):
    data = encode(noisy_rgb((128, 128)), fmt)
    assert_rejected(data[: len(data) // 2], "image_truncated", 422)


# Cut inside the header a decoder needs (a PNG before its first IDAT, a GIF inside its palette,
# a JPEG before its frame header): Pillow cannot identify such data, but it is an upload cut short.
@pytest.mark.parametrize("fmt, cut", [("PNG", 12), ("PNG", 30), ("PNG", 40), ("GIF", 10), ("GIF", 300),
                                      ("JPEG", 4), ("JPEG", 20)])
def test_an_upload_cut_inside_its_header_is_truncated(fmt, cut):
    data = encode(noisy_rgb((128, 128)), fmt)
    assert_rejected(data[:cut], "image_truncated", 422)


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDX" + bytes(30),  # a first chunk that is not IHDR
    b"GIF89a" + bytes(7) + b"xx" * 50,  # neither an image descriptor nor an extension
    b"\xff\xd8\xff\xda\x00\x08" + bytes(40),  # scan data before any frame header
])
def test_garbage_behind_the_magic_bytes_is_invalid(data):
    assert_rejected(data, "image_invalid", 422)


def test_corrupt_png_crc_is_rejected():
    data = bytearray(encode(noisy_rgb(), "PNG"))
    data[60] ^= 0xFF  # inside the first IDAT
    error = rejected(bytes(data))
    assert error.status == 422 and error.code in ("image_invalid", "image_truncated")


def test_header_declaring_huge_dimensions():
    data = png_header(100_000, 100_000) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + png_chunk(b"IEND", b"")
    assert len(data) < 100
    assert_rejected(data, "image_too_many_pixels", 413)


def test_zlib_bomb_beyond_pillows_own_limit():
    data = zero_png(20_000, 20_000)  # 400 Mpixel from ~50 KB
    assert len(data) < 200_000
    assert_rejected(data, "image_too_many_pixels", 413)


def test_zlib_bomb_between_our_limit_and_pillows():
    # 64 Mpixel: over our 40 M, under Pillow's default MAX_IMAGE_PIXELS (~89 M),
    # so only our header check stands between it and the decoder.
    assert Image.MAX_IMAGE_PIXELS is None or 8000 * 8000 < Image.MAX_IMAGE_PIXELS
    assert_rejected(zero_png(8000, 8000), "image_too_many_pixels", 413)


def test_configured_pixel_limit():
    data = encode(Image.new("RGB", (11, 10), RED), "PNG")
    assert_rejected(data, "image_too_many_pixels", 413, ImageLimits(max_pixels=100))


def test_pillow_global_limit_is_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageRejected):
        decode_image(zero_png(20_000, 20_000), LIMITS)
    assert Image.MAX_IMAGE_PIXELS == before
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM", "TGA"])
def test_formats_pillow_reads_but_we_do_not_accept(fmt):
    assert_rejected(encode(Image.new("RGB", (16, 16), RED), fmt), "image_unsupported_format", 415)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b'  <svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>',
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32,
    ],
    ids=["svg-xml", "svg", "pdf", "heic"],
)
def test_sniffed_unsupported_formats(data):
    assert_rejected(data, "image_unsupported_format", 415)


def test_refuses_to_run_when_truncated_loading_was_switched_on(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        decode_image(encode(Image.new("RGB", (4, 4)), "PNG"), LIMITS)


def test_sniff_format():
    assert sniff_format(encode(Image.new("RGB", (4, 4)), "JPEG")) == "JPEG"
    assert sniff_format(encode(Image.new("RGB", (4, 4)), "WEBP")) == "WEBP"
    assert sniff_format(encode(Image.new("RGB", (4, 4)), "BMP")) == "BMP"
    assert sniff_format(b"\xef\xbb\xbf<?xml version='1.0'?>") == "SVG"
    assert sniff_format(b"nothing known") is None


def _apng_declaring(frames: int, declared: int) -> bytes:
    """An APNG of ``frames`` frames whose acTL chunk says ``declared`` (its CRC made right)."""
    pictures = [Image.new("RGB", (16, 16), (40 * index, 90, 200 - 40 * index)) for index in range(frames)]
    buffer = io.BytesIO()
    pictures[0].save(buffer, "PNG", save_all=True, append_images=pictures[1:], duration=100, loop=0)
    data = buffer.getvalue()
    at = data.index(b"acTL") - 4
    return data[:at] + png_chunk(b"acTL", struct.pack(">II", declared, 0)) + data[at + 20:]


@pytest.mark.parametrize("declared", [1, 2, 1000])
def test_an_apng_whose_acTL_frame_count_lies_is_refused(declared):
    # Pillow trusts acTL: a file declaring fewer frames was moderated as its first ones only.
    with pytest.raises(ImageRejected) as caught:
        decode_image(_apng_declaring(4, declared))
    assert caught.value.code == "image_invalid" and "acTL" in str(caught.value)


def test_an_honest_apng_is_read_frame_by_frame():
    decoded = decode_image(_apng_declaring(4, 4))
    assert decoded.frame_count == 4 and [view.frame for view in decoded.views] == [0, 1, 2, 3]


def _png16_rgb_keyed(key: tuple[int, int, int], rest: tuple[int, int, int]) -> bytes:
    """A 16-bit colour PNG (written by hand: Pillow cannot) whose left half is the tRNS key."""
    pixels = np.empty((8, 8, 3), ">u2")
    pixels[:, :4], pixels[:, 4:] = key, rest
    rows = b"".join(b"\x00" + row.tobytes() for row in pixels)
    return (png_header(8, 8, bit_depth=16, colour_type=2) + png_chunk(b"tRNS", struct.pack(">HHH", *key))
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def test_a_16_bit_colour_png_with_a_colour_key_is_refused_not_misread():
    # The keyed half differs from the rest in the low byte only: the decoder's 8 bits cannot tell them apart.
    error = rejected(_png16_rgb_keyed((5, 5, 5), (6, 6, 6)))
    assert (error.status, error.code) == (415, "image_unsupported_format") and "tRNS" in str(error)
