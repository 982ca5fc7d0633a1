"""Videos made safe to serve: an H.264 MP4 without metadata, a poster frame and its thumbnail."""

from __future__ import annotations

import functools
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from feed.images import POSTER_SIZES, RenditionData, UnreadableImage, render_image

VIDEO = "video"
MP4 = "video/mp4"

MAX_EDGE = 1280
POSTER_AT = 0.5  # seconds in: the first frame of a phone video is often dark or blurred
PROBE_TIMEOUT = 60  # seconds
CONVERT_TIMEOUT = 600  # seconds; a few minutes of phone video at "veryfast" on a small worker

# Browsers play H.264 only as 8-bit 4:2:0; High 10 or 4:4:4 streams must be re-encoded.
PLAYABLE_PIXEL_FORMATS = {"yuv420p", "yuvj420p"}
STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Video|Audio): (\S+?),? (.*)$")


class UnplayableVideo(Exception):
    """ffmpeg could not read the video, or could not make an MP4 of it in time."""


@dataclass(frozen=True)
class RenderedVideo:
    width: int
    height: int
    renditions: tuple[RenditionData, ...]


@dataclass(frozen=True)
class Streams:
    video_codec: str
    pixel_format: str
    audio_codec: str | None

    @property
    def video_plays(self) -> bool:
        return self.video_codec == "h264" and self.pixel_format in PLAYABLE_PIXEL_FORMATS

    @property
    def audio_plays(self) -> bool:
        return self.audio_codec in (None, "aac")


def render_video(data: bytes, demuxer: str) -> RenderedVideo:
    """Read `data` with the `demuxer` only; return a browser-playable MP4, a poster and a thumbnail."""
    with tempfile.TemporaryDirectory(prefix="workfeed-video-") as folder:
        source = Path(folder) / "source"
        source.write_bytes(data)
        streams, frame = _grab_poster(source, demuxer)
        try:
            poster = render_image(frame, "PPM", POSTER_SIZES)
        except UnreadableImage as error:
            raise UnplayableVideo(f"poster frame: {error}") from error
        # The poster frame is upright and square-pixelled, so its size is the display size.
        width, height = poster.width, poster.height
        target = Path(folder) / "video.mp4"
        size = (width, height) if streams.video_plays else _even_fit(width, height, MAX_EDGE)
        _run([*_input(source, demuxer), *_convert_args(streams, size), "-f", "mp4", str(target)], CONVERT_TIMEOUT)
        video = target.read_bytes() if target.is_file() else b""
        if not video:
            raise UnplayableVideo("ffmpeg wrote no video")
    return RenderedVideo(width, height, (RenditionData(VIDEO, MP4, video, *size), *poster.renditions))


def _grab_poster(source: Path, demuxer: str) -> tuple[Streams, bytes]:
    """Read the stream list and one upright frame (as PPM) in a single ffmpeg run."""
    # Decoding a frame is also the check that the video is readable at all.
    for seconds in (POSTER_AT, 0):
        command = [
            *_input(source, demuxer, seconds, loglevel="info"),
            *("-map", "0:V:0", "-frames:v", "1", "-an", "-sn", "-dn"),
            *("-vf", "scale=round(iw*sar):ih,setsar=1", "-c:v", "ppm", "-f", "image2pipe", "-"),
        ]
        completed = _run(command, PROBE_TIMEOUT)
        if completed.stdout:
            return _streams(completed.stderr.decode("utf-8", "replace")), completed.stdout
    raise UnplayableVideo("no frame could be decoded")


def _streams(ffmpeg_log: str) -> Streams:
    video = audio = None
    for line in ffmpeg_log.splitlines():
        if line.startswith("Output #"):
            break
        match = STREAM.match(line)
        if not match:
            continue
        kind, codec, rest = match.groups()
        if kind == "Video" and video is None and "(attached pic)" not in rest:
            # Past the codec's bracketed profile and tag, the first word is the pixel format.
            described = re.sub(r"^(?:\([^)]*\)\s*)+,\s*", "", rest)
            video = (codec, re.match(r"\w*", described).group())
        elif kind == "Audio" and audio is None:
            audio = codec
    if video is None:
        raise UnplayableVideo("no video stream")
    return Streams(video[0], video[1], audio)


def _input(source: Path, demuxer: str, seconds: float = 0, loglevel: str = "error") -> list[str]:
    seek = ["-ss", f"{seconds:g}"] if seconds else []
    # A forced demuxer and file-only protocols: nothing in the upload can make ffmpeg open anything else.
    return [
        _ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", loglevel,
        "-protocol_whitelist", "file", *seek, "-f", demuxer, "-i", str(source),
    ]  # fmt: skip


def _convert_args(streams: Streams, size: tuple[int, int]) -> list[str]:
    arguments = ["-map", "0:V:0", "-map", "0:a:0?", "-map_metadata", "-1", "-map_chapters", "-1"]
    if streams.video_plays:
        arguments += ["-c:v", "copy"]
    else:
        width, height = size
        arguments += [
            *("-vf", f"scale={width}:{height},setsar=1", "-pix_fmt", "yuv420p"),
            *("-c:v", "libx264", "-preset", "veryfast", "-crf", "23"),
        ]
    arguments += ["-c:a", "copy"] if streams.audio_plays else ["-c:a", "aac", "-b:a", "128k"]
    return [*arguments, "-movflags", "+faststart"]


def _even_fit(width: int, height: int, edge: int) -> tuple[int, int]:
    scale = min(1.0, edge / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise UnplayableVideo(f"ffmpeg took longer than {timeout} s") from error
    except OSError as error:
        raise UnplayableVideo(f"ffmpeg could not start: {error}") from error
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnplayableVideo(f"ffmpeg failed: {lines[-1] if lines else completed.returncode}")
    return completed


@functools.cache
def _ffmpeg() -> str:
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as error:
        raise UnplayableVideo(f"no ffmpeg: {error}") from error
