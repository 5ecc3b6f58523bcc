"""compare against real publishers' rates and the recording's own video range (issue 19, 2 and 4).

* Each publisher at its own rate: test streams written by :func:`write_idstream` at 24, 25,
  30 and 60 fps, composed by FFmpeg's own filters (an ``ffmpeg-python`` graph built here:
  ``color`` canvas, ``scale``/``crop`` tiles, ``overlay`` at the scenario's regions, output
  at the canvas fps 15 or 30) compare ``match`` with an offset of at most a canvas frame, and
  each user's rate is estimated from its codes (``publisher_fps``).  A mute at 25 fps (the
  tile frozen by ``trim`` + ``tpad``) is checked against the publisher's frame number.
* The rate estimate itself on synthetic ``(time, frame)`` readings: jitter, dropped frames,
  a frozen stretch, the 4096 wrap.
* Colours by the recording's own range: a canvas ``#101010`` / ``#202020`` where the scenario
  says black differs, naming the colour; the same recording converted by FFmpeg to full
  range (``scale=out_range=full``) or compressed to limited range consistently still
  matches (the codes' black and white cells show the mix-up), and ``#101010`` still differs
  there; a colour-only recording (no codes) converted to full range matches on the evidence
  of its dark and bright still regions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.comparison.levels import range_from_code_levels
from layoutkit.comparison.rates import estimate_rate, flashes_at_rate, publisher_rates
from layoutkit.idstream import write_idstream

from .helpers import compose_first_scene, run_ffmpeg, scenario_doc

ffmpeg = pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

SID = "0123456789abcdef0123456789abcdef"
SECONDS = 4


def _doc(uids, *, fps=15, bg="#000000", events=(), size=(320, 180), sources=None) -> dict:
    # a colour user's clip sends a plain sine, not the test tone (whose beeps compare seeks)
    users = [{"uid": str(u), "source": (sources or {}).get(str(u), "testsrc"),
              **({"audio": "silence"} if str(u) in (sources or {}) else {})} for u in uids]
    tc = {"width": size[0], "height": size[1], "fps": fps, "bitrate": 500,
          "mixedVideoLayout": 1, "backgroundColor": bg}
    return scenario_doc(users, list(events), duration=SECONDS, transcoding=tc,
                        file_config={"avFileType": ["hls", "mp4"]})


def _messages(result) -> list[str]:
    return [f"{d.kind}: {d.message}" for d in result.differences]


def compose(doc: dict, clips: dict[str, Path], out: Path, *, canvas: str | None = None,
            freeze: dict[str, float] | None = None) -> Path:
    """``doc``'s first scene composed by FFmpeg's filters (:func:`helpers.compose`)."""
    return compose_first_scene(doc, clips, out, seconds=SECONDS, canvas=canvas, freeze=freeze)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """``clip(uid, fps)``: the test stream of ``uid`` at ``fps`` (written once)."""
    root = tmp_path_factory.mktemp("clips")
    made: dict[tuple[str, int], Path] = {}

    def clip(uid: str, fps: int) -> Path:
        if (uid, fps) not in made:
            path = made[(uid, fps)] = root / f"testsrc_{uid}_{fps}.mp4"
            write_idstream(path, uid=uid, duration=SECONDS, fps=fps, size_wh=(320, 180),
                          bitrate_kbps=300)
        return made[(uid, fps)]

    return clip


# --- 2. each publisher at its own rate -------------------------------------------------------
@pytest.mark.parametrize("rate", [24, 25, 30, 60])
def test_rate_estimate_on_jittered_readings_with_drops_freeze_and_wrap(rate):
    rng = np.random.default_rng(rate)
    canvas = 15
    t = np.arange(20 * canvas) / canvas + rng.uniform(-0.004, 0.004, 20 * canvas)
    frames = np.floor(t * rate + rng.integers(-1, 2, t.size) * 0.6).astype(np.int64)
    frames = frames + 4096 - 5 * rate  # the frame number wraps 5 s in
    frames[150:200] = frames[150]  # a frozen stretch (mute) of 50 readings
    keep = rng.random(t.size) > 0.3  # 30 % of the frames dropped
    assert estimate_rate(t[keep], frames[keep] % 4096) == float(rate)


def test_rate_estimate_keeps_an_uncommon_rate_and_needs_enough_readings():
    t = np.arange(90) / 30
    rate = estimate_rate(t, np.floor(t * 20).astype(np.int64))
    assert rate == pytest.approx(20, abs=0.2)
    assert estimate_rate(t[:5], np.arange(5)) is None  # too few readings
    assert estimate_rate(t, np.full(90, 7)) is None  # never advances (frozen all along)
    # the majority frozen, a short live start: still the live rate (not ~0)
    frames = np.minimum(np.floor(t * 15), 9).astype(np.int64)
    assert estimate_rate(t, frames) == 15.0
    # a recording clock 1.5 % slow keeps the common rate (its frame numbers drift: reported)
    t = np.arange(600) / 15
    assert estimate_rate(t, np.floor(t * 15 * 1.015).astype(np.int64)) == 15.0


def test_publisher_rates_per_uid_and_flash_times_at_the_publishers_rate():
    t = np.arange(60) / 15
    uids = np.array([[0, 1]] * 60, dtype=np.int32)
    frames = np.stack([np.floor(t * 25), np.floor(t * 60) - 1], axis=1).astype(np.int32)
    assert publisher_rates(t, uids, frames, ["11", "22", "33"], fps=15) == {
        "11": 25.0, "22": 60.0, "33": 15.0}
    # a 60 fps flash (frames 60, 120, ...) that the mix skipped (it shows frames 59, 63, ...,
    # each a 60th late) is dated back from frame 63: 1 s + 1/60 s
    assert flashes_at_rate(t, frames[:, 1], rate=60, fps=15)[0] == pytest.approx(
        [1 / 60, 1 + 1 / 60, 2 + 1 / 60, 3 + 1 / 60], abs=1e-9)


MIXED = {
    # canvas 15 fps: publishers at 25, 30 and 24 fps; uid 22 mutes at 2 s (its last frame
    # for the rest of the recording: 3.5 s > 2 s)
    "15": (15, {"11": 25, "22": 30, "33": 24}, {"22": 2.0}),
    # canvas 30 fps: publishers at 24, 60 and 25 fps
    "30": (30, {"11": 24, "22": 60, "33": 25}, {}),
}


@pytest.mark.parametrize("name", ["15", "30"])
def test_publishers_at_their_own_rates_composed_by_ffmpeg_align_and_match(tmp_path, clips, name):
    fps, rates, freeze = MIXED[name]
    events = [{"t": t, "uid": uid, "action": "mute_video"} for uid, t in freeze.items()]
    doc = _doc(rates, fps=fps, events=events)
    out = compose(doc, {u: clips(u, r) for u, r in rates.items()},
                  tmp_path / "rec" / f"{SID}_demo_0.mp4", freeze=freeze)
    result = lk.compare(doc, out)
    content = result.streams["content"]
    assert result.verdict == "match", _messages(result)
    assert content["alignment"] == "codes"
    assert abs(result.offset_s) <= 1 / fps
    assert content["publisher_fps"] == {u: float(r) for u, r in rates.items()}
    assert "av_offset_s" in content and abs(content["av_offset_s"]) < 0.045


@pytest.mark.slow
@pytest.mark.parametrize("fps", [15, 30])
@pytest.mark.parametrize("rate", [24, 25, 30, 60])
def test_every_common_publisher_rate_at_both_canvas_rates(tmp_path, clips, rate, fps):
    uids = ["11", "22", "33"]
    doc = _doc(uids, fps=fps)
    out = compose(doc, {u: clips(u, rate) for u in uids}, tmp_path / f"{SID}_demo_0.mp4")
    result = lk.compare(doc, out)
    assert result.verdict == "match", _messages(result)
    assert abs(result.offset_s) <= 1 / fps
    assert set(result.streams["content"]["publisher_fps"].values()) == {float(rate)}


# --- 4. colours by the recording's own range ---------------------------------------------------
@pytest.fixture(scope="module")
def black_canvas(tmp_path_factory, clips):
    """``recording(canvas)``: three 15 fps test streams composed by FFmpeg on ``canvas``."""
    root = tmp_path_factory.mktemp("canvas")
    doc = _doc(["11", "22", "33"])

    def recording(canvas: str) -> Path:
        out = root / canvas.lstrip("#") / f"{SID}_demo_0.mp4"
        if not out.exists():
            compose(doc, {u: clips(u, 15) for u in ("11", "22", "33")}, out, canvas=canvas)
        return out

    return doc, recording


def _convert(src: Path, out: Path, *args: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg("-i", str(src), *args, "-c:v", "libx264", "-preset", "veryfast", "-c:a", "copy",
         str(out))
    return out


@pytest.mark.parametrize("canvas", ["#101010", "#202020"])
def test_dark_grey_canvas_where_black_is_expected_differs_naming_the_colour(black_canvas,
                                                                           canvas):
    doc, recording = black_canvas
    result = lk.compare(doc, recording(canvas))
    assert result.verdict == "differ", _messages(result)
    (diff,) = [d for d in result.differences if d.kind == "wrong_background"]
    level = int(canvas[1:3], 16)
    assert all(abs(v - level) <= 2 for v in diff.observed), diff.message
    assert f"RGB ({diff.observed[0]}, " in diff.message and diff.expected == [0, 0, 0]
    assert "as expected (codes" in result.streams["content"]["video_range"]


@pytest.mark.parametrize("filters, mixup", [
    (["-vf", "scale=out_range=full"], "expanded"),  # re-encoded as full range, tagged so
    (["-color_range", "pc"], "expanded"),  # tagged full range: FFmpeg converts the levels
    (["-vf", "scale=in_range=full:out_range=limited"], "compressed"),
])
def test_recording_converted_to_one_range_consistently_still_matches(
        black_canvas, tmp_path, filters, mixup):
    doc, recording = black_canvas
    assert lk.compare(doc, recording("#000000")).verdict == "match"
    converted = _convert(recording("#000000"), tmp_path / "conv" / f"{SID}_demo_0.mp4",
                         *filters)
    result = lk.compare(doc, converted)
    assert result.verdict == "match", _messages(result)
    assert result.streams["content"]["video_range"].startswith(f"{mixup} (range mix-up) (codes")
    # the mix-up is the whole recording's: a grey canvas in it is still not black
    grey = _convert(recording("#101010"), tmp_path / "grey" / f"{SID}_demo_0.mp4", *filters)
    result = lk.compare(doc, grey)
    assert [d.kind for d in result.differences] == ["wrong_background"], _messages(result)
    assert all(abs(v - 16) <= 2 for v in result.differences[0].observed)


def _colour_clip(path: Path, colour: str) -> Path:
    run_ffmpeg("-f", "lavfi", "-i", f"color=c=0x{colour.lstrip('#')}:s=320x180:r=15:d={SECONDS}",
         "-f", "lavfi", "-i", f"sine=f=440:d={SECONDS}:r=48000", "-c:v", "libx264",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k", "-shortest",
         str(path))
    return path


def test_colour_only_recording_range_judged_on_dark_and_bright_regions(tmp_path):
    colours = {"11": "#FFFFFF", "22": "#F0F0F0", "33": "#E0E0E0"}
    doc = _doc(colours, sources=colours)
    sources = {u: _colour_clip(tmp_path / f"{u}.mp4", c) for u, c in colours.items()}
    clean = compose(doc, sources, tmp_path / "clean" / f"{SID}_demo_0.mp4")
    assert lk.compare(doc, clean).verdict == "match"
    full = _convert(clean, tmp_path / "full" / f"{SID}_demo_0.mp4", "-vf", "scale=out_range=full")
    result = lk.compare(doc, full)
    assert result.verdict == "match", _messages(result)
    assert result.streams["content"]["video_range"] == "expanded (range mix-up) (pictures)"
    # black alone cannot show a mix-up: a grey canvas with the users' colours right differs
    grey = compose(doc, sources, tmp_path / "grey" / f"{SID}_demo_0.mp4", canvas="#101010")
    result = lk.compare(doc, grey)
    assert result.verdict == "differ" and "wrong_background" in {
        d.kind for d in result.differences}, _messages(result)


def test_range_from_code_levels_and_pictures_need_the_whole_recording():
    counts = np.zeros((2, 256), dtype=np.int64)
    counts[0, 17], counts[1, 233] = 30, 30
    assert range_from_code_levels(counts).mixup is None
    counts[:] = 0
    counts[0, 30], counts[1, 218] = 30, 30
    assert range_from_code_levels(counts).mixup == "compressed"
    counts[:] = 0
    counts[0, 60], counts[1, 200] = 30, 30  # near no model: no mix-up accepted
    assert range_from_code_levels(counts).mixup is None
    counts[:] = 0
    counts[0, 0], counts[1, 255] = 5, 5  # too few readings: no finding from codes
    assert range_from_code_levels(counts) is None
