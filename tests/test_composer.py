"""The FFmpeg session composer (tests/composer.py) against compare, on test streams.

The composer draws the rules by hand with FFmpeg's filters; compare must find its clean
sessions matching and the faults it is told to draw differing.  This keeps the composer
honest for the tests that use it with clips that are not test streams.
"""

from __future__ import annotations

import pytest

import layoutkit as lk
from layoutkit.idstream import write_idstream

from .composer import compose_session
from .helpers import scenario_doc

TC = {"width": 640, "height": 360, "fps": 15, "bitrate": 800, "mixedVideoLayout": 1,
      "backgroundColor": "#203040"}
EVENTS = [{"t": 3, "uid": "22", "action": "mute_video"}, {"t": 8, "uid": "44", "action": "leave"}]


def _doc(events=EVENTS) -> dict:
    return scenario_doc([{"uid": u} for u in ("11", "22", "33", "44")], list(events),
                        duration=10, transcoding=TC, file_config={"avFileType": ["hls", "mp4"]})


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    out = {}
    for uid in ("11", "22", "33", "44"):
        out[uid] = folder / f"{uid}.mp4"
        write_idstream(out[uid], uid=uid, duration=10, size_wh=(320, 180), fps=15)
    return out


def test_a_composed_session_with_a_mute_and_a_leave_matches(tmp_path, clips):
    result = lk.compare(_doc(), compose_session(_doc(), clips, tmp_path / "s.mp4", seconds=10))
    assert result.verdict == "match", [d.message for d in result.differences]


def test_a_composed_last_frame_that_never_gives_way_differs(tmp_path, clips):
    drawn = compose_session(_doc(), clips, tmp_path / "s.mp4", seconds=10,
                            profile=lk.Profile(after_stop="last_frame"))
    result = lk.compare(_doc(), drawn)
    assert result.verdict == "differ"
    assert {d.uid for d in result.differences} == {"22"}, [d.message for d in result.differences]


def test_a_composed_session_without_the_leave_differs(tmp_path, clips):
    drawn = compose_session(_doc(), clips, tmp_path / "s.mp4", seconds=10,
                            timeline_doc=_doc(EVENTS[:1]))
    result = lk.compare(_doc(), drawn)
    assert result.verdict == "differ"
    assert all(d.t >= 7 for d in result.differences), [d.message for d in result.differences]
