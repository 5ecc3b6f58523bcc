"""The identifying test stream: pictures, code, tone, and the file writer.

The must-show test (``test_code_survives_17_user_canvas_h264``) composes 17 test streams
into a best-fit 360x640 canvas, encodes it with libx264 at 500 Kbps, decodes it and reads
every tile's uid and frame number back.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layoutkit.compose.rgb import paste
from layoutkit.errors import OutputExistsError, EncodeError, ParameterError
from layoutkit.io.encode import x264_options
from layoutkit.layout import compute_regions
from layoutkit.signals.idcode import (
    CodeReading,
    code_cells,
    code_geometry,
    decode_cells,
    draw_code,
    quiet_zone,
    read_code,
    readings_from_means,
)
from layoutkit.cloudfiles.constants import SAMPLE_RATE
from layoutkit.signals.tone import TONE_DBFS, tone, tone_frequency
from layoutkit.idstream import read_idstream_ids, write_idstream
from layoutkit.signals.idstream import idstream_frame, idstream_frame_i420
from layoutkit.request.model import LayoutSettings

from .helpers import save_failure

SRC = (640, 360)
FPS = 15
UIDS_17 = [str(1001 + i) for i in range(16)] + ["4294967295"]
uids = st.integers(min_value=1, max_value=2**32 - 1).map(str)
frames = st.integers(min_value=0, max_value=10_000)

Tile = tuple[str, tuple[int, int, int, int], int]  # uid, region, render mode


def luma(rgb: np.ndarray) -> np.ndarray:
    """Limited-range BT.601 Y plane of an RGB picture (what a yuv420p encoder sees)."""
    height = rgb.shape[0]
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)[:height]


def compose(tiles: list[Tile], canvas_wh: tuple[int, int], index: int) -> np.ndarray:
    """Frame ``index`` of every tile's test stream pasted into a black canvas."""
    canvas = np.zeros((canvas_wh[1], canvas_wh[0], 3), dtype=np.uint8)
    for uid, region, mode in tiles:
        paste(canvas, idstream_frame(uid, index, fps=FPS), region, render_mode=mode)
    return canvas


def h264_round_trip(pictures: list[np.ndarray], *, kbps: int) -> list[np.ndarray]:
    """Encode RGB pictures with libx264 as the recorder does, decode, return the Y planes.

    The recorder's way: its ``X264_OPTIONS``, yuv420p, 15 fps, into an MP4 in memory.
    """
    height, width = pictures[0].shape[:2]
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = kbps * 1000
        stream.options = x264_options((width, height))
        for i, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420),
                                               format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    buf.seek(0)
    with av.open(buf) as container:
        return [f.to_ndarray()[:height] for f in container.decode(video=0)]


def read_rates(planes: list[np.ndarray], tiles: list[Tile]) -> dict[str, int]:
    """Count right, unreadable (None) and wrong readings of every tile in every frame."""
    counts = {"right": 0, "none": 0, "wrong": 0}
    for index, plane in enumerate(planes):
        for uid, region, mode in tiles:
            got = read_code(plane, src_wh=SRC, region=region, render_mode=mode)
            key = "none" if got is None else \
                "right" if got == CodeReading(uid, index % 4096) else "wrong"
            counts[key] += 1
    return counts


def rate(counts: dict[str, int]) -> float:
    return counts["right"] / sum(counts.values())


def check_rates(name: str, counts: dict[str, int], *, floor: float | None) -> None:
    print(f"\n{name}: read rate {rate(counts):.2%} "
          f"({counts['right']} right, {counts['none']} unreadable, {counts['wrong']} wrong)")
    assert counts["wrong"] == 0, f"{name}: a tile read a wrong uid/frame: {counts}"
    if floor is not None:
        assert rate(counts) >= floor, f"{name}: {counts}"


def bestfit_tiles(render_mode: int) -> list[Tile]:
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), UIDS_17,
                              canvas_wh=(360, 640))
    return [(uid, tuple(int(v) for v in rect), render_mode)
            for uid, rect in zip(regions.uids, regions.rects, strict=True)]


# -- pictures -------------------------------------------------------------------------


def test_frames_are_deterministic_and_fresh():
    a = idstream_frame("1001", 7)
    b = idstream_frame("1001", 7)
    assert a.shape == (360, 640, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    a[...] = 0  # the caller owns the array: the cache is not touched
    np.testing.assert_array_equal(idstream_frame("1001", 7), b)
    assert not np.array_equal(b, idstream_frame("1002", 7))
    assert not np.array_equal(b, idstream_frame("1001", 8))


def test_moving_parts_move_outside_the_code():
    qx, qy, qw, qh = quiet_zone(SRC)
    outside = np.ones((360, 640), dtype=bool)
    outside[qy:qy + qh, qx:qx + qw] = False
    for index in (1, 2, 7, 13):
        diff = np.any(idstream_frame("42", index) != idstream_frame("42", index + 1), axis=2)
        assert diff[outside].sum() > 500


def test_flash_frames_are_white_outside_the_code_and_stay_readable():
    qx, qy, qw, qh = quiet_zone(SRC)
    flash = idstream_frame("1001", 30)
    outside = np.ones((360, 640), dtype=bool)
    outside[qy:qy + qh, qx:qx + qw] = False
    assert np.all(flash[outside] == 255)
    for neighbour in (29, 31):
        change = np.abs(flash.astype(int) - idstream_frame("1001", neighbour)).mean()
        assert change > 60
    assert read_code(luma(flash), src_wh=SRC, region=(0, 0, *SRC)) == CodeReading("1001", 30)
    # not a flash: fps decides where the seconds are
    assert not np.all(idstream_frame("1001", 30, fps=25)[outside] == 255)


@pytest.mark.parametrize("size", [(640, 360), (360, 640), (1280, 720), (64, 36), (480, 480)])
def test_every_frame_names_itself(size):
    for index in (0, 1, 14, 15, 4095, 4096 + 3):
        got = read_code(luma(idstream_frame("987654", index, size_wh=size)), src_wh=size,
                        region=(0, 0, *size))
        assert got == CodeReading("987654", index % 4096)


def test_bad_inputs_are_usage_errors():
    for uid in ("", "abc", "007", "-1", "4294967296", "1.5", "١٢"):
        with pytest.raises(ParameterError):
            idstream_frame(uid, 0)
    with pytest.raises(ParameterError, match="too small"):
        idstream_frame("1", 0, size_wh=(40, 30))
    with pytest.raises(ParameterError, match="even"):
        idstream_frame_i420("1", 0, size_wh=(641, 360))
    with pytest.raises(ParameterError):
        idstream_frame("1", 0, fps=0)


def test_i420_is_bt601_limited_range_like_pyav():
    rgb = idstream_frame("1001", 3)
    yuv = idstream_frame_i420("1001", 3)
    assert yuv.shape == (540, 640)
    # drawn natively in I420: the luma is exactly OpenCV's conversion of the RGB frame; the
    # chroma differs only where white touches a 2x2 block (bar edges, counter digits)
    ref = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    np.testing.assert_array_equal(yuv[:360], ref[:360])
    assert (yuv[360:] != ref[360:]).mean() < 0.02
    flash = idstream_frame_i420("1001", 15)  # a flash frame has no moving parts: identical
    np.testing.assert_array_equal(flash, cv2.cvtColor(idstream_frame("1001", 15),
                                                      cv2.COLOR_RGB2YUV_I420))
    cells = code_geometry(SRC).astype(int)
    white = code_cells("1001", 3).reshape(-1)
    centres = [(y + h // 2, x + w // 2) for x, y, w, h in cells]
    ys = np.array([yuv[r, c] for r, c in centres])
    assert set(ys[white].tolist()) == {235} and set(ys[~white].tolist()) == {16}
    # PyAV (swscale) assumes the same matrix and range: flat areas come back unchanged
    back = av.VideoFrame.from_ndarray(yuv, format="yuv420p").to_ndarray(format="rgb24")
    assert back.shape == rgb.shape
    diff = np.abs(back.astype(int) - rgb).max(axis=2)
    edges = cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.CV_16S) != 0
    flat = cv2.erode((~edges).astype(np.uint8), np.ones((5, 5))).astype(bool)
    assert flat.mean() > 0.5
    assert diff[flat].max() <= 3


# -- the code -------------------------------------------------------------------------


@given(uids, frames)
@settings(max_examples=300, deadline=None)
def test_cells_round_trip(uid, frame):
    cells = code_cells(uid, frame)
    assert cells.shape == (7, 8) and not cells.flat[0] and cells.flat[-1]
    assert decode_cells(cells) == CodeReading(uid, frame % 4096)


@pytest.mark.parametrize("uid", ["0", "1", "4294967295"])
@pytest.mark.parametrize("frame", [0, 1, 4095, 4096])
def test_cells_round_trip_at_the_edges(uid, frame):
    assert decode_cells(code_cells(uid, frame)) == CodeReading(uid, frame % 4096)


@given(uids, frames, st.sets(st.integers(1, 54), min_size=1, max_size=3))
@settings(max_examples=120, deadline=None)
def test_crc_rejects_up_to_three_flipped_cells(uid, frame, flips):
    cells = code_cells(uid, frame).reshape(-1)
    cells[list(flips)] ^= True
    assert decode_cells(cells) is None


def _textbook_decode(cells):
    """Decode the cells bit by bit as the module docstring says (the reference)."""
    bits = [bool(b) for b in np.asarray(cells).reshape(-1)]
    if bits[0] or not bits[-1]:
        return None
    word = int("".join("1" if b else "0" for b in bits[1:-1]), 2) ^ (0x2DC6A395B1E74F & (2**54 - 1))
    payload, check = word >> 10, word & 0x3FF
    reg = 0
    for i in range(43, -1, -1):  # CRC-10, polynomial 0x157, no initial value, no final XOR
        feedback = (reg >> 9) ^ ((payload >> i) & 1)
        reg = ((reg << 1) & 0x3FF) ^ (0x157 if feedback else 0)
    return CodeReading(str(payload >> 12), payload & 0xFFF) if reg == check else None


@given(st.lists(st.tuples(uids, frames, st.sets(st.integers(0, 55), max_size=4)),
                min_size=1, max_size=20))
@settings(max_examples=150, deadline=None)
def test_codes_read_together_decode_as_the_textbook_says(codes):
    rows = []
    for uid, frame, flips in codes:
        cells = code_cells(uid, frame).reshape(-1)
        cells[list(flips)] ^= True
        rows.append(cells)
    expected = [_textbook_decode(cells) for cells in rows]
    assert [decode_cells(cells) for cells in rows] == expected
    means = np.where(np.stack(rows), 235.0, 16.0)  # a clean picture's cell means
    assert readings_from_means(means) == expected
    for (uid, frame, flips), reading in zip(codes, expected, strict=True):
        if not flips:  # the reference itself reads a clean code
            assert reading == CodeReading(uid, frame % 4096)


def test_calibration_cells_are_checked():
    cells = code_cells("5", 5).reshape(-1)
    for index in (0, 55):
        broken = cells.copy()
        broken[index] ^= True
        assert decode_cells(broken) is None


@given(uids, frames, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
@settings(max_examples=60, deadline=None)
def test_draw_then_read_without_compression(uid, frame, r, g, b):
    picture = np.empty((360, 640, 3), dtype=np.uint8)
    picture[...] = (r, g, b)
    draw_code(picture, uid, frame)
    plane = luma(picture)
    assert read_code(plane, src_wh=SRC, region=(0, 0, 640, 360)) == CodeReading(uid, frame % 4096)
    # a full-range grey picture reads the same (the calibration cells set the levels)
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    assert read_code(grey, src_wh=SRC, region=(0, 0, 640, 360)) == CodeReading(uid, frame % 4096)


def test_read_rejects_a_corrupted_cell():
    picture = idstream_frame("1001", 9)
    x, y, w, h = code_geometry(SRC)[20].astype(int)
    picture[y:y + h, x:x + w] = 255 - picture[y:y + h, x:x + w]
    assert read_code(luma(picture), src_wh=SRC, region=(0, 0, *SRC)) is None


def test_read_needs_the_whole_code_visible():
    picture = idstream_frame("77", 1)
    canvas = np.zeros((200, 200, 3), dtype=np.uint8)
    paste(canvas, picture, (0, 0, 40, 128), render_mode=0)  # keeps 0.18 of the width
    assert read_code(luma(canvas), src_wh=SRC, region=(0, 0, 40, 128)) is None
    # a region that hangs off the canvas
    assert read_code(luma(canvas), src_wh=SRC, region=(150, 150, 128, 72)) is None
    # uniform grey: no contrast between the calibration cells
    flat = np.full((360, 640), 128, dtype=np.uint8)
    assert read_code(flat, src_wh=SRC, region=(0, 0, *SRC)) is None


@pytest.mark.parametrize(("src", "region", "mode"), [
    ((640, 360), (36, 0, 72, 128), 0),   # 9:16 tile of a 16:9 source keeps the centre third
    ((640, 360), (10, 20, 64, 36), 1),   # the whole picture, tiny
    ((640, 360), (5, 7, 200, 200), 1),
    ((360, 640), (0, 100, 360, 200), 0),  # 16:9 tile of a 9:16 source
    ((360, 640), (0, 0, 128, 72), 0),
    ((360, 640), (40, 40, 200, 356), 1),
])
def test_read_through_crop_and_fit(src, region, mode):
    canvas = np.zeros((400, 400, 3), dtype=np.uint8)
    paste(canvas, idstream_frame("4294967295", 33, size_wh=src), region, render_mode=mode)
    got = read_code(luma(canvas), src_wh=src, region=region, render_mode=mode)
    assert got == CodeReading("4294967295", 33)


# -- the must-show test: 17 tiles, H.264 at 500 Kbps --------------------------------------


@pytest.mark.parametrize("render_mode", [pytest.param(0, marks=pytest.mark.slow), 1],
                         ids=["crop", "fit"])  # crop: with -m slow
def test_code_survives_17_user_canvas_h264(render_mode):
    tiles = bestfit_tiles(render_mode)
    assert {region[2:] for _, region, _ in tiles} == {(72, 128)}
    pictures = [compose(tiles, (360, 640), i) for i in range(60)]
    raw = read_rates([luma(p) for p in pictures], tiles)
    check_rates(f"17 users 360x640 {render_mode=} uncompressed", raw, floor=1.0)
    decoded = h264_round_trip(pictures, kbps=500)
    assert len(decoded) == 60
    counts = read_rates(decoded, tiles)
    if rate(counts) < 0.98:
        save_failure(f"testsrc_canvas_{render_mode}", decoded[-1])
    check_rates(f"17 users 360x640 {render_mode=} H.264 500 Kbps", counts, floor=0.98)


def test_code_survives_whole_frame_at_64x36():
    tiles: list[Tile] = [("1", (0, 0, 64, 36), 0), ("77", (64, 0, 64, 36), 1),
                         ("4294967295", (0, 36, 64, 36), 0), ("123456", (64, 36, 64, 36), 0)]
    pictures = [compose(tiles, (128, 72), i) for i in range(60)]
    check_rates("64x36 uncompressed", read_rates([luma(p) for p in pictures], tiles),
                floor=0.98)
    # 500 Kbps on 360x640 at 15 fps is 0.145 bit per pixel: 20 Kbps on 128x72.  Cells of
    # ~2 px do not survive that; the rate is reported, only wrong readings fail the test.
    check_rates("64x36 H.264 20 Kbps (0.145 bpp)",
                read_rates(h264_round_trip(pictures, kbps=20), tiles), floor=None)
    check_rates("64x36 H.264 120 Kbps (0.87 bpp)",
                read_rates(h264_round_trip(pictures, kbps=120), tiles), floor=0.98)


@pytest.mark.slow
@pytest.mark.parametrize("kbps", [250, 500])
def test_code_survives_17_user_canvas_h264_long(kbps):
    tiles = bestfit_tiles(0)
    pictures = [compose(tiles, (360, 640), i) for i in range(300)]
    check_rates(f"17 users 300 frames H.264 {kbps} Kbps",
                read_rates(h264_round_trip(pictures, kbps=kbps), tiles), floor=0.98)


# -- audio ------------------------------------------------------------------------------


def pure_tone(uid: str, start: int, count: int) -> np.ndarray:
    n = np.arange(start, start + count)
    return 10 ** (TONE_DBFS / 20) * np.sin(2 * np.pi * tone_frequency(uid) * n / SAMPLE_RATE)


def test_beep_is_at_whole_seconds_sample_exact():
    samples = tone("1001", 0, 3 * SAMPLE_RATE + 5000)
    beep = samples - pure_tone("1001", 0, samples.size)
    for second in range(4):
        at = second * SAMPLE_RATE
        assert np.abs(beep[at - 200 if at else 0:at + 1]).max() < 1e-5  # silent up to it
        assert abs(beep[at + 1]) > 0.01  # sin(2 pi 1100 / 48000) * 0.5
        window = beep[at:at + 2400]
        assert np.sqrt(np.mean(window**2)) == pytest.approx(0.5012 / np.sqrt(2), rel=1e-3)
        assert np.abs(beep[at + 2400:at + 2600]).max() < 1e-5  # ends after 50 ms
        spectrum = np.abs(np.fft.rfft(window))
        # the beep is numbered: second k at 1100 + 100 * (k % 16) Hz
        assert np.argmax(spectrum) * SAMPLE_RATE / window.size == 1100 + 100 * second


@pytest.mark.parametrize("uid", ["1", "16", "17", "1001", "4294967295"])
def test_tone_frequency_per_uid(uid):
    window = tone(uid, 4800, SAMPLE_RATE // 2)  # 0.1 .. 0.6 s: no beep
    spectrum = np.abs(np.fft.rfft(window * np.hanning(window.size)))
    peak = np.argmax(spectrum) * SAMPLE_RATE / window.size
    assert peak == pytest.approx(300 + (int(uid) % 17) * 40, abs=2)
    assert np.sqrt(np.mean(window**2)) == pytest.approx(10 ** (-18 / 20) / np.sqrt(2), rel=1e-2)


def test_tone_is_phase_continuous_across_calls():
    whole = tone("5", 47_000, 3000)
    parts = np.concatenate([tone("5", 47_000, 1234), tone("5", 48_234, 1766)])
    np.testing.assert_array_equal(whole, parts)
    late = 10**9  # hours in: the phase is still exact
    np.testing.assert_allclose(tone("5", late, 100), pure_tone("5", late, 100), atol=1e-6)
    assert tone("5", 0, 0).shape == (0,)


# -- the file -----------------------------------------------------------------------------


def test_write_idstream_makes_a_playable_mp4(tmp_path):
    path = tmp_path / "user.mp4"
    write_idstream(path, uid="1001", duration=2, fps=FPS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.mp4"]
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and audio.codec_context.name == "aac"
        assert (video.width, video.height) == SRC
        assert audio.sample_rate == 48000 and audio.channels == 1
        decoded = list(container.decode(video=0))
    assert len(decoded) == 30
    assert [f.pts * f.time_base for f in decoded] == [Fraction(i, FPS) for i in range(30)]
    assert decoded[0].format.name == "yuv420p"
    assert read_idstream_ids(path) == [CodeReading("1001", i) for i in range(30)]
    with av.open(str(path)) as container:
        sound = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert abs(sound.size - 2 * SAMPLE_RATE) <= 1024
    reference = tone("1001", 0, SAMPLE_RATE)
    lag = np.argmax(np.correlate(sound[:6000], reference[:3000], "valid"))
    assert lag == 0  # the encoder delay is trimmed: the first beep is at sample 0


def test_write_idstream_refuses_bad_requests(tmp_path, monkeypatch):
    path = tmp_path / "user.mp4"
    with pytest.raises(ParameterError, match="even"):
        write_idstream(path, uid="1", duration=1, size_wh=(639, 360))
    with pytest.raises(ParameterError):
        write_idstream(path, uid="x", duration=1)
    with pytest.raises(ParameterError):
        write_idstream(path, uid="1", duration=0)
    path.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="exists"):
        write_idstream(path, uid="1", duration=1)
    assert path.read_bytes() == b"keep me"

    def broken_open(*args, **kwargs):
        raise av.error.InvalidDataError(1094995529, "Invalid data found")

    monkeypatch.setattr(av, "open", broken_open)
    with pytest.raises(EncodeError):
        write_idstream(path, uid="1", duration=1, overwrite=True)
    assert path.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.mp4"]


def test_write_idstream_without_the_flash(tmp_path):
    with_flash, without = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_idstream(with_flash, uid="1001", duration=2, fps=FPS, size_wh=(320, 180))
    write_idstream(without, uid="1001", duration=2, fps=FPS, size_wh=(320, 180), flash=False)
    means = {}
    for path in (with_flash, without):
        with av.open(str(path)) as container:
            means[path] = [f.to_ndarray(format="gray").mean() for f in container.decode(video=0)]
    flash, plain = means[with_flash], means[without]
    assert flash[FPS] > plain[FPS] + 40  # the whole-second frame is the white flash
    assert abs(plain[FPS] - plain[FPS + 1]) < 8  # and without it like its neighbour
    ids = read_idstream_ids(without)
    assert [r.frame for r in ids if r] == list(range(2 * FPS))  # every frame still coded
