"""Limits, value sets and tables of the cloud-recording request (composite mode).

Plain data plus :func:`recommended_bitrate`; the parser (``parse.py``) and the linter
(``lint.py``) read everything from here.  Section numbers refer to
``shared/spec/agora-composite.md``.
"""

from __future__ import annotations

from bisect import bisect_left

from ..enums import LayoutMode, RenderMode

__all__ = [
    "ACQUIRE_REGIONS",
    "ALLOWED_FPS",
    "AUDIO_PROFILES",
    "AV_FILE_TYPES",
    "CHANNEL_TYPES",
    "CNAME_CHARS",
    "CNAME_CHARS_TEXT",
    "CNAME_MAX_BYTES",
    "CUSTOM_LAYOUT",
    "DECRYPTION_MODES",
    "DEFAULT_BITRATE",
    "DEFAULT_FPS",
    "DEFAULT_HEIGHT",
    "DEFAULT_MAX_IDLE_TIME",
    "DEFAULT_RESOURCE_EXPIRED_HOUR",
    "DEFAULT_WIDTH",
    "FRACTION_DECIMALS",
    "IMAGE_EXTENSIONS",
    "IMAGE_SCHEMES",
    "LAYOUT_MODES",
    "LEGACY_VENDORS",
    "LIVE_CHANNEL",
    "MAX_AREA",
    "MAX_AREA_TEXT",
    "MAX_BITRATE",
    "MAX_IDLE_TIME",
    "MAX_REGIONS",
    "MAX_SIDE",
    "MAX_UID",
    "MAX_UID_LIST",
    "PREFIX_MAX_CHARS",
    "RECOMMENDED_BITRATE",
    "RENDER_MODES",
    "RESOURCE_EXPIRED_HOUR",
    "S3_COMPATIBLE_VENDOR",
    "S3_VENDOR",
    "SALT_BYTES",
    "SALT_DECRYPTION_MODES",
    "SCENES",
    "SSE_VALUES",
    "STREAM_TYPES",
    "STREAM_TYPES_WITH_AUDIO",
    "STREAM_TYPES_WITH_VIDEO",
    "SUBSCRIBE_UID_GROUPS",
    "VENDORS",
    "VERTICAL_LAYOUT",
    "VIDEO_STREAM_TYPES",
    "fps_factor",
    "recommended_bitrate",
]

# --- transcodingConfig (docs/cloud.md#cloud-transcoding) ------------------------------------------
ALLOWED_FPS: frozenset[int] = frozenset({1, 7, 10, 15, 24, 30, 60})
DEFAULT_FPS = 15
DEFAULT_WIDTH = 360
DEFAULT_HEIGHT = 640
DEFAULT_BITRATE = 500
MAX_BITRATE = 6500
MAX_SIDE = 1920
MAX_AREA = 1920 * 1080
MAX_AREA_TEXT = "1920x1080"

LAYOUT_MODES: tuple[int, ...] = tuple(LayoutMode)
VERTICAL_LAYOUT = LayoutMode.VERTICAL
CUSTOM_LAYOUT = LayoutMode.CUSTOM

# --- layoutConfig / backgroundConfig (docs/cloud.md#cloud-layout-custom, #cloud-transcoding) ------
MAX_REGIONS = 17
FRACTION_DECIMALS = 6
RENDER_MODES: tuple[int, ...] = tuple(RenderMode)

# --- uids and channel names (docs/cloud.md#cloud-endpoints) ---------------------------------------
MAX_UID = 2**32 - 1
MAX_UID_LIST = 32
CNAME_CHARS_TEXT = "a-z A-Z 0-9, space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,"
CNAME_CHARS: frozenset[str] = frozenset(
    "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789 "
    "!#$%&()+-:;<=.>?@[]^_{}|~,"
)
CNAME_MAX_BYTES = 63  # "< 64 bytes"

# --- recordingConfig (docs/cloud.md#cloud-recording-config) ---------------------------------------
CHANNEL_TYPES: tuple[int, ...] = (0, 1)
LIVE_CHANNEL = 1
STREAM_TYPES: tuple[int, ...] = (0, 1, 2)
STREAM_TYPES_WITH_AUDIO: tuple[int, ...] = (0, 2)
STREAM_TYPES_WITH_VIDEO: tuple[int, ...] = (1, 2)
DECRYPTION_MODES: tuple[int, ...] = tuple(range(9))
SALT_DECRYPTION_MODES: tuple[int, ...] = (7, 8)
SALT_BYTES = 32
MAX_IDLE_TIME: tuple[int, int] = (5, 2_592_000)
DEFAULT_MAX_IDLE_TIME = 30
AUDIO_PROFILES: tuple[int, ...] = (0, 1, 2)
VIDEO_STREAM_TYPES: tuple[int, ...] = (0, 1)  # videoStreamType: 0 high, 1 low stream
SUBSCRIBE_UID_GROUPS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)

# --- recordingFileConfig (docs/cloud.md#cloud-segments) -------------------------------------------
AV_FILE_TYPES: tuple[str, ...] = ("hls", "mp4")

# --- storageConfig (docs/cloud.md#cloud-storage) --------------------------------------------------
VENDORS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 11)
LEGACY_VENDORS: dict[int, str] = {0: "Qiniu", 4: "Kingsoft"}
S3_VENDOR = 1
S3_COMPATIBLE_VENDOR = 11
SSE_VALUES: tuple[str, ...] = ("kms", "aes256")
PREFIX_MAX_CHARS = 128

# --- acquire (docs/cloud.md#cloud-endpoints) ------------------------------------------------------
SCENES: tuple[int, ...] = (0, 1, 2)
RESOURCE_EXPIRED_HOUR: tuple[int, int] = (1, 720)
DEFAULT_RESOURCE_EXPIRED_HOUR = 72
ACQUIRE_REGIONS: tuple[str, ...] = ("CN", "AP", "EU", "NA")

# --- images (docs/cloud.md#cloud-transcoding, #cloud-backgrounds) ---------------------------------
IMAGE_SCHEMES: tuple[str, ...] = ("http", "https", "file")
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".bmp")

# --- recommended bitrate (docs/cloud.md#cloud-transcoding) ---------------------------------------
# (width, height, fps) -> communication base, Kbps
RECOMMENDED_BITRATE: dict[tuple[int, int, int], int] = {
    (160, 120, 15): 65,
    (120, 120, 15): 50,
    (320, 180, 15): 140,
    (180, 180, 15): 100,
    (240, 180, 15): 120,
    (320, 240, 15): 200,
    (240, 240, 15): 140,
    (424, 240, 15): 220,
    (640, 360, 15): 400,
    (360, 360, 15): 260,
    (640, 360, 30): 600,
    (360, 360, 30): 400,
    (480, 360, 15): 320,
    (480, 360, 30): 490,
    (640, 480, 15): 500,
    (480, 480, 15): 400,
    (640, 480, 30): 750,
    (480, 480, 30): 600,
    (848, 480, 15): 610,
    (848, 480, 30): 930,
    (640, 480, 10): 400,
    (1280, 720, 15): 1130,
    (1280, 720, 30): 1710,
    (960, 720, 15): 910,
    (960, 720, 30): 1380,
    (1920, 1080, 15): 2080,
    (1920, 1080, 30): 3150,
    (1920, 1080, 60): 4780,
}

# The manual's fps rule: x0.5 at 5 fps, x1 at 15 fps, x1.5 at 30 fps, linear in between
# (and continued linearly beyond both ends, never below 0.1).
_FPS_POINTS: tuple[tuple[float, float], ...] = ((5.0, 0.5), (15.0, 1.0), (30.0, 1.5))


def _base_15fps_by_area() -> tuple[list[int], list[float]]:
    by_area: dict[int, list[int]] = {}
    for (w, h, fps), kbps in RECOMMENDED_BITRATE.items():
        if fps == 15:
            by_area.setdefault(w * h, []).append(kbps)
    areas = sorted(by_area)
    return areas, [sum(by_area[a]) / len(by_area[a]) for a in areas]


_AREAS, _BASES = _base_15fps_by_area()


def fps_factor(fps: float) -> float:
    """Bitrate multiplier for ``fps`` relative to 15 fps (the manual's scaling rule).

    Parameters
    ----------
    fps : float
        Frame rate.

    Returns
    -------
    float
        0.5 at 5 fps, 1.0 at 15 fps, 1.5 at 30 fps, linearly interpolated and
        extrapolated, at least 0.1.
    """
    points = _FPS_POINTS
    if fps <= points[1][0]:
        (x0, y0), (x1, y1) = points[0], points[1]
    else:
        (x0, y0), (x1, y1) = points[1], points[2]
    return max(0.1, y0 + (fps - x0) * (y1 - y0) / (x1 - x0))


def _base_for_area(area: int) -> float:
    i = bisect_left(_AREAS, area)
    if i < len(_AREAS) and _AREAS[i] == area:
        return _BASES[i]
    if i == 0:
        return _BASES[0] * area / _AREAS[0]
    if i == len(_AREAS):
        return _BASES[-1] * area / _AREAS[-1]
    a0, a1, b0, b1 = _AREAS[i - 1], _AREAS[i], _BASES[i - 1], _BASES[i]
    return b0 + (area - a0) * (b1 - b0) / (a1 - a0)


def recommended_bitrate(width: int, height: int, fps: int, *, live: bool = False) -> int:
    """Recommended encoder bitrate in Kbps for a canvas (docs/cloud.md#cloud-transcoding).

    An exact ``(width, height, fps)`` row of the table (either orientation) is used as
    is.  Otherwise the 15-fps base is interpolated linearly by area between the table's sizes
    (proportionally below the smallest and above the largest) and scaled with
    :func:`fps_factor`.

    Parameters
    ----------
    width, height : int
        Canvas size in pixels.
    fps : int
        Frame rate.
    live : bool, optional
        Live-broadcast channel: twice the communication base, capped at
        :data:`MAX_BITRATE`.

    Returns
    -------
    int
        Bitrate in Kbps, at least 1.
    """
    table = RECOMMENDED_BITRATE
    exact = table.get((width, height, fps), table.get((height, width, fps)))
    base = float(exact) if exact is not None else _base_for_area(width * height) * fps_factor(fps)
    if live:
        base = min(2 * base, MAX_BITRATE)
    return max(1, round(base))
