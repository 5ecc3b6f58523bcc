"""Issue 19, items 9 and 3: render modes, tile edges against the canvas, codes re-read.

Every recording here is composed by FFmpeg's own filters (an ffmpeg-python graph built in
:func:`_compose`: ``scale`` + ``pad`` for fit, ``scale`` + ``crop`` for crop, ``overlay`` on a
``color`` source or a background image), at 640x360 for a few seconds:

* **render mode** -- a custom-layout (``mixedVideoLayout`` 3) user drawn cropped where its
  region asks fit (or the reverse) is one ``wrong_render_mode`` difference (category
  ``content``) per user, for test streams (their codes read through the other mode's cells)
  and for video files (the fit bars); not "an unrecognised picture" or a run swarm.
* **tile edges** -- tiles shifted 4+ px over the canvas are found without any test-stream
  code (users are video files): ``wrong_layout`` with the offset in pixels; clean 2/3/4-user
  recordings (also over a background image) match.
* **codes re-read** -- after a shift found by the codes, the codes are read again at the
  shifted place, so a user also missing is named (``missing_user``) beside ``wrong_layout``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.comparison.edges import MIN_EVIDENCE, expected_mask, mask_offset
from layoutkit.comparison.expect import Period, RegionExpect
from layoutkit.comparison.model import KIND_CATEGORY
from layoutkit.comparison.rendermode import drawn_mode
from layoutkit.comparison.reread import move_plane, moved_frames
from layoutkit.io.frames import DecodedFrame
from layoutkit.idstream import write_idstream
from layoutkit.timeline import Timeline

from .helpers import encode_composite, lavfi_clip, scenario_doc

ffmpeg = pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

SID = "0123456789abcdef0123456789abcdef"
SECONDS = 4
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _lavfi_clip(path: Path, source: str, **options: float) -> Path:
    return lavfi_clip(path, source, seconds=SECONDS, **options)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Uid -> a 320x180 clip: test streams for 11..44, lavfi pictures for 51..54."""
    root = tmp_path_factory.mktemp("renderclips")
    out = {}
    for uid in ("11", "22", "33", "44"):
        out[uid] = root / f"testsrc_{uid}.mp4"
        write_idstream(out[uid], uid=uid, duration=SECONDS, fps=15, size_wh=(320, 180),
                      bitrate_kbps=300)
    for uid, source in (("51", "testsrc2"), ("52", "mandelbrot"), ("53", "smptebars"),
                        ("54", "rgbtestsrc")):
        out[uid] = _lavfi_clip(root / f"clip_{uid}.mp4", source)
    return out


def _compose(doc: dict, clips: dict[str, Path], out: Path, *,
             modes: dict[str, int] | None = None, shift: tuple[int, int] = (0, 0),
             omit: tuple[str, ...] = (), freeze: dict[str, float] | None = None) -> Path:
    """``doc``'s first scene composed by FFmpeg's filters (no layoutkit drawing).

    Each region's user scaled and cropped (render mode 0) or scaled and padded with black
    (1; ``modes`` overrides a user's), overlaid ``shift`` px away from its region on the
    canvas colour (or the ``backgroundImage``, scaled to cover); ``omit``: users not drawn;
    ``freeze``: uid -> time from which its tile shows its last frame (``trim`` + ``tpad``, read
    from its own input: a trimmed video sharing its demuxer with amix's audio can stall).
    """
    scenario = lk.load_scenario(doc, base_dir=SAMPLES)
    tc = scenario.start.transcoding
    w0, h0 = tc.width, tc.height
    scene = Timeline(scenario).scene_at(0)
    regions = lk.compute_regions(scene.layout, scene.order, canvas_wh=(w0, h0))
    image = scene.layout.background_image
    if image:
        video = ffmpeg.input(str(SAMPLES / image), loop=1, framerate=tc.fps, t=SECONDS).video \
            .filter("scale", w0, h0, force_original_aspect_ratio="increase") \
            .filter("crop", w0, h0).filter("setsar", 1)
    else:
        colour = scene.layout.background_color.lstrip("#")
        video = ffmpeg.input(f"color=c=0x{colour}:s={w0}x{h0}:r={tc.fps}:d={SECONDS}",
                             f="lavfi")
    shown = [u for u in regions.uids if u is not None and u not in omit]
    inputs = {uid: ffmpeg.input(str(clips[uid])) for uid in shown}
    for uid, (x, y, w, h), mode in zip(regions.uids, regions.rects.tolist(),
                                       regions.render_modes.tolist(), strict=True):
        if uid not in inputs:
            continue
        mode = (modes or {}).get(uid, mode)
        tile = inputs[uid].video
        if freeze and uid in freeze:
            tile = ffmpeg.input(str(clips[uid]), t=SECONDS).video.filter(
                "trim", end=freeze[uid]).filter("tpad", stop_mode="clone",
                                                stop_duration=SECONDS)
        if mode == 0:
            tile = tile.filter("scale", w, h, force_original_aspect_ratio="increase") \
                .filter("crop", w, h)
        else:
            tile = tile.filter("scale", w, h, force_original_aspect_ratio="decrease",
                               force_divisible_by=2) \
                .filter("pad", w, h, "(ow-iw)/2", "(oh-ih)/2", color="black")
        video = ffmpeg.overlay(video, tile, x=x + shift[0], y=y + shift[1], eof_action="pass")
    audio = ffmpeg.filter([inputs[u].audio for u in shown], "amix", inputs=len(shown),
                          normalize=0)
    return encode_composite(video, audio, out, fps=tc.fps, bitrate=tc.bitrate, seconds=SECONDS)


def _doc(users: list[dict], **transcoding: object) -> dict:
    tc = {"width": 640, "height": 360, "fps": 15, "bitrate": 800, "mixedVideoLayout": 1,
          "backgroundColor": "#203040", **transcoding}
    return scenario_doc(users, [], duration=SECONDS, transcoding=tc,
                        file_config={"avFileType": ["hls", "mp4"]})


def _files(clips: dict[str, Path], uids) -> list[dict]:
    return [{"uid": u, "source": str(clips[u]), "audio": "silence"} for u in uids]


def _messages(result) -> list[str]:
    return [f"{d.kind}: {d.message}" for d in result.differences]


def _compare(doc: dict, path: Path):
    return lk.compare(lk.load_scenario(doc, base_dir=SAMPLES), path)


# --- 1. render mode ----------------------------------------------------------------------------
CUSTOM = [{"uid": "11", "x_axis": 0, "y_axis": 0, "width": 0.5, "height": 1, "render_mode": 0},
          {"uid": "22", "x_axis": 0.5, "y_axis": 0, "width": 0.5, "height": 1,
           "render_mode": 1}]
MODE_WORDS = {0: "cropped", 1: "fitted"}


def _custom(users: list[dict], uids=("11", "22")) -> dict:
    config = [dict(region, uid=uid) for region, uid in zip(CUSTOM, uids, strict=True)]
    return _doc(users, mixedVideoLayout=3, layoutConfig=config)


def _render_fault(result, uid: str, asked: int):
    (diff,) = [d for d in result.differences if d.kind == "wrong_render_mode"]
    drawn = 1 - asked
    assert diff.message.startswith(
        f"uid {uid} drawn {MODE_WORDS[drawn]} where the request asks "
        f"{('crop', 'fit')[asked]} (renderMode {asked}), 0.00-4.00 s"), diff.message
    assert diff.uid == uid and diff.category == "content"
    assert diff.expected == {"render_mode": asked} and diff.observed == {"render_mode": drawn}
    assert KIND_CATEGORY["wrong_render_mode"] == "content"
    return diff


@pytest.fixture(scope="module")
def custom_recordings(tmp_path_factory, clips):
    """Return ``recording(kind, modes)``, which records two users in ``CUSTOM`` once.

    The two users (``ts``: test streams 11, 22; ``files``: video files 51, 52) are in the
    custom layout ``CUSTOM``, drawn with ``modes``.
    """
    root = tmp_path_factory.mktemp("custom")
    made: dict[tuple, tuple[dict, Path]] = {}

    def recording(kind: str, modes: dict[str, int] | None = None):
        key = (kind, tuple(sorted((modes or {}).items())))
        if key not in made:
            uids = ("11", "22") if kind == "ts" else ("51", "52")
            users = [{"uid": u} for u in uids] if kind == "ts" else _files(clips, uids)
            doc = _custom(users, uids)
            out = root / f"r{len(made)}" / f"{SID}_demo_0.mp4"
            made[key] = doc, _compose(doc, clips, out, modes=modes)
        return made[key]

    return recording


@pytest.mark.parametrize("kind", ["ts", "files"])
def test_custom_layout_drawn_as_asked_matches(custom_recordings, kind):
    result = _compare(*custom_recordings(kind))
    assert result.verdict == "match", _messages(result)


@pytest.mark.parametrize("kind, uid, asked", [
    ("ts", "22", 1), ("ts", "11", 0), ("files", "52", 1), ("files", "51", 0)])
def test_custom_region_drawn_the_other_way_is_one_render_mode_difference(
        custom_recordings, kind, uid, asked):
    """A custom region drawn the other way is one render-mode difference.

    Before: "region 1: an unrecognised picture from 0.07 s to 4.00 s, expected uid 22 live"
    (a wrong_state run).
    """
    result = _compare(*custom_recordings(kind, {uid: 1 - asked}))
    assert result.verdict == "differ", _messages(result)
    _render_fault(result, uid, asked)
    assert len(result.differences) == 1, _messages(result)


def test_both_custom_regions_drawn_the_other_way_are_one_difference_each(custom_recordings):
    result = _compare(*custom_recordings("ts", {"11": 1, "22": 0}))
    assert sorted((d.kind, d.uid) for d in result.differences) == [
        ("wrong_render_mode", "11"), ("wrong_render_mode", "22")], _messages(result)


@pytest.fixture(scope="module")
def clips43(tmp_path_factory):
    """Uid -> a 4:3 (320x240) test stream: crop and fit differ in 16:9 regions."""
    root = tmp_path_factory.mktemp("clips43")
    out = {}
    for uid in ("11", "22", "33", "44"):
        out[uid] = root / f"testsrc_{uid}.mp4"
        write_idstream(out[uid], uid=uid, duration=SECONDS, fps=15, size_wh=(320, 240),
                      bitrate_kbps=300)
    return out


@pytest.mark.parametrize("mode, key, value", [
    (2, "vertical_render", "fit"),
    (0, "floating_render", "fit"),
])
def test_floating_and_vertical_render_profile_keys_are_named_by_the_layout_check(
        tmp_path, clips43, mode, key, value):
    """Floating and vertical layouts' render modes are profile keys the layout check names.

    These layouts take their render modes from the profile, not from the request: a
    recording drawn the other way (every region fitted) is a ``wrong_layout`` naming the
    profile key, not a ``wrong_render_mode``.
    """
    uids = ("11", "22", "33", "44")
    extra = {"maxResolutionUid": "11"} if mode == 2 else {}
    users = [{"uid": u, "size": "320x240"} for u in uids]
    doc = _doc(users, mixedVideoLayout=mode, **extra)
    out = _compose(doc, clips43, tmp_path / "rec" / f"{SID}_demo_0.mp4",
                   modes=dict.fromkeys(uids, 1))
    result = _compare(doc, out)
    assert result.verdict == "differ", _messages(result)
    layouts = [d for d in result.differences if d.kind == "wrong_layout"]
    assert layouts and f"profile {key}={value}" in layouts[0].message, _messages(result)
    assert not [d for d in result.differences if d.kind == "wrong_render_mode"]


# --- 2. tile edges against the canvas (no test-stream code) -----------------------------------
EDGE_USERS = ("51", "52", "53", "54")


def _edge_doc(clips, n: int, **transcoding: object) -> dict:
    return _doc(_files(clips, EDGE_USERS[:n]), **transcoding)


@pytest.fixture(scope="module")
def edge_recordings(tmp_path_factory, clips):
    """Return ``recording(n, shift, background)``, which composes a shifted layout once.

    ``n`` video-file users in best fit, composed by FFmpeg with the tiles ``shift`` px away
    from their regions.
    """
    root = tmp_path_factory.mktemp("edges")
    made: dict[tuple, tuple[dict, Path]] = {}

    def recording(n: int, shift=(0, 0), background: str | None = None):
        key = (n, shift, background)
        if key not in made:
            extra = {"backgroundImage": background} if background else {}
            doc = _edge_doc(clips, n, **extra)
            out = root / f"r{len(made)}" / f"{SID}_demo_0.mp4"
            made[key] = doc, _compose(doc, clips, out, shift=shift)
        return made[key]

    return recording


def _layout_offset(result) -> tuple[int, int]:
    (diff,) = [d for d in result.differences if d.kind == "wrong_layout"]
    match = re.match(r"layout shifted by \(([+-]\d+), ([+-]\d+)\) px: the tiles' edges "
                     r"against the canvas found", diff.message)
    assert match, diff.message
    assert diff.observed == [int(match[1]), int(match[2])] and diff.expected == [0, 0]
    return int(match[1]), int(match[2])


@pytest.mark.parametrize("n, background", [(2, None), (3, None), (4, None),
                                           (3, "background.jpg")])
def test_clean_video_file_layouts_composed_by_ffmpeg_match(edge_recordings, n, background):
    result = _compare(*edge_recordings(n, background=background))
    assert result.verdict == "match", _messages(result)
    assert result.streams["content"]["codes_read"] == 0


@pytest.mark.parametrize("n, dx, dy, background", [
    (2, 4, 0, None), (3, 8, 0, None), (4, 0, -4, None), (3, -16, 8, None),
    (3, 0, 8, "background.jpg"),
])
def test_tiles_shifted_without_codes_are_a_wrong_layout_with_the_offset(
        edge_recordings, n, dx, dy, background):
    """Before: every one matched (no code expected, nothing searched)."""
    result = _compare(*edge_recordings(n, (dx, dy), background))
    assert result.verdict == "differ", _messages(result)
    got = _layout_offset(result)
    assert abs(got[0] - dx) <= 1 and abs(got[1] - dy) <= 1, (got, _messages(result))
    # judged again on the frames moved back: the users are where they belong
    assert [d.kind for d in result.differences] == ["wrong_layout"], _messages(result)


# --- 3. codes re-read at the shifted place ----------------------------------------------------
TS3 = [{"uid": u} for u in ("11", "22", "33")]


def test_shifted_layout_with_a_missing_user_names_both_judged_by_codes(tmp_path, clips):
    doc = _doc(TS3)
    out = _compose(doc, clips, tmp_path / "rec" / f"{SID}_demo_0.mp4", shift=(8, 0),
                   omit=("33",))
    result = _compare(doc, out)
    kinds = sorted((d.kind, d.uid or (d.expected or {}).get("uid") if isinstance(
        d.expected, dict) else d.uid) for d in result.differences)
    assert ("wrong_layout", None) in kinds and ("missing_user", "33") in kinds, \
        _messages(result)
    assert len(result.differences) == 2, _messages(result)
    # before: aligned by pictures (no code read where it was looked for)
    assert result.streams["content"]["alignment"] == "codes"
    assert result.streams["content"]["codes_read"] > 0


def test_shifted_layout_with_a_frozen_user_is_judged_by_its_codes(tmp_path, clips):
    """A shifted layout with a frozen user is judged by its codes.

    Colours cannot tell a frozen test stream from a live one: before, only the shift was
    reported; the codes re-read at the shifted place name the frozen user.
    """
    doc = _doc(TS3)
    out = _compose(doc, clips, tmp_path / "rec" / f"{SID}_demo_0.mp4", shift=(-8, 4),
                   freeze={"33": 1.0})
    result = _compare(doc, out)
    assert result.verdict == "differ", _messages(result)
    assert result.differences[0].kind == "wrong_layout", _messages(result)
    frozen = [d for d in result.differences[1:] if "33" in d.message]
    assert frozen, _messages(result)
    assert all(d.kind == "wrong_state" for d in frozen), _messages(result)


# --- the stages on small synthetic arrays (no encoding) ---------------------------------------
def _layout_masks(dx: int, dy: int, noise: float = 0.0, seed: int = 0):
    """Return an expected and an observed 640x360 canvas mask, each with two 320x180 tiles.

    In the observed one the tiles are moved by ``(dx, dy)`` and a share ``noise`` of tile
    pixels look like canvas.
    """
    rng = np.random.default_rng(seed)
    expected = np.ones((360, 640), np.float32)
    observed = np.ones((360, 640), np.float32)
    for x in (0, 320):
        expected[90:270, x:x + 320] = 0
        observed[max(0, 90 + dy):270 + dy, max(0, x + dx):x + 320 + dx] = 0
    observed[(observed == 0) & (rng.random(observed.shape) < noise)] = 1
    return observed, expected


@pytest.mark.parametrize("dx, dy", [(4, 0), (0, -4), (-8, 12), (33, -20), (0, 0)])
def test_mask_offset_finds_the_tiles_offset_despite_canvas_coloured_content(dx, dy):
    observed, expected = _layout_masks(dx, dy, noise=0.2)
    (gx, gy), best, none = mask_offset([observed], [expected])
    assert (gx, gy) == (dx, dy)
    assert none - best >= (MIN_EVIDENCE if (dx, dy) != (0, 0) else 0)


def test_expected_mask_counts_black_fit_bars_as_canvas_only_on_a_black_canvas():
    reg = RegionExpect(0, (0, 0, 320, 360), 1, ("51", "live"), "file", 0)
    period = Period(0, 4, 0, 3, (reg,), None)
    black = expected_mask(period, {"51": (320, 180)}, (640, 360), black_is_canvas=True)
    other = expected_mask(period, {"51": (320, 180)}, (640, 360), black_is_canvas=False)
    assert black[:90, :320].min() == 1 and black[90:270, :320].max() == 0
    assert other[:, :320].max() == 0 and other[:, 320:].min() == 1


def test_drawn_mode_tells_fit_bars_from_a_cropped_picture_and_the_canvas():
    reg = RegionExpect(0, (0, 0, 320, 360), 1, ("51", "live"), "file", 0)
    fitted = np.full((360, 640), 16, np.uint8)
    fitted[90:270, :320] = np.linspace(40, 220, 320, dtype=np.uint8)
    cropped = np.broadcast_to(np.linspace(40, 220, 640, dtype=np.uint8), (360, 640)).copy()
    canvas = np.full((360, 640), 60, np.uint8)
    assert drawn_mode(fitted, reg, (320, 180), canvas=60) == 1
    assert drawn_mode(cropped, reg, (320, 180), canvas=60) == 0
    assert drawn_mode(canvas, reg, (320, 180), canvas=60) is None
    # a cropped picture that is dark at its edges is no fit (dark just inside the bars too)
    dark_edges = cropped.copy()
    dark_edges[:120] = 16
    dark_edges[240:] = 16
    assert drawn_mode(dark_edges, reg, (320, 180), canvas=60) is None
    # a region painted over the bars is left out of them
    covered = fitted.copy()
    covered[:90, :320] = 200
    assert drawn_mode(covered, reg, (320, 180), canvas=60, above=[(0, 0, 320, 90)]) == 1


def test_moved_frames_put_a_shifted_picture_back_in_place():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 255, (36, 64), dtype=np.uint8)
    u = rng.integers(0, 255, (18, 32), dtype=np.uint8)
    i420 = np.concatenate([y.reshape(-1), u.reshape(-1), u.reshape(-1)]).reshape(54, 64)
    shifted = i420.copy()
    shifted[:36] = move_plane(y, 8, 4)
    (frame,) = moved_frames([DecodedFrame.from_i420(0.0, shifted)], (8, 4), (64, 36))
    assert np.array_equal(frame.planes[0][:28, :56], y[:28, :56])
