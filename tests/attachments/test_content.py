"""The pure content checks and thumbnails (no database, no web)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.attachments.content import (
    MAX_PIXELS,
    CheckedImage,
    ImageRefused,
    check,
    sniff,
    thumbnail,
)
from tests.attachments import images


class TestCheck:
    def test_each_accepted_format_is_recognised_from_its_bytes(self) -> None:
        assert check(images.png(30, 20)) == CheckedImage("PNG", 30, 20)
        assert check(images.jpeg(40, 10)) == CheckedImage("JPEG", 40, 10)
        assert check(images.webp(5, 7)) == CheckedImage("WEBP", 5, 7)
        assert check(images.png()).content_type == "image/png"
        assert check(images.jpeg()).extension == "jpg"

    @pytest.mark.parametrize(
        ("data", "says"),
        [
            (images.gif(), "the content is not a PNG, JPEG or WebP image (it starts with b'GIF87a"),
            (
                images.SVG,
                "the content is not a PNG, JPEG or WebP image (it starts with b'<svg xml'",
            ),
            (
                b"hello world",
                "the content is not a PNG, JPEG or WebP image (it starts with b'hello wo'",
            ),
            (
                images.PNG_HEADER_ON_TEXT,
                "the content starts like a PNG image but does not decode as one",
            ),
            (images.png()[:100], "the content starts like a PNG image but does not decode as one"),
        ],
    )
    def test_anything_else_is_refused_saying_why(self, data: bytes, says: str) -> None:
        with pytest.raises(ImageRefused) as refused:
            check(data)
        assert str(refused.value).startswith(says)

    def test_a_decompression_bomb_is_refused_before_it_is_decoded(self) -> None:
        data = images.bomb()
        assert len(data) < 20_000
        with pytest.raises(ImageRefused) as refused:
            check(data)
        assert str(refused.value) == (
            f"the image is 8000x8000 = 64000000 pixels; at most {MAX_PIXELS} (40 megapixels) are accepted"
        )

    def test_sniff_ignores_what_follows_the_signature(self) -> None:
        assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
        assert sniff(b"RIFF\x00\x00\x00\x00AVI ") is None


class TestThumbnail:
    @pytest.mark.parametrize(
        ("size", "expected"),
        [((1000, 500), (320, 160)), ((300, 2000), (48, 320)), ((100, 80), (100, 80))],
    )
    def test_a_webp_that_fits_320x320(
        self, size: tuple[int, int], expected: tuple[int, int]
    ) -> None:
        data = images.png(*size)
        thumb = thumbnail(data, check(data))
        assert images.format_of(thumb) == "WEBP"
        assert images.size_of(thumb) == expected

    def test_the_exif_orientation_is_applied(self) -> None:
        data = images.jpeg(400, 100, orientation=6)  # rotated 90 degrees: shown 100 wide, 400 high
        assert check(data) == CheckedImage("JPEG", 400, 100)
        assert images.size_of(thumbnail(data, check(data))) == (80, 320)

    def test_transparency_is_kept(self) -> None:
        data = images.webp(10, 10)
        with Image.open(io.BytesIO(thumbnail(data, check(data)))) as thumb:
            assert thumb.mode == "RGBA"
            assert thumb.getpixel((5, 5))[3] == 128  # type: ignore[index]
