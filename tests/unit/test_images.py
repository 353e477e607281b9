"""Thumbnails: upright, metadata-free, and refusals instead of crashes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from parley.domain import images
from tests.files_support import EXIF_GPS_IFD, jpeg, png_bomb


def test_a_thumbnail_is_upright_small_and_without_metadata() -> None:
    thumb = images.make_thumbnail(jpeg(1600, 900, orientation=8, gps=True))
    assert (thumb.width, thumb.height) == (900, 1600)
    decoded = Image.open(io.BytesIO(thumb.data))
    assert decoded.size == (450, 800)
    assert len(decoded.getexif()) == 0
    assert not decoded.getexif().get_ifd(EXIF_GPS_IFD)


@pytest.mark.parametrize(
    "size",
    [
        (50_000, 50_000),  # past Pillow's own hard cap: DecompressionBombError
        (8_000, 7_000),  # 56 MP: past ours, under Pillow's error threshold
    ],
)
def test_too_many_pixels_are_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(images.ImageRefused):
        images.make_thumbnail(png_bomb(*size))


def test_bytes_that_are_not_an_image_are_refused() -> None:
    with pytest.raises(images.ImageRefused):
        images.make_thumbnail(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(images.ImageRefused):
        images.make_thumbnail(jpeg(300, 300)[:400])


def test_transparency_is_kept_as_png() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    thumb = images.make_thumbnail(out.getvalue())
    assert thumb.content_type == "image/png"
