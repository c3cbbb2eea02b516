"""Safe decoding of untrusted uploaded images into ``DecodedImage``.

Supported formats: JPEG (including MPO, multi-picture JPEG from cameras),
PNG (and APNG), WebP and GIF. What is decoded is what a viewer sees:

* an animation (GIF, WebP, APNG) gives its first frame, its longest-shown
  frame and up to ``ImageLimits.sample_frames`` evenly spaced frames, each
  downscaled to ``ImageLimits.frame_side``; every frame is decoded once, in
  one pass, and the whole animation is refused past ``max_animation_pixels``;
* a picture with meaningful transparency (some pixel at most 250 opaque)
  gives two views, composited on white ("light") and on black ("dark"), so
  content drawn in white on a transparent background is seen too.

Decoding is bounded by construction: the byte, pixel, side and aspect-ratio
limits are read from the header before any pixel is decoded; a progressive
JPEG is refused above ``max_jpeg_scans`` scans (each scan re-walks every
block of the image); a JPEG larger than ``work_side`` is decoded already
scaled down (libjpeg DCT scaling), and any other large image is shrunk band
by band, so no second full-size copy is made.

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
image_bad_shape            422     a side over ``max_side`` or a side ratio over
                                   ``max_aspect_ratio`` (read from the header)
image_too_costly           422     more decode work than allowed: a progressive
                                   JPEG with more than ``max_jpeg_scans`` scans or
                                   ``max_jpeg_scan_pixels`` scans x pixels, an
                                   animation over ``max_animation_frames`` frames,
                                   ``max_animation_canvas_pixels`` pixels a frame or
                                   ``max_animation_pixels`` frame pixels in all, or
                                   (in the service) a decode past its deadline
image_truncated            422     the data ends before the image does
image_invalid              422     not an image, or corrupt
=========================  ======  ===============================================
"""
from __future__ import annotations

import hashlib
import heapq
import io
import math
import statistics
import struct
import threading
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from classifiers.base import DecodedImage, ImageView
from moderation_service.frame_durations import frame_durations
from moderation_service.image_headers import header_ends_early, jpeg_segments, png_chunks

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
    max_side: int = 32_768            # pixels, either side
    max_aspect_ratio: float = 100.0   # long side / short side
    max_jpeg_scans: int = 100         # libjpeg's default progression has 10; mozjpeg's about 20
    # Each scan of a progressive JPEG re-walks every block at full size (about 1.7 ns a pixel,
    # measured): 1e9 keeps the worst case near 2 s and admits 25 scans at 40 Mpx.
    max_jpeg_scan_pixels: int = 1_000_000_000
    sample_frames: int = 8            # evenly spaced frames, besides the first and the longest-shown
    max_animation_frames: int = 10_000
    # Decoders keep two or three canvases per animation (libwebp: about 16 bytes a pixel, measured).
    max_animation_canvas_pixels: int = 10_000_000
    max_animation_pixels: int = 100_000_000  # frames x canvas pixels, all decoded once in a pass (2-14 ns each, measured)
    work_side: int = 2048             # a still image's long side after decoding (models need <= 512)
    frame_side: int = 512             # a sampled frame's long side (PDQ's own working size)


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
    """Decode untrusted bytes into what a viewer sees, EXIF orientation applied.

    ``rgb`` is the first frame on white; ``views`` (see the module docstring)
    is empty for a still opaque image. ``sha256`` is of ``data`` as received;
    ``width``/``height`` are the uploaded image's, after orientation (``rgb``
    may be smaller: see ``ImageLimits.work_side``).
    Raises ``ImageRejected``.
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
    scans = jpeg_scan_count(data) if sniffed == "JPEG" else 0
    if scans > limits.max_jpeg_scans:
        raise _too_costly(f"the progressive JPEG has {scans} scans; the limit is {limits.max_jpeg_scans}")

    if sniffed == "WEBP" and len(data) >= 12 and len(data) < 8 + struct.unpack("<I", data[4:8])[0]:
        raise _truncated()  # shorter than its RIFF header says (the decoder only reports "invalid")
    if sniffed == "PNG" and (refused := _png_refused(data)) is not None:
        raise refused
    image = _open_header(data, limits)
    if scans > 1 and scans * image.size[0] * image.size[1] > limits.max_jpeg_scan_pixels:
        image.close()
        raise _too_costly(f"the progressive JPEG has {scans} scans of {image.size[0]}x{image.size[1]} pixels; "
                          f"the limit is {limits.max_jpeg_scan_pixels} scan pixels")
    size = image.size  # before draft() scales a JPEG down
    try:
        if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
            views, frame_count, orientation = _decode_animation(image, limits, frame_durations(data, image.format))
        else:
            (views, orientation), frame_count = _decode_still(image, limits), 1
    finally:
        image.close()
    first = views[0].rgb
    width, height = size[::-1] if orientation in _SWAPS_SIDES else size
    return DecodedImage(
        rgb=first,
        format=_REPORTED_FORMAT[image.format or ""],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        views=views if len(views) > 1 else (),
        frame_count=frame_count,
    )


def _too_costly(detail: str) -> ImageRejected:
    return ImageRejected("image_too_costly", 422, detail)


def _bad_shape(detail: str) -> ImageRejected:
    return ImageRejected("image_bad_shape", 422, detail)


def jpeg_scan_count(data: bytes) -> int:
    """Start-of-scan markers of the first JPEG in ``data``, counted by walking its segments
    (``image_headers.jpeg_segments``: payloads skipped by their lengths, entropy-coded data to the
    next real marker), so the count is exact. Stops at EOI or at bytes it cannot walk; the decoder
    then judges those."""
    scans = 0
    for marker, _ in jpeg_segments(data):
        if marker is None or marker == 0xD9:  # bytes it cannot walk, or EOI
            break
        scans += marker == 0xDA
    return scans


def _png_refused(data: bytes) -> ImageRejected | None:
    """What a PNG's chunks say it cannot be moderated faithfully for, if anything (one walk over
    the chunk headers)."""
    declared, controls, keyed = None, 0, False
    for kind, start, _ in png_chunks(data):
        if kind == b"acTL" and start + 4 <= len(data):
            declared = struct.unpack(">I", data[start:start + 4])[0]
        elif kind == b"fcTL":
            controls += 1
        elif kind == b"tRNS":
            keyed = True
    if declared is not None and declared != controls:
        # Pillow believes acTL: a file claiming fewer frames than it holds was moderated as its first ones.
        return _invalid(f"the APNG says it has {declared} frames (acTL) but holds {controls} (fcTL)")
    if keyed and len(data) > 25 and data[12:16] == b"IHDR" and data[24] == 16 and data[25] == 2:
        # The decoder keeps the high byte of 16-bit colour but compares the key's 16 bits: pixels
        # keyed transparent that differ from the rest in the low byte only were read as opaque.
        return ImageRejected("image_unsupported_format", 415,
                             "a 16-bit colour PNG with a transparent colour key (tRNS) cannot be decoded faithfully")
    return None


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
        raise (_truncated() if header_ends_early(data, sniff_format(data)) else _identify_rejected(data)) from None
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
    if max(width, height) > limits.max_side:
        image.close()
        raise _bad_shape(f"the image is {width}x{height}; the longest side allowed is {limits.max_side}")
    if max(width, height) > limits.max_aspect_ratio * min(width, height):
        image.close()
        raise _bad_shape(f"the image is {width}x{height}; the sides may differ by a factor of at most "
                         f"{limits.max_aspect_ratio:g}")
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


def _decode_still(image: Image.Image, limits: ImageLimits) -> tuple[tuple[ImageView, ...], int]:
    try:
        image.seek(0)  # an MPO's first picture
        width, height = image.size
        if image.format in ("JPEG", "MPO") and max(width, height) > limits.work_side:
            # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: a quarter of the memory and less work.
            scale = limits.work_side / max(width, height)
            image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()
        orientation = _orientation(image)
        return _views(image, limits.work_side, orientation, frame=0), orientation
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise _classify_decode_error(exc) from exc


def _decode_animation(image: Image.Image, limits: ImageLimits, durations_ahead: list[float] | None = None
                      ) -> tuple[tuple[ImageView, ...], int, int]:
    """The first frame, up to ``sample_frames`` evenly spaced ones and up to ``sample_frames`` of the
    longest-shown others, in one pass.

    The longest-shown are chosen among frames not already sampled, and only those held longer
    than the animation's median frame: a tie with frame 0, or one decoy held a moment longer,
    must not spend the only slot a banked frame shown for seconds would take.

    ``durations_ahead``, every frame's duration read from the container (``frame_durations``),
    lets only the chosen frames be shrunk to views; without it, each candidate is shrunk as it
    passes and most are dropped once the median is known (the same choice, more work).

    Every frame is decoded (each is drawn over the ones before it), so the work
    is ``frames x canvas pixels``, refused past ``max_animation_pixels`` before
    any frame is decoded. A later frame that is truncated or corrupt rejects
    the whole image (what it hides cannot be moderated).
    """
    try:
        count = image.n_frames
        width, height = image.size
        if count > limits.max_animation_frames:
            raise _too_costly(f"the animation has {count} frames; the limit is {limits.max_animation_frames}")
        if width * height > limits.max_animation_canvas_pixels:
            raise _too_costly(f"the animation is {width}x{height}; an animation may have at most "
                              f"{limits.max_animation_canvas_pixels} pixels")
        if count * width * height > limits.max_animation_pixels:
            raise _too_costly(f"the animation has {count} frames of {width}x{height} pixels; the limit is "
                              f"{limits.max_animation_pixels} frame pixels in all")
        spaced = min(limits.sample_frames, count)
        wanted = {0} | {round(i * (count - 1) / max(spaced - 1, 1)) for i in range(spaced)}
        if durations_ahead is not None and len(durations_ahead) == count:
            wanted |= _longest_shown(durations_ahead, wanted, spaced)
            held_by_heap = False
        else:
            held_by_heap = True
        kept: dict[int, tuple[ImageView, ...]] = {}
        held: list[tuple[float, int, tuple[ImageView, ...]]] = []  # min-heap: the longest-shown others
        durations = []
        orientation = 1
        for index in range(count):
            image.seek(index)
            image.load()
            if index == 0:
                orientation = _orientation(image)
            duration = float(image.info.get("duration") or 0)
            durations.append(duration)
            if index in wanted:
                kept[index] = _views(image, limits.frame_side, orientation, frame=index)
            elif held_by_heap and (len(held) < spaced or (duration, -index) > held[0][:2]):
                entry = (duration, -index, _views(image, limits.frame_side, orientation, frame=index))
                (heapq.heappush if len(held) < spaced else heapq.heappushpop)(held, entry)
        typical = statistics.median(durations)
        kept.update({-negative: views for duration, negative, views in held if duration > typical})
        return tuple(view for index in sorted(kept) for view in kept[index]), count, orientation
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels(str(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise _classify_decode_error(exc) from exc

def _longest_shown(durations: list[float], sampled: set[int], slots: int) -> set[int]:
    """Up to ``slots`` of the longest-shown frames not in ``sampled`` (ties: the earlier), of those
    held longer than the median frame: what the heap in ``_decode_animation`` ends with."""
    others = sorted((index for index in range(len(durations)) if index not in sampled),
                    key=lambda index: (-durations[index], index))[:slots]
    typical = statistics.median(durations)
    return {index for index in others if durations[index] > typical}


def _classify_decode_error(exc: BaseException) -> ImageRejected:
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return _truncated()
    return _invalid(f"the image is corrupt: {exc}")


# EXIF orientation -> the transpose that displays it (as ImageOps.exif_transpose).
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}
_SWAPS_SIDES = (5, 6, 7, 8)
_OPAQUE_ENOUGH = 250  # alpha above this everywhere: transparency hides nothing worth a second view
_HIGH_BIT_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
_BAND_BYTES = 8 << 20  # source rows converted at once while shrinking
_LANCZOS_SUPPORT = 3


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:
        return 1
    return value if value in _TRANSPOSE else 1


def _views(image: Image.Image, side: int, orientation: int, frame: int) -> tuple[ImageView, ...]:
    """The loaded ``image`` at most ``side`` pixels long, oriented, on one background or two."""
    picture = _shrunk(image, side)
    if orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[orientation])
    if picture.mode != "RGBA":
        return (ImageView(picture, frame),)
    alpha = np.asarray(picture.getchannel("A"))
    if alpha.min() > _OPAQUE_ENOUGH:
        return (ImageView(picture.convert("RGB"), frame),)
    return tuple(ImageView(Image.alpha_composite(Image.new("RGBA", picture.size, colour), picture).convert("RGB"),
                           frame, background)
                 for background, colour in (("light", (255, 255, 255, 255)), ("dark", (0, 0, 0, 255))))



def _shrunk(image: Image.Image, side: int) -> Image.Image:
    """RGB, or RGBA when the image has transparency, with its long side at most ``side``.

    A large image is converted and resized band by band (each band with the
    rows the Lanczos filter reads around it, so the result equals a whole-image
    resize), so no second full-size copy of it is ever made.
    """
    mode = "RGBA" if _has_transparency(image) else "RGB"
    extrema = image.getextrema() if image.mode in _HIGH_BIT_DEPTH else None
    width, height = image.size
    if max(width, height) <= side:
        return _converted(image, mode, extrema)
    scale = side / max(width, height)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    rows_per_row = height / target[1]
    margin = math.ceil(_LANCZOS_SUPPORT * rows_per_row) + 1
    out_rows = max(1, int(_BAND_BYTES // (width * 4) / rows_per_row))
    out = Image.new(mode, target)
    for top in range(0, target[1], out_rows):
        bottom = min(target[1], top + out_rows)
        source_top, source_bottom = top * rows_per_row, bottom * rows_per_row
        crop_top = max(0, math.floor(source_top) - margin)
        crop_bottom = min(height, math.ceil(source_bottom) + margin)
        band = _converted(image.crop((0, crop_top, width, crop_bottom)), mode, extrema)
        out.paste(band.resize((target[0], bottom - top), Image.Resampling.LANCZOS,
                              box=(0, source_top - crop_top, width, source_bottom - crop_top)), (0, top))
    return out


def _converted(image: Image.Image, mode: str, extrema) -> Image.Image:
    if image.mode in _HIGH_BIT_DEPTH:
        image = _high_bit_depth_to_l(image, extrema)
    if image.mode == mode:
        return image.copy()  # detach from the decoder's file object
    return image.convert(mode)


def _has_transparency(image: Image.Image) -> bool:
    return "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info


def _high_bit_depth_to_l(image: Image.Image, extrema) -> Image.Image:
    # Pillow's own convert("RGB") clips these modes at 255, turning most
    # 16-bit images white; scale by the nominal range instead. ``extrema`` are
    # of the whole image, so bands of it scale alike.
    values = np.asarray(image).astype(np.float32)
    low, high = extrema if extrema else ((values.min(), values.max()) if values.size else (0.0, 1.0))
    if image.mode.startswith("I;16"):
        scaled = values / 257.0
    elif image.mode == "F" and 0.0 <= low and high <= 1.0:
        scaled = values * 255.0
    elif 0.0 <= low and high <= 255.0:
        scaled = values
    elif 0.0 <= low and high <= 65535.0:
        scaled = values / 257.0
    else:
        scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    grey = Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))
    key = image.info.get("transparency")
    if not isinstance(key, int):
        return grey
    # A tRNS key (PNG greyscale) makes every pixel of exactly that raw value transparent. It no
    # longer matches after scaling, so it becomes an alpha band here, from the raw values: a
    # picture drawn by the key alone must reach the light and dark views, not read as flat grey.
    alpha = Image.fromarray(np.where(np.asarray(image) == key, 0, 255).astype(np.uint8))
    return Image.merge("LA", (grey, alpha))

