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


def test_an_avatar_is_the_centred_square_at_every_size() -> None:
    """A wide photo: its middle is kept (the red square between blue bars), re-encoded."""
    wide = Image.new("RGB", (300, 100), (0, 0, 255))
    wide.paste((255, 0, 0), (100, 0, 200, 100))
    out = io.BytesIO()
    wide.save(out, "PNG")
    made = images.make_avatar(out.getvalue())
    assert sorted(made) == list(images.AVATAR_SIZES)
    for size, thumb in made.items():
        picture = Image.open(io.BytesIO(thumb.data))
        assert picture.size == (size, size)
        red, _green, blue = picture.convert("RGB").getpixel((size // 2, size // 2))
        assert red > 200 and blue < 60
        # The edges too: nothing of the blue bars is left.
        assert picture.convert("RGB").getpixel((0, 0))[2] < 60


def test_a_custom_emoji_is_one_small_static_png() -> None:
    out = io.BytesIO()
    frames = [Image.new("RGB", (512, 256), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50)
    made = images.make_emoji(out.getvalue())
    picture = Image.open(io.BytesIO(made.data))
    assert picture.format == "PNG" and picture.size == (128, 64)
    assert getattr(picture, "n_frames", 1) == 1


def test_broken_images_are_refused_by_every_maker() -> None:
    for make in (images.make_avatar, images.make_emoji, images.make_preview_image):
        with pytest.raises(images.ImageRefused):
            make(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
