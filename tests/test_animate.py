"""Scenario previews: --at PNG, animated GIF and MP4 with the timeline strip."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from layoutkit.animate import (
    LabelBox,
    crossings,
    layout_strip,
    place_labels,
    readable_events,
    strip_events,
    timeline_strip,
)
from layoutkit.cli import main
from layoutkit.demo import samples_dir
from tests.helpers import scenario_doc

SCENARIO = str(samples_dir() / "scenario-demo.json")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_preview_at_writes_the_exact_frame(in_tmp):
    code, out, err = _run("preview", SCENARIO, "--at", "10.5", "-o", "f.png")
    assert code == 0, err
    assert "2002 last_frame" in out and "3003 canvas_background" in out
    image = np.asarray(Image.open(in_tmp / "f.png").convert("RGB"))
    assert image.shape == (360, 640, 3)
    # 3003 (web3, muted at 6 s) shows the canvas background #1E2A38 in the 3rd cell
    assert np.abs(image[270, 160].astype(int) - (30, 42, 56)).max() <= 3


@pytest.mark.slow  # the 24 s sample scenario, whole
def test_preview_mp4_and_gif(in_tmp):
    code, _out, err = _run("preview", SCENARIO, "--mp4", "-o", "p.mp4")
    assert code == 0, err
    with av.open(str(in_tmp / "p.mp4")) as c:
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
    assert stream.codec_context.name == "h264"
    assert len(frames) == 24 * 15
    assert (frames[0].width, frames[0].height) == (640, 360 + 80)  # canvas + strip
    code, _out, err = _run("preview", SCENARIO, "--gif", "-o", "p.gif")
    assert code == 0, err
    with Image.open(in_tmp / "p.gif") as gif:
        assert gif.n_frames == 24 * 10
        assert gif.size == (480, 270 + 80)


def test_scenario_preview_usage_errors(in_tmp):
    code, _, err = _run("preview", SCENARIO, "-o", "x.png")
    assert code == 2 and "needs --at SECONDS" in err
    code, _, err = _run("preview", SCENARIO, "--at", "99")
    assert code == 2 and "outside the recording" in err
    code, _, err = _run("preview", str(samples_dir() / "start-vertical.json"), "--at", "1")
    assert code == 2 and "take a scenario file" in err
    assert not list(in_tmp.iterdir())


# --- designer readability: no flash, strip labels, cues -------------------------------------




def _white_frames(path) -> list[int]:
    """Indexes of GIF frames whose canvas (above the strip) is mostly white."""
    found = []
    with Image.open(path) as gif:
        for i in range(gif.n_frames):
            gif.seek(i)
            rgb = np.asarray(gif.convert("RGB"))[:180]
            if ((rgb > 225).all(axis=-1)).mean() > 0.5:
                found.append(i)
    return found


def test_gif_has_no_flash_by_default_and_keeps_it_on_request(in_tmp):
    import json

    doc = scenario_doc([{"uid": "1"}, {"uid": "2"}], [], duration=2,
                       transcoding={"width": 320, "height": 180, "mixedVideoLayout": 1})
    (in_tmp / "s.json").write_text(json.dumps(doc))
    code, _, err = _run("preview", "s.json", "--gif", "-o", "calm.gif")
    assert code == 0, err
    assert _white_frames(in_tmp / "calm.gif") == []
    code, _, err = _run("preview", "s.json", "--gif", "--keep-flash", "-o", "flash.gif")
    assert code == 0, err
    assert _white_frames(in_tmp / "flash.gif") == [0, 10]  # t = 0 s and 1 s at 10 fps
    # the recorder's frames (rendered_frame) keep the flash: compare relies on it
    import layoutkit as lk

    assert (lk.frame_at(doc, 1.0) > 225).all(axis=-1).mean() > 0.5


def _violations(boxes: list[LabelBox], gap: float = 3.0) -> list[str]:
    """Check the strip rules independently; return the violations found."""
    bad = []
    for i, a in enumerate(boxes):
        if not (abs(a.x0 - (a.marker_x + gap)) < 1e-6 or abs(a.x1 - (a.marker_x - gap)) < 1e-6):
            bad.append(f"label {i} is not next to its own marker")
        for j, b in enumerate(boxes):
            if i == j:
                continue
            if a.row == b.row and a.x0 < b.x1 and b.x0 < a.x1:
                bad.append(f"labels {i} and {j} overlap")
            if b.row > a.row and a.x0 <= b.marker_x <= a.x1:
                bad.append(f"marker {j} crosses label {i}")
            if a.row == b.row and a.x0 <= b.marker_x <= a.x1:
                bad.append(f"marker {j} touches label {i}")
    return bad


@pytest.mark.parametrize("width", [320, 360, 480, 640, 1280])
def test_strip_labels_of_the_demo_never_cross(width):
    scenario = lk_scenario()
    duration = Fraction(24)
    events = readable_events(scenario, width, duration=duration)
    layout = layout_strip(width, duration=duration, events=events)
    for half in (0, 1):
        boxes = [b for b, h in zip(layout.boxes, layout.halves, strict=True) if h == half]
        assert _violations(boxes) == []
        assert all(b.x0 >= 0 and b.x1 <= width for b in boxes)
    # every label carries its own time: a 21 s event never reads as 16 s
    assert [label.split(" ", 1)[0].rstrip("s") for _, label in events] == [
        "4", "6", "8", "12", "14", "16", "19", "21"]
    assert layout.upper_rows + layout.lower_rows <= 5


def lk_scenario():
    import layoutkit as lk

    return lk.load_scenario(SCENARIO)


def test_place_labels_random_sets_never_cross():
    rng = np.random.default_rng(11)
    unsolved = 0
    for k in range(400):
        n = int(rng.integers(1, 9))
        xs = np.sort(rng.uniform(8, 472, n))
        markers = [(float(x), float(rng.uniform(20, 120))) for x in xs]
        if k % 2:  # every label fits right of its marker: a crossing-free placement exists
            markers = [(x, min(w, 475 - x)) for x, w in markers]
        boxes = place_labels(markers, width=478)
        assert (crossings(boxes) == []) == (_violations(boxes) == []), markers
        if k % 2:
            assert _violations(boxes) == [], markers
        unsolved += bool(_violations(boxes))
    assert unsolved < 40  # dense mixed sets may have no crossing-free placement


def test_strip_labels_are_at_least_11_px_tall():
    events = [(Fraction(5), "5s 1001 leave")]
    strip = timeline_strip(480, duration=Fraction(10), events=events, t=Fraction(0))
    layout = layout_strip(480, duration=Fraction(10), events=events)
    box = layout.boxes[0]
    text = strip[:, int(box.x0) + 1:int(box.x1)]
    rows = np.nonzero((np.abs(text.astype(int) - (160, 160, 172)).max(axis=-1) < 40).any(axis=1))[0]
    assert rows.max() - rows.min() + 1 >= 9  # cap height + descender of 11 px type
    assert strip.shape == (layout.height, 480, 3)


def test_strip_events_share_a_label_per_time():
    doc = scenario_doc([{"uid": "1"}, {"uid": "2"}],
                       [{"t": 3, "uid": "1", "action": "leave"},
                        {"t": 3, "uid": "2", "action": "mute_video"}], duration=5)
    import layoutkit as lk

    assert strip_events(lk.load_scenario(doc)) == [(Fraction(3), "3s 1 leave, 2 mute_video")]
    assert strip_events(lk.load_scenario(doc), short=True) == [(Fraction(3), "3s 1 leave, 2 mute")]


def test_gif_cue_after_a_leave_and_labels_on_still_tiles(in_tmp):
    import json

    grey = "#C0C0C0"
    doc = scenario_doc([{"uid": "1", "source": grey}, {"uid": "2", "source": grey},
                        {"uid": "3", "source": grey}],
                       [{"t": 0.5, "uid": "2", "action": "mute_video"},
                        {"t": 1.5, "uid": "3", "action": "leave"}], duration=3,
                       transcoding={"width": 640, "height": 360, "mixedVideoLayout": 1,
                                    "backgroundColor": "#808080"})
    (in_tmp / "s.json").write_text(json.dumps(doc))
    code, _, err = _run("preview", "s.json", "--gif", "-o", "p.gif")
    assert code == 0, err
    with Image.open(in_tmp / "p.gif") as gif:
        def frame(i):
            gif.seek(i)
            return np.asarray(gif.convert("RGB"))[:270].astype(int)
        before, cue, after = frame(14), frame(16), frame(27)
    # the cue (a dark caption box in the middle of the canvas) shows for 1 s after 1.5 s
    middle = (slice(125, 145), slice(200, 280))
    dark = [(f[middle] < 60).all(axis=-1).mean() for f in (before, cue, after)]
    assert dark[0] < 0.05 and dark[1] > 0.3 and dark[2] < 0.05, dark
    # from 0.5 s 2 shows its last frame (grey, like the live tiles): a "2 last_frame"
    # label (a dark box with white text) names it; the live tile 1 has none
    labelled, live = before[2:22, 242:330], before[2:22, 2:90]
    assert (labelled < 40).all(axis=-1).mean() > 0.3 and (labelled > 220).all(axis=-1).any()
    assert (np.abs(live - 192) < 8).all()


def test_a_long_merged_label_is_shortened_not_cut():
    import layoutkit as lk

    doc = scenario_doc([{"uid": str(u)} for u in (1001, 2002, 3003, 4004)],
                       [{"t": 1, "uid": u, "action": a} for u, a in (
                           ("1001", "mute_video"), ("2002", "mute_video"),
                           ("3003", "unpublish_video"), ("4004", "mute_video"))], duration=6)
    events = readable_events(lk.load_scenario(doc), 480, duration=Fraction(6))
    assert events == [(Fraction(1), "1s 1001 mute, 2002 mute, 3003 unpub, 4004 mute")]
    box = layout_strip(480, duration=Fraction(6), events=events).boxes[0]
    from layoutkit.signals.testcard import label_font

    assert box.x1 - box.x0 >= label_font(11).getlength(events[0][1]) - 0.5
