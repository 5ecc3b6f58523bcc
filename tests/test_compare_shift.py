"""Issue 19, item 3: never blind in silence.

* A whole layout shifted by 4, 8, 16 or 32 px (test streams composed by FFmpeg's own
  filters at 640x360, the composite moved by FFmpeg ``pad`` + ``crop``) differs with
  ``wrong_layout`` naming the offset in pixels (within 2 px); the unshifted recording
  matches.  Before, every one of them matched: from 8 px no code was read at all and compare
  fell back to colours in silence.
* Codes made unreadable (a heavy ``gblur`` over the whole picture) give an
  ``unreadable_codes`` difference, not a match.
* The search itself on synthetic arrays: a code painted displaced is found at its offset,
  one beyond the reach or absent is not.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

import layoutkit as lk
from layoutkit.comparison.codereader import CodeSpot
from layoutkit.comparison.displacement import REACH, Shift, describe_shift, find_code, spiral
from layoutkit.comparison.model import KIND_CATEGORY
from layoutkit.signals.idcode import draw_code
from layoutkit.idstream import write_idstream

from .helpers import compose_first_scene, scenario_doc

ffmpeg = pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

SID = "0123456789abcdef0123456789abcdef"
SECONDS = 3
UIDS = {2: ["11", "22"], 3: ["11", "22", "33"], 4: ["11", "22", "33", "44"]}


def _doc(uids) -> dict:
    tc = {"width": 640, "height": 360, "fps": 15, "bitrate": 800, "mixedVideoLayout": 1,
          "backgroundColor": "#000000"}
    return scenario_doc([{"uid": u, "source": "testsrc"} for u in uids], [], duration=SECONDS,
                        transcoding=tc, file_config={"avFileType": ["hls", "mp4"]})


def _messages(result) -> list[str]:
    return [f"{d.kind}: {d.message}" for d in result.differences]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Return ``recording(n_users, vf)``, which composes and filters test streams once.

    ``n_users`` test streams composed by FFmpeg at 640x360, then passed through the FFmpeg
    filter ``vf`` (None: as composed).
    """
    root = tmp_path_factory.mktemp("shift")
    clips = {}
    for u in UIDS[4]:
        clips[u] = root / f"testsrc_{u}.mp4"
        write_idstream(clips[u], uid=u, duration=SECONDS, fps=15, size_wh=(320, 180),
                      bitrate_kbps=300)
    made: dict[tuple[int, str | None], Path] = {}

    def recording(n: int, vf: str | None = None) -> tuple[dict, Path]:
        doc = _doc(UIDS[n])
        key = (n, vf)
        if key not in made:
            base = root / f"n{n}" / f"{SID}_demo_0.mp4"
            if not base.exists():
                compose_first_scene(doc, {u: clips[u] for u in UIDS[n]}, base, seconds=SECONDS)
            if vf is None:
                made[key] = base
            else:
                out = root / f"n{n}_{len(made)}" / f"{SID}_demo_0.mp4"
                out.parent.mkdir()
                subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i",
                                str(base), "-vf", vf, "-c:v", "libx264", "-preset",
                                "veryfast", "-c:a", "copy", str(out)], check=True)
                made[key] = out
        return doc, made[key]

    return recording


def _shift_filter(dx: int, dy: int) -> str:
    """Return the FFmpeg filter moving the picture ``dx`` px right and ``dy`` px down.

    The filter is ``pad`` then ``crop``; the canvas colour, black, comes in at the edges.
    """
    return (f"pad=w=iw+{abs(dx)}:h=ih+{abs(dy)}:x={max(dx, 0)}:y={max(dy, 0)}:color=black,"
            f"crop=640:360:{max(-dx, 0)}:{max(-dy, 0)}")


def _offset(result) -> tuple[int, int]:
    (diff,) = [d for d in result.differences if d.kind == "wrong_layout"]
    match = re.search(r"layout shifted by \(([+-]\d+), ([+-]\d+)\) px: uid \d+'s code found",
                      diff.message)
    assert match, diff.message
    assert diff.observed == [int(match[1]), int(match[2])] and diff.expected == [0, 0]
    return int(match[1]), int(match[2])


@pytest.mark.parametrize("n", [2, 3, 4])
def test_unshifted_recording_composed_by_ffmpeg_matches(recordings, n):
    result = lk.compare(*recordings(n))
    assert result.verdict == "match", _messages(result)
    assert result.streams["content"]["alignment"] == "codes"


@pytest.mark.parametrize("n, dx, dy", [
    (3, 4, 0), (3, 8, 0), (3, 16, 0), (3, 32, 0),
    (2, 0, 4), (4, -8, 16), (2, -32, 0), (4, 0, -8),
])
def test_shifted_layout_differs_naming_the_offset_in_pixels(recordings, n, dx, dy):
    result = lk.compare(*recordings(n, _shift_filter(dx, dy)))
    assert result.verdict == "differ", _messages(result)
    got = _offset(result)
    assert abs(got[0] - dx) <= 2 and abs(got[1] - dy) <= 2, (got, _messages(result))


def test_codes_made_unreadable_by_a_heavy_blur_are_a_difference_not_a_match(recordings):
    result = lk.compare(*recordings(3, "gblur=sigma=12"))
    assert result.verdict == "differ", _messages(result)
    (diff,) = [d for d in result.differences if d.kind == "unreadable_codes"]
    assert diff.category == "content" and KIND_CATEGORY["unreadable_codes"] == "content"
    assert "uid 11, 22, 33" in diff.message and diff.observed == 0 and diff.expected > 0
    assert f"within {REACH} px" in diff.message
    assert result.streams["content"]["codes_read"] == 0


# --- the search on synthetic arrays ----------------------------------------------------------
def _canvas_with_code(dx: int, dy: int, uid: str = "22") -> np.ndarray:
    """Draw a 640x360 luma plane holding uid's test-stream picture, moved by ``(dx, dy)``.

    The 320x180 picture (code drawn) is in the region ``(320, 0, 320, 180)`` moved by
    ``(dx, dy)``.
    """
    rgb = np.full((180, 320, 3), 90, np.uint8)
    draw_code(rgb, uid, 7)
    tile = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    canvas = np.full((360, 640), 40, np.uint8)
    x0, y0 = 320 + dx, dy
    xs, ys = max(x0, 0), max(y0, 0)
    xe, ye = min(x0 + 320, 640), min(y0 + 180, 360)
    canvas[ys:ye, xs:xe] = tile[ys - y0:ye - y0, xs - x0:xe - x0]
    return canvas


SPOT = CodeSpot((320, 180), (320, 0, 320, 180), 1, (640, 360))


@pytest.mark.parametrize("dx, dy", [(0, 0), (4, 0), (-6, 10), (-20, 33), (45, 40)])
def test_find_code_finds_a_displaced_code_at_its_offset(dx, dy):
    found = find_code(SPOT, _canvas_with_code(dx, dy), "22")
    assert found is not None
    assert abs(found[0] - dx) <= 1 and abs(found[1] - dy) <= 1, found


def test_find_code_finds_nothing_beyond_the_reach_or_for_another_uid():
    assert find_code(SPOT, _canvas_with_code(-REACH - 12, 0), "22") is None
    assert find_code(SPOT, _canvas_with_code(8, 0), "33") is None
    assert find_code(SPOT, np.full((360, 640), 40, np.uint8), "22") is None


def test_search_grid_and_words():
    offsets = spiral(REACH, 4)
    assert len(offsets) == 25 * 25 - 1 and offsets[0] in {(-4, 0), (0, -4), (0, 4), (4, 0)}
    assert describe_shift(Shift("11", 8.2, -0.4)) == "uid 11's code found 8 px right of its region"
    assert describe_shift(Shift("11", 0, -16)) == "uid 11's code found 16 px above its region"
