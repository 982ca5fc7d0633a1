"""Pictures made safe to serve: upright, sRGB, resized, and without any metadata."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageOps

pillow_heif.register_heif_opener()

FULL = "full"
WEB = "web"
THUMB = "thumb"
POSTER = "poster"

# (rendition name, longest edge in pixels); each is made from the one before it.
PHOTO_SIZES = ((FULL, 2560), (WEB, 1600), (THUMB, 480))
POSTER_SIZES = ((POSTER, 1280), (THUMB, 480))

JPEG = "image/jpeg"
PNG = "image/png"

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
SIDEWAYS = {5, 6, 7, 8}


class UnreadableImage(Exception):
    """The bytes do not decode to a picture."""


class ImageTooLarge(UnreadableImage):
    """The picture has more pixels than Pillow's decompression-bomb limit allows."""


@dataclass(frozen=True)
class RenditionData:
    name: str
    content_type: str
    data: bytes
    width: int | None
    height: int | None


@dataclass(frozen=True)
class RenderedImage:
    width: int
    height: int
    renditions: tuple[RenditionData, ...]


def render_image(data: bytes, pil_format: str, sizes=PHOTO_SIZES) -> RenderedImage:
    """Decode `data` as `pil_format` only and encode one clean rendition per entry of `sizes`."""
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
            stored_width, stored_height = image.size
            limit = Image.MAX_IMAGE_PIXELS
            if limit and stored_width * stored_height > limit:
                raise ImageTooLarge(f"{stored_width}x{stored_height} pixels")
            # Decode JPEGs at the smallest DCT scale that still covers the largest rendition.
            image.draft(None, _fitted(image.size, sizes[0][1]))
            image.load()
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            upright = ImageOps.exif_transpose(image)
            picture = _display_colours(upright)
    except UnreadableImage:
        raise
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(str(error)) from error
    # Pillow raises many kinds of exception on hostile or damaged input; all of them mean "not a picture".
    except Exception as error:
        raise UnreadableImage(f"{type(error).__name__}: {error}") from error
    if orientation in SIDEWAYS:
        stored_width, stored_height = stored_height, stored_width
    return RenderedImage(stored_width, stored_height, encode_renditions(picture, sizes))


def encode_renditions(picture: Image.Image, sizes=PHOTO_SIZES) -> tuple[RenditionData, ...]:
    """Encode `picture` (RGB, L or RGBA, already upright and sRGB) at each size, never enlarging it."""
    renditions = []
    for name, edge in sizes:
        if max(picture.size) > edge:
            picture = picture.resize(_fitted(picture.size, edge), Image.Resampling.LANCZOS)
        renditions.append(_encode(name, picture))
    return tuple(renditions)


def _fitted(size: tuple[int, int], edge: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode(name: str, picture: Image.Image) -> RenditionData:
    # Pillow carries some metadata (comment, ICC profile, PNG transparency) from .info into saves.
    picture.info.clear()
    buffer = io.BytesIO()
    if picture.mode == "RGBA":
        # Transparent pictures are drawings, logos and screenshots: PNG keeps both the
        # transparency and their sharp edges; flattening would pick a background for the page.
        picture.save(buffer, "PNG")
        content_type = PNG
    else:
        picture.save(buffer, "JPEG", quality=85, progressive=True, optimize=True)
        content_type = JPEG
    return RenditionData(name, content_type, buffer.getvalue(), *picture.size)


def _display_colours(image: Image.Image) -> Image.Image:
    """Return `image` as sRGB in RGB or L, or RGBA when some pixel is actually transparent."""
    icc_profile = image.info.get("icc_profile")
    alpha = None
    if {"A", "a"} & set(image.getbands()) or "transparency" in image.info:
        image = image.convert("RGBA")
        alpha = image.getchannel("A")
        if alpha.getextrema()[0] == 255:
            alpha = None
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("L" if image.mode == "1" else "RGB")
    image = _to_srgb(image, icc_profile)
    if alpha is not None:
        image = image.convert("RGB")
        image.putalpha(alpha)
    return image


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB")
        # A damaged profile, or one for another colour space, should cost colour accuracy, not the photo.
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    return image.convert("RGB") if image.mode == "CMYK" else image
