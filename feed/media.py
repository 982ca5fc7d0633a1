"""The media stage: sniff what an attachment really is and make the renditions a browser can show safely."""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass

from feed.images import ImageTooLarge, RenditionData, UnreadableImage, render_image
from feed.videos import UnplayableVideo, render_video

__all__ = ["ProcessedMedia", "RenditionData", "process_media", "sniff_type"]

logger = logging.getLogger(__name__)

IMAGE = "image"
VIDEO = "video"
DOCUMENT = "document"

OCTET_STREAM = "application/octet-stream"

# The sniffed type of every picture we decode, and the only Pillow plugin allowed to read it.
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
    "image/avif": "AVIF",
}
# The sniffed type of every video we convert, and the only ffmpeg demuxer allowed to read it.
FFMPEG_DEMUXERS = {
    "video/quicktime": "mov",
    "video/mp4": "mov",
    "video/x-m4v": "mov",
    "video/3gpp": "mov",
    "video/3gpp2": "mov",
    "video/webm": "matroska",
    "video/x-matroska": "matroska",
}
# Declared types that would make a browser run or render the file if it were ever served inline.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
}

HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
AVIF_BRANDS = {b"avif", b"avis"}
HEIF_BRANDS = {b"mif1", b"msf1"}
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"dash", b"mmp4", b"MSNV", b"NDAS", b"XAVC", b"f4v ",
}  # fmt: skip
M4V_BRANDS = {b"M4V ", b"M4VH", b"M4VP"}
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class ProcessedMedia:
    kind: str
    content_type: str
    width: int | None
    height: int | None
    renditions: tuple[RenditionData, ...]
    note: str = ""


# Files that run code when opened: never offered to a client, whatever they are called.
FORBIDDEN_EXTENSIONS = frozenset(
    "exe com scr pif bat cmd msi msp cpl hta jar js jse vbs vbe wsf wsh ps1 psm1 reg lnk app apk dmg iso "
    "docm dotm xlsm xltm xlam pptm potm ppam sldm".split()
)
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")


def forbidden_reason(filename: str, data: bytes) -> str | None:
    """Say why a file must not be posted (a program or a macro document), or None when it may be."""
    extension = filename.lower().rsplit(".", 1)[-1].strip() if "." in filename else ""
    if extension in FORBIDDEN_EXTENSIONS or data.startswith(EXECUTABLE_MAGIC):
        return f"{filename or 'An attachment'} was not posted: programs and macro documents can carry viruses."
    return None


def process_media(filename: str, declared_type: str, data: bytes) -> ProcessedMedia:
    """Turn an attachment into a picture, a video or a download, judging by its content alone."""
    sniffed = sniff_type(data)
    name = filename or "An attachment"
    if sniffed in PILLOW_FORMATS:
        try:
            picture = render_image(data, PILLOW_FORMATS[sniffed])
        except ImageTooLarge as error:
            logger.info("%s offered as a download: %s", name, error)
            note = f"{name} is too large to show as a picture and is offered as a download."
            return ProcessedMedia(DOCUMENT, sniffed, None, None, (), note)
        except UnreadableImage as error:
            logger.info("%s offered as a download: %s", name, error)
            note = f"{name} could not be read and is offered as a download."
            return ProcessedMedia(DOCUMENT, sniffed, None, None, (), note)
        return ProcessedMedia(IMAGE, sniffed, picture.width, picture.height, picture.renditions)
    if sniffed in FFMPEG_DEMUXERS:
        try:
            video = render_video(data, FFMPEG_DEMUXERS[sniffed])
        except UnplayableVideo as error:
            logger.warning("%s offered as a download: %s", name, error)
            note = f"{name} could not be converted to play in a browser and is offered as a download."
            return ProcessedMedia(DOCUMENT, sniffed, None, None, (), note)
        return ProcessedMedia(VIDEO, sniffed, video.width, video.height, video.renditions)
    return _document(name, declared_type, sniffed)


def _document(name: str, declared_type: str, sniffed: str | None) -> ProcessedMedia:
    if sniffed:
        return ProcessedMedia(DOCUMENT, sniffed, None, None, ())
    declared = declared_type.split(";", 1)[0].strip().lower()
    guessed = mimetypes.guess_type(name)[0] or ""
    # What the content did not confirm is not repeated: a picture or video claim, or a type a browser would run.
    claims_media = any(claim.startswith(("image/", "video/")) for claim in (declared, guessed))
    unconfirmed = claims_media or declared == "application/pdf" or declared in ACTIVE_TYPES
    content_type = OCTET_STREAM if unconfirmed or "/" not in declared else declared
    note = f"{name} is not a picture or video we can show and is offered as a download." if claims_media else ""
    return ProcessedMedia(DOCUMENT, content_type, None, None, (), note)


def sniff_type(data: bytes) -> str | None:
    """Name the media type of `data` from its first bytes, or None when it is none we recognise."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        header = data[:64]
        return "video/webm" if b"webm" in header else "video/x-matroska" if b"matroska" in header else None
    if data[4:8] == b"ftyp":
        return _sniff_iso_media(data)
    if data[4:8] in QUICKTIME_ATOMS:
        return "video/quicktime"
    return None


def _sniff_iso_media(data: bytes) -> str | None:
    size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, min(size, 256, len(data)) - 3, 4)}
    if major in HEIF_BRANDS:
        # Generic still-image brands: the compatible list says which codec is inside.
        major = next(iter(compatible & AVIF_BRANDS), None) or next(iter(compatible & HEIC_BRANDS), major)
    if major in HEIC_BRANDS:
        return "image/heic"
    if major in AVIF_BRANDS:
        return "image/avif"
    if major in HEIF_BRANDS:
        return "image/heif"
    if major == b"qt  ":
        return "video/quicktime"
    if major in M4V_BRANDS:
        return "video/x-m4v"
    if major.startswith(b"3gp") or major.startswith(b"3gg"):
        return "video/3gpp"
    if major.startswith(b"3g2"):
        return "video/3gpp2"
    if major in MP4_BRANDS:
        return "video/mp4"
    return None
