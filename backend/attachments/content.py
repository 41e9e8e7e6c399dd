"""What an uploaded image is, from its bytes alone; its thumbnail. Pure: no web, no ORM.

The format is sniffed from the first bytes (PNG, JPEG or WebP, whatever the name or the
declared type say), the file is checked with Pillow's `verify()`, then opened again and
decoded in full, so that a truncated or corrupt file is refused here rather than shown
broken later. The pixel count is checked from the header before anything is decoded:
a small file that would decode to gigabytes (a decompression bomb) is refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000
THUMBNAIL_BOX = (320, 320)
# Pillow's format name -> (content type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}
CONTENT_TYPES = frozenset(content_type for content_type, _ext in FORMATS.values())


class ImageRefused(ValueError):
    """The bytes are not an image this service keeps; the message says why."""


@dataclass(frozen=True)
class CheckedImage:
    format: str  # "PNG", "JPEG" or "WEBP"
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]


def sniff(data: bytes) -> str | None:
    """The format the first bytes announce, or None for anything but PNG, JPEG and WebP."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check(data: bytes) -> CheckedImage:
    """The image in `data`, fully decoded once; ImageRefused when it is not a whole PNG,
    JPEG or WebP image of at most MAX_PIXELS pixels."""
    found = sniff(data)
    if found is None:
        raise ImageRefused(
            f"the content is not a PNG, JPEG or WebP image (it starts with {data[:8]!r}); "
            "only those are accepted, whatever the name or Content-Type say"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[found]) as image:
                width, height = image.size
                _check_pixels(width, height)
                image.verify()
            with Image.open(io.BytesIO(data), formats=[found]) as image:
                image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(f"the image is too large to decode ({exc}); at most {MAX_PIXELS} "
                           "pixels") from None  # fmt: skip
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRefused(f"the content starts like a {found} image but does not decode as "
                           f"one: {exc}") from None  # fmt: skip
    return CheckedImage(found, width, height)


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageRefused(
            f"the image is {width}x{height} = {width * height} pixels; at most {MAX_PIXELS} "
            "(40 megapixels) are accepted"
        )


def thumbnail(data: bytes, image: CheckedImage) -> bytes:
    """A WebP that fits THUMBNAIL_BOX, upright (the EXIF orientation applied)."""
    with Image.open(io.BytesIO(data), formats=[image.format]) as opened:
        upright = ImageOps.exif_transpose(opened)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
            upright.mode == "P" and "transparency" in upright.info
        )
        small = upright.convert("RGBA" if has_alpha else "RGB")
        small.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, format="WEBP", quality=80)
    return out.getvalue()
