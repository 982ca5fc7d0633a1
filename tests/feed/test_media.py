"""The media stage: real pictures and videos in, upright, metadata-free renditions out."""

from __future__ import annotations

import email
import email.policy
import io
import struct
import subprocess
import zlib
from pathlib import Path

import imageio_ffmpeg
import pillow_heif
import pytest
from PIL import Image, ImageCms

import feed.videos
from feed.media import ProcessedMedia, process_media, sniff_type
from tests.conftest import sample

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
LOCATION = "+51.5074-000.1278/"
RED, BLUE, CYAN = (255, 0, 0), (0, 0, 255), (0, 255, 255)
PHOTO_RENDITIONS = ["full", "web", "thumb"]
VIDEO_RENDITIONS = ["video", "poster", "thumb"]


# --- helpers: build inputs, look inside outputs ----------------------------------------------------


def jpeg_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **params)
    return buffer.getvalue()


def landscape_red_left_blue_right(width: int = 64, height: int = 32) -> Image.Image:
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Apple"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.1)})
    return exif


def iptc_segment(city: bytes) -> bytes:
    """A Photoshop APP13 segment holding one IPTC dataset (2:90 City)."""
    dataset = b"\x1c\x02\x5a" + struct.pack(">H", len(city)) + city
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(dataset)) + dataset
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the start of scan."""
    assert data[:2] == b"\xff\xd8"
    markers, position = [], 2
    while data[position + 1] != 0xDA:
        assert data[position] == 0xFF
        markers.append(data[position + 1])
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    return markers


def png_chunks(data: bytes) -> list[bytes]:
    chunks, position = [], 8
    while position < len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        chunks.append(data[position + 4 : position + 8])
        position += 12 + length
    return chunks


def assert_no_metadata(media: ProcessedMedia) -> None:
    for rendition in media.renditions:
        if rendition.content_type == "video/mp4":
            continue
        image = Image.open(io.BytesIO(rendition.data))
        assert not image.getexif(), rendition.name
        assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(image.info), rendition.name
        if rendition.content_type == "image/jpeg":
            # Only the JFIF header may come before the picture data: no EXIF/XMP, ICC, IPTC or comment.
            assert [m for m in jpeg_markers(rendition.data) if m >= 0xE1 or m == 0xFE] == [], rendition.name
        else:
            assert not {b"eXIf", b"iCCP", b"tEXt", b"iTXt", b"zTXt"} & set(png_chunks(rendition.data))


def opened(media: ProcessedMedia, name: str) -> Image.Image:
    rendition = next(r for r in media.renditions if r.name == name)
    image = Image.open(io.BytesIO(rendition.data))
    assert image.size == (rendition.width, rendition.height)
    return image


def near(colour, expected, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=False))


def ffmpeg_log(data: bytes, tmp_path: Path) -> str:
    """What ffmpeg says about a file: container, streams and their metadata."""
    path = tmp_path / "inspect.bin"
    path.write_bytes(data)
    return subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


def decodes_cleanly(data: bytes, tmp_path: Path) -> bool:
    path = tmp_path / "decode.mp4"
    path.write_bytes(data)
    run = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True)
    return run.returncode == 0 and not run.stderr


def h264_stream(data: bytes, tmp_path: Path) -> bytes:
    path = tmp_path / "stream.mp4"
    path.write_bytes(data)
    command = [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy"]
    return subprocess.run([*command, "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"], capture_output=True).stdout


def make_video(path: Path, *arguments: str, size: str = "160x90", seconds: float = 1) -> bytes:
    """A small test-pattern video made with the bundled ffmpeg."""
    pattern = f"testsrc=size={size}:rate=10:duration={seconds}"
    command = [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", pattern, *arguments, str(path)]
    subprocess.run(command, check=True)
    return path.read_bytes()


H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


# --- pictures --------------------------------------------------------------------------------------


def test_exif_rotated_photo_is_served_upright():
    data = jpeg_bytes(landscape_red_left_blue_right(), exif=exif_with_gps(6))
    media = process_media("IMG_1.JPG", "image/jpeg", data)
    assert (media.kind, media.content_type, media.width, media.height) == ("image", "image/jpeg", 32, 64)
    assert [r.name for r in media.renditions] == PHOTO_RENDITIONS
    full = opened(media, "full").convert("RGB")
    # Orientation 6 turns the picture a quarter clockwise: the left (red) half ends up on top.
    assert full.size == (32, 64)
    assert near(full.getpixel((16, 8)), RED) and near(full.getpixel((16, 56)), BLUE)


def test_renditions_carry_no_gps_exif_xmp_iptc_or_comment():
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>51,30.2N</exif:GPSLatitude></x:xmpmeta>'
    data = jpeg_bytes(
        landscape_red_left_blue_right(),
        exif=exif_with_gps(1),
        xmp=xmp,
        comment=b"taken at 12 Holloway Road",
        extra=iptc_segment(b"London"),
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(0x8825) and {"xmp", "comment"} <= set(source.info)
    assert b"Photoshop 3.0" in data
    media = process_media("IMG_2.JPG", "image/jpeg", data)
    assert media.kind == "image"
    assert_no_metadata(media)
    for rendition in media.renditions:
        assert b"GPS" not in rendition.data and b"Holloway" not in rendition.data and b"London" not in rendition.data


def test_renditions_are_bounded_and_never_enlarged():
    large = Image.linear_gradient("L").resize((3000, 2000)).convert("RGB")
    media = process_media("wall.jpg", "image/jpeg", jpeg_bytes(large))
    sizes = {r.name: (r.width, r.height) for r in media.renditions}
    assert (media.width, media.height) == (3000, 2000)
    assert sizes == {"full": (2560, 1707), "web": (1600, 1067), "thumb": (480, 320)}
    assert opened(media, "full").info.get("progressive") == 1
    small = process_media("tiny.jpg", "image/jpeg", jpeg_bytes(Image.new("RGB", (300, 200), RED)))
    assert {(r.width, r.height) for r in small.renditions} == {(300, 200)}


def test_heic_is_served_as_upright_jpeg():
    heif = pillow_heif.from_pillow(landscape_red_left_blue_right())
    buffer = io.BytesIO()
    heif.save(buffer, quality=90, exif=exif_with_gps(6).tobytes())
    media = process_media("IMG_3.HEIC", "application/octet-stream", buffer.getvalue())
    assert (media.kind, media.content_type, media.width, media.height) == ("image", "image/heic", 32, 64)
    assert {r.content_type for r in media.renditions} == {"image/jpeg"}
    full = opened(media, "full")
    assert full.format == "JPEG" and near(full.getpixel((16, 8)), RED)
    assert_no_metadata(media)


def test_jpeg_named_and_declared_heic_is_handled_as_jpeg():
    media = process_media("IMG_4.HEIC", "image/heic", jpeg_bytes(landscape_red_left_blue_right()))
    assert (media.kind, media.content_type) == ("image", "image/jpeg")


@pytest.mark.parametrize("mode", ["RGBA", "P"], ids=["alpha-channel", "palette-transparency"])
def test_png_with_transparency_stays_transparent_png(mode):
    image = Image.new("RGBA", (40, 20), (*RED, 255))
    image.paste((0, 0, 0, 0), (20, 0, 40, 20))
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, "PNG")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == mode
    media = process_media("logo.png", "image/png", buffer.getvalue())
    assert (media.kind, media.content_type) == ("image", "image/png")
    assert {r.content_type for r in media.renditions} == {"image/png"}
    full = opened(media, "full")
    assert full.mode == "RGBA" and full.getpixel((5, 5)) == (*RED, 255) and full.getpixel((35, 5))[3] == 0
    assert_no_metadata(media)


def test_png_whose_alpha_is_all_opaque_becomes_jpeg():
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 20), (*BLUE, 255)).save(buffer, "PNG")
    media = process_media("screen.png", "image/png", buffer.getvalue())
    assert {r.content_type for r in media.renditions} == {"image/jpeg"}


def test_cmyk_jpeg_is_served_as_rgb_with_its_colour():
    media = process_media("print.jpg", "image/jpeg", jpeg_bytes(Image.new("CMYK", (32, 32), (255, 0, 0, 0))))
    full = opened(media, "full")
    assert full.mode == "RGB" and near(full.getpixel((16, 16)), CYAN)


def test_embedded_colour_profile_is_applied_then_dropped():
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # Swap the red and blue primaries in the tag table: "red" pixel values now mean blue light.
    tags = {bytes(profile[o : o + 4]): o for o in range(132, 132 + 12 * int.from_bytes(profile[128:132]), 12)}
    red, blue = tags[b"rXYZ"], tags[b"bXYZ"]
    red_entry, blue_entry = profile[red + 4 : red + 12], profile[blue + 4 : blue + 12]
    profile[red + 4 : red + 12], profile[blue + 4 : blue + 12] = blue_entry, red_entry
    data = jpeg_bytes(Image.new("RGB", (32, 32), RED), icc_profile=bytes(profile))
    media = process_media("odd.jpg", "image/jpeg", data)
    r, g, b = opened(media, "full").getpixel((16, 16))
    assert b > 200 and r < 80
    assert_no_metadata(media)


def test_animated_gif_gives_a_still_of_its_first_frame():
    frames = [Image.new("RGB", (30, 30), RED), Image.new("RGB", (30, 30), BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    media = process_media("spin.gif", "image/gif", buffer.getvalue())
    assert (media.kind, media.content_type) == ("image", "image/gif")
    assert near(opened(media, "full").getpixel((15, 15)), RED)


def test_truncated_jpeg_is_offered_as_download_with_a_note():
    noise = Image.effect_noise((256, 256), 80).convert("RGB")
    data = jpeg_bytes(noise)
    media = process_media("IMG_1.JPG", "image/jpeg", data[: len(data) // 2])
    assert (media.kind, media.content_type, media.renditions) == ("document", "image/jpeg", ())
    assert media.note == "IMG_1.JPG could not be read and is offered as a download."


def test_html_declared_as_jpeg_is_a_document_never_html():
    media = process_media("photo.jpg", "image/jpeg", b"<!doctype html><html><script>alert(1)</script></html>")
    assert (media.kind, media.content_type, media.renditions) == ("document", "application/octet-stream", ())
    assert "photo.jpg" in media.note


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that claim to be a grey PNG of `width` x `height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(bytes(width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [10_000, 20_000], ids=["over-the-limit", "over-twice-the-limit"])
def test_decompression_bomb_is_offered_as_download(side):
    media = process_media("plan.png", "image/png", png_claiming(side, side))
    assert (media.kind, media.renditions) == ("document", ())
    assert media.note == "plan.png is too large to show as a picture and is offered as a download."


def test_pdf_is_a_document_without_a_note():
    media = process_media("quote.pdf", "application/octet-stream", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert media == ProcessedMedia("document", "application/pdf", None, None, (), "")


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("text/csv; charset=utf-8", "text/csv"),
        ("", "application/octet-stream"),
        ("application/pdf", "application/octet-stream"),
        ("text/html", "application/octet-stream"),
    ],
)
def test_other_documents_keep_only_a_harmless_declared_type(declared, expected):
    media = process_media("list.csv", declared, b"item,qty\nhinge,4\n")
    assert (media.kind, media.content_type, media.note) == ("document", expected, "")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif"),
        (b"\x00\x00\x00\x14ftyp3gp5\x00\x00\x00\x00", "video/3gpp"),
        (b"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01M4V M4A mp42", "video/x-m4v"),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom", None),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "video/quicktime"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"PK\x03\x04", None),
    ],
)
def test_sniffing_reads_content_not_names(head, expected):
    assert sniff_type(head + bytes(32)) == expected


# --- videos ----------------------------------------------------------------------------------------


def test_h264_mp4_is_remuxed_without_reencoding(videos, tmp_path):
    data = make_video(videos / "clip.mp4", *H264)
    media = process_media("clip.mp4", "video/mp4", data)
    assert (media.kind, media.content_type, media.width, media.height) == ("video", "video/mp4", 160, 90)
    assert [r.name for r in media.renditions] == VIDEO_RENDITIONS
    video = media.renditions[0]
    assert (video.content_type, video.width, video.height) == ("video/mp4", 160, 90)
    assert h264_stream(video.data, tmp_path) == h264_stream(data, tmp_path) != b""
    assert video.data[4:8] == b"ftyp" and video.data.index(b"moov") < video.data.index(b"mdat")


def test_iphone_style_mov_loses_its_location(videos, tmp_path):
    audio = ("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", "-shortest")
    data = make_video(videos / "IMG_0001.MOV", *audio, *H264, "-metadata", f"location={LOCATION}")
    assert LOCATION in ffmpeg_log(data, tmp_path)
    media = process_media("IMG_0001.MOV", "video/quicktime", data)
    assert (media.kind, media.content_type) == ("video", "video/quicktime")
    video = media.renditions[0].data
    log = ffmpeg_log(video, tmp_path)
    assert "location" not in log and b"51.5074" not in video and b"\xa9xyz" not in video
    assert "Video: h264" in log and "Audio: aac" in log
    assert decodes_cleanly(video, tmp_path)


def test_other_codecs_are_transcoded_to_h264_within_1280(videos, tmp_path):
    codec = ("-c:v", "mpeg4", "-metadata", f"location={LOCATION}")
    data = make_video(videos / "big.mov", *codec, size="1440x810", seconds=0.5)
    media = process_media("big.mov", "video/quicktime", data)
    assert (media.width, media.height) == (1440, 810)
    video = media.renditions[0]
    assert (video.width, video.height) == (1280, 720)
    log = ffmpeg_log(video.data, tmp_path)
    assert "Video: h264" in log and "yuv420p" in log and "1280x720" in log and "location" not in log
    assert decodes_cleanly(video.data, tmp_path)


def test_h264_that_browsers_cannot_play_is_reencoded(videos, tmp_path):
    data = make_video(videos / "full-chroma.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
    media = process_media("full-chroma.mp4", "video/mp4", data)
    log = ffmpeg_log(media.renditions[0].data, tmp_path)
    assert "Video: h264" in log and "yuv420p(" in log and "yuv444p" not in log


def test_webm_is_served_as_mp4(videos, tmp_path):
    data = make_video(videos / "clip.webm", "-c:v", "libvpx", "-deadline", "realtime")
    media = process_media("clip.webm", "video/webm", data)
    assert (media.kind, media.content_type, media.renditions[0].content_type) == ("video", "video/webm", "video/mp4")
    assert "Video: h264" in ffmpeg_log(media.renditions[0].data, tmp_path)


def test_portrait_phone_video_reports_upright_size_and_poster(videos):
    stored = make_video(videos / "stored.mp4", *H264)
    rotated = videos / "portrait.mp4"
    command = [FFMPEG, "-v", "error", "-y", "-display_rotation", "90", "-i", str(videos / "stored.mp4")]
    subprocess.run([*command, "-c", "copy", str(rotated)], check=True)
    assert rotated.read_bytes() != stored
    media = process_media("portrait.mp4", "video/mp4", rotated.read_bytes())
    assert (media.width, media.height) == (90, 160)
    assert opened(media, "poster").size == (90, 160)
    assert (media.renditions[0].width, media.renditions[0].height) == (90, 160)


def test_poster_and_thumb_are_clean_jpegs_of_the_video_aspect(videos):
    data = make_video(videos / "wide.mp4", *H264, size="960x540")
    media = process_media("wide.mp4", "video/mp4", data)
    poster, thumb = opened(media, "poster"), opened(media, "thumb")
    assert (poster.format, poster.size) == ("JPEG", (960, 540))
    assert (thumb.format, thumb.size) == ("JPEG", (480, 270))
    assert_no_metadata(media)


def test_clip_shorter_than_the_poster_moment_still_gets_a_poster(videos):
    media = process_media("blink.mp4", "video/mp4", make_video(videos / "blink.mp4", *H264, seconds=0.2))
    assert media.kind == "video" and opened(media, "poster").size == (160, 90)


def test_damaged_video_is_offered_as_download_with_a_note():
    data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40
    media = process_media("walkthrough.mp4", "video/mp4", data)
    assert (media.kind, media.content_type, media.renditions) == ("document", "video/mp4", ())
    assert media.note == "walkthrough.mp4 could not be converted to play in a browser and is offered as a download."


def test_video_that_takes_too_long_is_offered_as_download(videos, monkeypatch):
    data = make_video(videos / "slow.mp4", *H264)
    monkeypatch.setattr(feed.videos, "PROBE_TIMEOUT", 0.001)
    media = process_media("slow.mp4", "video/mp4", data)
    assert (media.kind, media.renditions) == ("document", ())
    assert "slow.mp4" in media.note


# --- the shared sample emails ----------------------------------------------------------------------


def attachments(name: str) -> list[tuple[str, str, bytes]]:
    message = email.message_from_bytes(sample(name), policy=email.policy.default)
    return [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for part in message.walk()
        if part.get_filename()
    ]


def red_centre(image: Image.Image) -> tuple[float, float]:
    """Where the red mark sits, as fractions of the width and height."""
    rgb = image.convert("RGB")
    pixels = ((x, y) for x in range(rgb.width) for y in range(rgb.height))
    points = [(x, y) for x, y in pixels if near(rgb.getpixel((x, y)), (200, 35, 35), 50)]
    assert points
    return sum(x for x, _ in points) / len(points) / rgb.width, sum(y for _, y in points) / len(points) / rgb.height


def test_sample_iphone_photos_follow_their_orientation_and_lose_gps():
    photos = attachments("01-iphone-three-photos-exif-rotated.eml")
    assert len(photos) == 3
    results = {name: process_media(name, declared, data) for name, declared, data in photos}
    assert {name: (m.width, m.height) for name, m in results.items()} == {
        "IMG_4101.JPG": (1200, 1600),
        "IMG_4102.JPG": (1600, 1200),
        "IMG_4103.JPG": (1600, 1200),
    }
    # The mark is stored above the middle; orientation 6 turns it to the right, 3 turns it under the middle.
    x, y = red_centre(opened(results["IMG_4101.JPG"], "thumb"))
    assert x > 0.55 and 0.4 < y < 0.6
    assert red_centre(opened(results["IMG_4102.JPG"], "thumb"))[1] < 0.45
    assert red_centre(opened(results["IMG_4103.JPG"], "thumb"))[1] > 0.55
    for media in results.values():
        assert media.kind == "image" and media.note == ""
        assert_no_metadata(media)


def test_sample_heic_becomes_jpeg():
    [(name, declared, data)] = attachments("02-iphone-heic-photo.eml")
    media = process_media(name, declared, data)
    assert (media.kind, media.content_type, media.width, media.height) == ("image", "image/heic", 1600, 1200)
    assert [(r.name, r.content_type) for r in media.renditions] == [(n, "image/jpeg") for n in PHOTO_RENDITIONS]
    assert_no_metadata(media)


def test_sample_iphone_mov_plays_as_mp4_with_poster(tmp_path):
    [(name, declared, data)] = attachments("06-delay-with-iphone-video.eml")
    media = process_media(name, declared, data)
    assert (media.kind, media.content_type, media.width, media.height) == ("video", "video/quicktime", 480, 270)
    video = media.renditions[0]
    assert video.content_type == "video/mp4" and decodes_cleanly(video.data, tmp_path)
    assert opened(media, "poster").size == (480, 270)


def test_sample_android_handover_shows_video_and_photos():
    results = [process_media(*part) for part in attachments("08-milestone-handover-mp4-and-photos.eml")]
    assert [(m.kind, m.content_type, m.width, m.height) for m in results] == [
        ("video", "video/mp4", 320, 240),
        ("image", "image/jpeg", 2000, 1500),
        ("image", "image/jpeg", 2000, 1500),
    ]


def test_sample_gmail_reply_gives_a_photo_and_a_downloadable_pdf():
    parts = attachments("03-gmail-reply-inline-image-and-pdf.eml")
    results = {name: process_media(name, declared, data) for name, declared, data in parts}
    assert results["worktop.jpg"].kind == "image"
    pdf = results["template-drawing.pdf"]
    assert (pdf.kind, pdf.content_type, pdf.note) == ("document", "application/pdf", "")
