"""Safe decoding of untrusted uploaded images into ``DecodedImage``.

Supported formats: JPEG (including MPO, multi-picture JPEG from cameras),
PNG, WebP and GIF. For animated GIF and WebP only the first frame is decoded
and classified; later frames are never read.

Every rejection is an ``ImageRejected`` with a stable ``code`` and an HTTP
``status``:

=========================  ======  ===============================================
code                       status  meaning
=========================  ======  ===============================================
image_empty                400     no bytes
image_too_large            413     more than ``ImageLimits.max_bytes`` bytes
image_unsupported_format   415     a recognisable image/document format we do not
                                   accept (BMP, TIFF, ICO, SVG/XML, PDF, HEIC, ...)
image_too_many_pixels      413     width*height over ``ImageLimits.max_pixels``
                                   (read from the header, before any pixel is
                                   decoded), or a Pillow decompression-bomb alarm
image_truncated            422     the data ends before the image does
image_invalid              422     not an image, or corrupt
=========================  ======  ===============================================
"""
from __future__ import annotations

import hashlib
import io
import struct
import threading
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from classifiers.base import DecodedImage

# Pillow's format ids we decode; MPO is how Pillow names JPEGs with an MPF
# header (most phone cameras), so it is reported as JPEG.
_ALLOWED_PIL_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
_REPORTED_FORMAT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "GIF"}

# Everything Pillow (or a decoder) can raise on hostile bytes.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError,
                  TypeError, KeyError, zlib.error, Image.DecompressionBombError)

# warnings.catch_warnings swaps a process-global filter list; concurrent
# decodes entering and leaving it out of order could leave our "error" filter
# installed for good. The lock serialises only the cheap header parse.
_HEADER_PARSE_LOCK = threading.Lock()


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000


class ImageRejected(Exception):
    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message


def _empty() -> ImageRejected:
    return ImageRejected("image_empty", 400, "the image is empty")


def _too_large(size: int, limit: int) -> ImageRejected:
    return ImageRejected("image_too_large", 413, f"the image is {size} bytes; the limit is {limit}")


def _unsupported(fmt: str) -> ImageRejected:
    allowed = ", ".join(_ALLOWED_PIL_FORMATS)
    return ImageRejected("image_unsupported_format", 415, f"{fmt} images are not accepted; use {allowed}")


def _too_many_pixels(detail: str) -> ImageRejected:
    return ImageRejected("image_too_many_pixels", 413, detail)


def _truncated() -> ImageRejected:
    return ImageRejected("image_truncated", 422, "the image data is truncated")


def _invalid(detail: str = "the data is not a readable image") -> ImageRejected:
    return ImageRejected("image_invalid", 422, detail)


def sniff_format(data: bytes) -> str | None:
    """Name the format from its magic bytes, or None when unrecognised.

    Cheap and independent of Pillow, so clearly unsupported formats are turned
    away before any parser runs on them.
    """
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00"):
        return "ICO"
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "JPEG2000"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "HEIC"
    if _looks_like_xml_or_svg(head):
        return "SVG"
    return None


def _looks_like_xml_or_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    return text.startswith((b"<?xml", b"<svg", b"<!doctype svg"))


def decode_image(data: bytes, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """Decode untrusted bytes into an RGB first frame with EXIF orientation applied.

    Only the first frame of an animated GIF or WebP is decoded. Transparency
    is composited onto white. ``sha256`` is of ``data`` as received;
    ``width``/``height`` are after orientation.
    """
    if not data:
        raise _empty()
    if len(data) > limits.max_bytes:
        raise _too_large(len(data), limits.max_bytes)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # A process-wide switch someone else flipped: truncated uploads would
        # decode with grey filler instead of being rejected. Fail closed.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True; refusing to decode uploads")

    sniffed = sniff_format(data)
    if sniffed is not None and sniffed not in _ALLOWED_PIL_FORMATS:
        raise _unsupported(sniffed)

    image = _open_header(data, limits)
    try:
        rgb = _decode_first_frame(image)
    finally:
        image.close()
    return DecodedImage(
        rgb=rgb,
        format=_REPORTED_FORMAT[image.format or ""],
        width=rgb.width,
        height=rgb.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _open_header(data: bytes, limits: ImageLimits) -> Image.Image:
    """Parse only the header, with the allowed parsers, and check the pixel count."""
    try:
        with _HEADER_PARSE_LOCK, warnings.catch_warnings():
            # Pillow warns above Image.MAX_IMAGE_PIXELS and raises above twice
            # that; both mean a bomb. The global limit itself is left alone.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_ALLOWED_PIL_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(str(exc)) from exc
    except UnidentifiedImageError:
        raise _identify_rejected(data) from None
    except _DECODE_ERRORS as exc:
        raise _classify_decode_error(exc) from exc

    if image.format not in _REPORTED_FORMAT:
        image.close()
        raise _unsupported(image.format or "unknown")
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise _invalid("the image has no pixels")
    if width * height > limits.max_pixels:
        image.close()
        raise _too_many_pixels(
            f"the image is {width}x{height} = {width * height} pixels; the limit is {limits.max_pixels}"
        )
    return image


def _identify_rejected(data: bytes) -> ImageRejected:
    """Tell an unsupported format Pillow knows (415) from garbage (422).

    Opening only parses the header; no pixels of the unsupported format are decoded.
    """
    try:
        with _HEADER_PARSE_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as other:
                return _unsupported(other.format or "unknown")
    except Image.DecompressionBombError:
        return _unsupported("unknown")
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        return _invalid()


def _decode_first_frame(image: Image.Image) -> Image.Image:
    try:
        image.seek(0)
        image.load()
        oriented = ImageOps.exif_transpose(image)
        return _to_rgb(oriented)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise _classify_decode_error(exc) from exc


def _classify_decode_error(exc: BaseException) -> ImageRejected:
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return _truncated()
    return _invalid(f"the image is corrupt: {exc}")


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency flattened onto white and high-bit-depth scaled to 8 bits."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = _high_bit_depth_to_l(image)
    if _has_transparency(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode == "RGB":
        return image.copy()  # detach from the decoder's file object
    return image.convert("RGB")


def _has_transparency(image: Image.Image) -> bool:
    return "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    # Pillow's own convert("RGB") clips these modes at 255, turning most
    # 16-bit images white; scale by the nominal range instead.
    values = np.asarray(image).astype(np.float64)
    if image.mode.startswith("I;16"):
        scaled = values / 257.0
    elif image.mode == "F" and values.size and 0.0 <= values.min() and values.max() <= 1.0:
        scaled = values * 255.0
    elif values.size and 0.0 <= values.min() and values.max() <= 255.0:
        scaled = values
    elif values.size and 0.0 <= values.min() and values.max() <= 65535.0:
        scaled = values / 257.0
    else:
        low, high = (values.min(), values.max()) if values.size else (0.0, 1.0)
        scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    # A tRNS key of a 16-bit image no longer matches after scaling, so it is dropped.
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))
