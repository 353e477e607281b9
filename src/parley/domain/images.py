"""Thumbnails with Pillow: blocking, pure functions that callers run in a worker thread.

Every image is opened with a pixel cap, turned upright from its EXIF orientation and
re-encoded, which is also what strips its metadata (EXIF with GPS, XMP, comments): a
re-encoded image carries only what we write into it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from PIL import Image, ImageOps

# Decoding cost grows with pixels, not bytes: a 100 KB PNG can declare 50000x50000.
# 50 MP covers phone cameras (12-48 MP) and refuses bombs before any pixel is decoded.
MAX_IMAGE_PIXELS = 50_000_000
THUMBNAIL_MAX_SIDE = 800
JPEG_QUALITY = 82
# Types Pillow may open here: the sniffed content type must be one of these.
THUMBNAIL_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"})

EXIF_ORIENTATION = 0x0112
QUARTER_TURNS = frozenset({5, 6, 7, 8})  # orientations that swap width and height

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    content_type: str
    width: int  # of the original, upright
    height: int


class ImageRefused(Exception):
    """The bytes are not an image Parley will decode (broken, or too many pixels)."""


def make_thumbnail(source: bytes) -> Thumbnail:
    """A metadata-free thumbnail at most THUMBNAIL_MAX_SIDE on its longer side.

    Raises ImageRefused for a decompression bomb or anything Pillow cannot decode.
    """
    try:
        # Pillow itself refuses past 2 * MAX_IMAGE_PIXELS (DecompressionBombError) and
        # only warns between MAX and 2 * MAX, so the header's size is checked here too,
        # before a single pixel is decoded.
        with Image.open(io.BytesIO(source)) as opened:
            width, height = opened.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageRefused(f"{width}x{height} is more pixels than allowed")
            if opened.getexif().get(EXIF_ORIENTATION) in QUARTER_TURNS:
                width, height = height, width
            if opened.format == "JPEG":
                # Let libjpeg decode at 1/2..1/8 scale: far less memory and time. Ask
                # for the thumbnail's own size (not a square box), or a 4:3 photo is
                # decoded at twice the scale it needs.
                scale = THUMBNAIL_MAX_SIDE / max(opened.size)
                if scale < 1:
                    box = (round(opened.width * scale), round(opened.height * scale))
                    opened.draft("RGB", box)
            upright = ImageOps.exif_transpose(opened)
            upright.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE))
            return _encode(upright, width, height)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(str(exc)) from exc
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        # Pillow reports truncated and malformed files with these.
        raise ImageRefused(f"not a decodable image: {exc}") from exc


def _encode(image: Image.Image, width: int, height: int) -> Thumbnail:
    out = io.BytesIO()
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        image.convert("RGBA").save(out, "PNG", optimize=True)
        kind = "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        kind = "image/jpeg"
    return Thumbnail(out.getvalue(), kind, width, height)


AVATAR_SIZES = (32, 64, 128, 256)
EMOJI_SIDE = 128
PREVIEW_IMAGE_MAX_SIDE = 600


def _upright(source: bytes, want: int) -> Image.Image:
    """The image decoded upright (at reduced scale for JPEG when ``want`` allows); raises
    ImageRefused as make_thumbnail does. The caller must close the result."""
    with Image.open(io.BytesIO(source)) as opened:
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageRefused(f"{width}x{height} is more pixels than allowed")
        if opened.format == "JPEG":
            scale = want / min(opened.size) if min(opened.size) else 1
            if scale < 1:
                opened.draft("RGB", (round(opened.width * scale), round(opened.height * scale)))
        upright = ImageOps.exif_transpose(opened)
        upright.load()
        return upright


def _refusing(make: Callable[[bytes], T]) -> Callable[[bytes], T]:
    """Pillow's own errors for broken input, as ImageRefused (as in make_thumbnail)."""

    def wrapped(source: bytes) -> T:
        try:
            return make(source)
        except ImageRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRefused(str(exc)) from exc
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
            raise ImageRefused(f"not a decodable image: {exc}") from exc

    return wrapped


@_refusing
def make_avatar(source: bytes) -> dict[int, Thumbnail]:
    """The image cropped to its centred square and re-encoded at each of AVATAR_SIZES
    (metadata-free; PNG when it has transparency, else JPEG). Raises ImageRefused."""
    upright = _upright(source, max(AVATAR_SIZES))
    square = ImageOps.fit(upright, (max(AVATAR_SIZES),) * 2, method=Image.Resampling.LANCZOS)
    found = {}
    for size in AVATAR_SIZES:
        scaled = (
            square
            if size == square.width
            else square.resize((size, size), Image.Resampling.LANCZOS)
        )
        found[size] = _encode(scaled, size, size)
    return found


@_refusing
def make_emoji(source: bytes) -> Thumbnail:
    """A static PNG at most EMOJI_SIDE on its longer side (first frame of an animation),
    transparency kept. Raises ImageRefused."""
    upright = _upright(source, EMOJI_SIDE)
    upright.thumbnail((EMOJI_SIDE, EMOJI_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    upright.convert("RGBA").save(out, "PNG", optimize=True)
    return Thumbnail(out.getvalue(), "image/png", upright.width, upright.height)


@_refusing
def make_preview_image(source: bytes) -> Thumbnail:
    """A link preview's image, re-encoded, at most PREVIEW_IMAGE_MAX_SIDE. Raises
    ImageRefused."""
    upright = _upright(source, PREVIEW_IMAGE_MAX_SIDE)
    upright.thumbnail((PREVIEW_IMAGE_MAX_SIDE, PREVIEW_IMAGE_MAX_SIDE))
    return _encode(upright, upright.width, upright.height)
