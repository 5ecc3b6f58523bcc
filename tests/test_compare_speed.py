"""compare at the speed of decoding (issue 23 item 6): what the speed-ups must keep.

Video is decoded in a background thread a few frames ahead (:mod:`layoutkit.io.ahead`), the
sound is read on the observing thread, a piece at a time while it would wait for the next
picture (a thread reading it beside them cost more than it saved), and mono 48 kHz float
sound skips the resampler: the same frames, samples and results as before, and no thread
left running when the consumer stops early or fails.  No timing here (benchmarks/compare.py
times).
"""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layoutkit.comparison import content as content_mod
from layoutkit.comparison.codereader import CodeSpot, CodeSpots
from layoutkit.comparison.observe import MOTION_SCALE, FrameSampler, Observations, shrink
from layoutkit.compose.yuv import i420_planes
from layoutkit.errors import MediaError
from layoutkit.io import probe as probe_mod
from layoutkit.io import recorded
from layoutkit.io.ahead import ahead
from layoutkit.io.frames import DecodeStats
from layoutkit.io.recorded import iter_audio, iter_video
from layoutkit.signals.idcode import draw_code
from layoutkit.signals.tone import tone

SR = 48000


#: The threads these tests are about (other tests' servers, e.g. ``layoutkit-design``, may
#: still be winding down in the same worker process).
OURS = ("layoutkit-decode", "layoutkit-ahead")


def _threads(*names: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in (names or OURS)]


def _write(path: Path, *, frames: int = 30, size: tuple[int, int] = (352, 288),
           rate: int = SR, layout: str = "mono", seconds: float = 2.0) -> Path:
    """Write an H.264 + AAC MP4: moving gradient pictures, a tone with beeps."""
    w, h = size
    channels = 2 if layout == "stereo" else 1
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=15)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        sound = container.add_stream("aac", rate=rate, layout=layout)
        for i in range(frames):
            y = ((np.arange(w)[None, :] + 7 * i + np.arange(h)[:, None]) % 256).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.vstack([y, np.full((h // 2, w), 128,
                                                                      np.uint8)]),
                                               format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, 15)
            for packet in video.encode(frame):
                container.mux(packet)
        n = int(seconds * rate)
        mono = tone("1001", 0, n).astype(np.float32) if rate == SR else \
            (0.3 * np.sin(2 * np.pi * 1000 * np.arange(n) / rate)).astype(np.float32)
        step = 1024
        for k, lo in enumerate(range(0, n - step + 1, step)):
            part = np.repeat(mono[None, lo:lo + step], channels, axis=0)
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format="fltp",
                                            layout=layout)
            af.sample_rate, af.pts = rate, k * step
            for packet in sound.encode(af):
                container.mux(packet)
        for packet in [*video.encode(None), *sound.encode(None)]:
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("speed") / "small.mp4")


# --- video decoded ahead ------------------------------------------------------------------------
def test_frames_decoded_ahead_are_the_frames_decoded_in_line(mp4: Path) -> None:
    in_line, behind = DecodeStats(), DecodeStats()
    a = list(iter_video([mp4], ahead=0, stats=in_line))
    b = list(iter_video([mp4], ahead=3, stats=behind))
    assert len(a) == len(b) == 30
    for x, y in zip(a, b, strict=True):
        assert (x.t, x.index, x.key) == (y.t, y.index, y.key)
        assert all(np.array_equal(p, q) for p, q in zip(x.planes, y.planes, strict=True))
    assert in_line == behind
    assert not _threads()


def test_a_consumer_that_stops_early_leaves_no_decoder_thread(mp4: Path) -> None:
    frames = iter_video([mp4], ahead=2)
    first = next(frames)
    assert first.index == 0
    assert _threads("layoutkit-decode")  # decoding ahead while the consumer holds frame 0
    frames.close()
    assert not _threads()


def test_a_failing_analysis_stops_the_decoder_and_reads_no_sound(
        mp4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from layoutkit.scenario import parse_scenario
    from tests.helpers import scenario_doc

    seen = []
    real = FrameSampler.shrunk_planes

    def failing(self: FrameSampler, planes: Any) -> tuple[np.ndarray, ...]:
        seen.append(1)
        if len(seen) == 3:
            raise RuntimeError("analysis failed on frame 2")
        return real(self, planes)

    monkeypatch.setattr(FrameSampler, "shrunk_planes", failing)
    doc = scenario_doc([{"uid": "1001", "source": "testsrc", "size": "352x288"}], duration=2,
                       transcoding={"width": 352, "height": 288, "fps": 15,
                                    "mixedVideoLayout": 1})
    heard = []
    with pytest.raises(RuntimeError, match="frame 2") as failed:
        content_mod.check_content(lambda: iter_video([mp4], ahead=2), parse_scenario(doc),
                                  audio=(heard.append(c) or c for c in iter_audio([mp4])))
    assert failed.value is not None  # the traceback still holds the frames' iterators
    assert not _threads()
    assert not heard


def test_a_decoding_error_reaches_the_consumer(tmp_path: Path, mp4: Path) -> None:
    missing = tmp_path / "gone.mp4"
    with pytest.raises(MediaError, match=r"gone\.mp4"):
        list(iter_video([mp4, missing], ahead=4))
    assert not _threads()


def test_ahead_yields_up_to_the_producers_error_then_raises_it() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("broken at 3")

    got = []
    with pytest.raises(ValueError, match="broken at 3"):
        for item in ahead(items, depth=1):
            got.append(item)
    assert got == [1, 2]
    assert not _threads()


def test_ahead_stops_a_producer_blocked_on_a_full_queue() -> None:
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    items = ahead(endless, depth=1)
    assert next(items) == 0
    items.close()
    assert closed.is_set()  # the producer's iterator was closed (its files too)
    assert not _threads()


def test_ahead_does_the_idle_work_while_no_item_waits() -> None:
    released = threading.Event()
    calls: list[str] = []

    def items():
        released.wait(timeout=10)  # the producer waits for the consumer's idle work
        yield "a"
        yield "b"

    def idle() -> bool:
        calls.append(threading.current_thread().name)
        if len(calls) == 3:
            released.set()
        return len(calls) < 5

    assert list(ahead(items, idle=idle)) == ["a", "b"]
    assert 3 <= len(calls) <= 5  # not called again once it said its work was done
    assert set(calls) == {threading.current_thread().name}
    assert not _threads()


def test_an_error_in_the_idle_work_reaches_the_consumer_and_stops_the_producer() -> None:
    def idle() -> bool:
        raise ValueError("idle work broke")

    def slow():
        released = threading.Event()
        while True:
            released.wait(0.01)
            yield 1

    with pytest.raises(ValueError, match="idle work broke"):
        list(ahead(slow, depth=1, idle=idle))
    assert not _threads()


@settings(max_examples=300, deadline=None)
@given(pts=st.integers(0, 2 ** 45), num=st.integers(1, 1001), den=st.integers(1, 10 ** 6))
def test_pts_seconds_is_the_fraction_rounded_once(pts: int, num: int, den: int) -> None:
    from layoutkit.io.frames import pts_seconds

    assert pts_seconds(pts, num, den) == float(pts * Fraction(num, den))


# --- sound ------------------------------------------------------------------------------------
def _samples(paths: list[Path]) -> tuple[list[float], np.ndarray]:
    chunks = list(iter_audio(paths, chunk_s=0.5))
    return [c.t for c in chunks], np.concatenate([c.samples for c in chunks])


def test_mono_48k_sound_skips_the_resampler(mp4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    real = recorded.av.AudioResampler

    def counting(*args: object, **kwargs: object) -> object:
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(recorded.av, "AudioResampler", counting)
    times, fast = _samples([mp4])
    assert not made
    monkeypatch.setattr(recorded._Mono, "ready", staticmethod(lambda frame: False))
    times_r, resampled = _samples([mp4])
    assert made  # the reference went through FFmpeg's resampler
    assert times == times_r
    assert fast.dtype == resampled.dtype == np.float32
    assert np.array_equal(fast, resampled)


def test_other_sound_still_goes_through_the_resampler(tmp_path: Path) -> None:
    path = _write(tmp_path / "stereo44.mp4", frames=4, rate=44100, layout="stereo")
    with av.open(str(path)) as container:
        frame = next(container.decode(audio=0))
        assert not recorded._Mono.ready(frame)
    _, samples = _samples([path])
    assert samples.dtype == np.float32
    assert abs(samples.size - 2 * SR) < 2048  # 2 s at 48 kHz


def test_the_sound_is_read_after_the_pictures_on_the_calling_thread(mp4: Path) -> None:
    from layoutkit.scenario import parse_scenario
    from tests.helpers import scenario_doc

    log: list[tuple[str, int, str]] = []

    def frames() -> Any:
        for frame in iter_video([mp4], ahead=2):
            log.append(("frame", frame.index, threading.current_thread().name))
            yield frame

    def sound() -> Any:
        for k, chunk in enumerate(iter_audio([mp4])):
            log.append(("sound", k, threading.current_thread().name))
            yield chunk

    doc = scenario_doc([{"uid": "1001", "source": "testsrc", "size": "352x288"}], duration=2,
                       transcoding={"width": 352, "height": 288, "fps": 15,
                                    "mixedVideoLayout": 1})
    result = content_mod.check_content(frames(), parse_scenario(doc), audio=sound())
    kinds = [kind for kind, _, _ in log]
    assert kinds.count("frame") == 30 and kinds.count("sound") >= 2
    assert kinds == sorted(kinds)  # every frame before the first chunk of sound
    assert {name for _, _, name in log} == {threading.current_thread().name}
    assert "beeps" in result.stats
    assert not _threads()


def test_compare_reads_the_sound_while_it_waits_for_pictures(
        mp4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The beeps are read on the observing thread, between pictures; the same result."""
    from layoutkit.comparison import run as run_mod
    from layoutkit.scenario import parse_scenario
    from tests.helpers import scenario_doc

    doc = scenario_doc([{"uid": "1001", "source": "testsrc", "size": "352x288"}], duration=2,
                       transcoding={"width": 352, "height": 288, "fps": 15,
                                    "mixedVideoLayout": 1})
    scenario = parse_scenario(doc)
    in_turn = content_mod.check_content(lambda: iter_video([mp4]), scenario,
                                        audio=iter_audio([mp4]))
    log: list[tuple[str, str]] = []
    real_video, real_audio = recorded._video, recorded.iter_audio

    def slow_video(*args: Any, **kwargs: Any) -> Any:
        for frame in real_video(*args, **kwargs):
            threading.Event().wait(0.005)  # a decoder slower than the observer
            log.append(("frame", threading.current_thread().name))
            yield frame

    def logged_audio(*args: Any, **kwargs: Any) -> Any:
        for chunk in real_audio(*args, **kwargs):
            log.append(("sound", threading.current_thread().name))
            yield chunk

    monkeypatch.setattr(recorded, "_video", slow_video)
    monkeypatch.setattr(run_mod, "iter_audio", logged_audio)
    heard = DecodeStats()
    frames, sound = run_mod.recorded_media([mp4], decoded=DecodeStats(), heard=heard)
    result = content_mod.check_content(frames, scenario, audio=sound)
    kinds = [kind for kind, _ in log]
    pictures = [i for i, kind in enumerate(kinds) if kind == "frame"]
    assert "sound" in kinds[:pictures[29]]  # before the first pass's last picture
    assert {name for kind, name in log if kind == "sound"} == {threading.current_thread().name}
    assert (result.stats, result.differences, result.offset_s, result.tracks) == \
        (in_turn.stats, in_turn.differences, in_turn.offset_s, in_turn.tracks)
    assert "beeps" in result.stats and heard.audio_errors == {str(mp4): (0, None)}
    assert not _threads()


def _tile(uid: str, frame: int, size: tuple[int, int]) -> np.ndarray:
    rgb = np.full((size[1], size[0], 3), 90, np.uint8)
    draw_code(rgb, uid, frame)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_code_spots_read_together_what_each_spot_reads_alone() -> None:
    # four regions with codes, one without, one off the canvas; read in two frames (the
    # integral images are written into the same buffer again)
    canvas = np.full((360, 640), 40, np.uint8)
    regions = [(0, 0, 320, 180), (320, 0, 320, 180), (0, 180, 320, 180), (320, 180, 320, 180)]
    spots = [CodeSpot((320, 180), r, 1, (640, 360)) for r in regions]
    spots.append(CodeSpot((320, 180), (600, 300, 320, 180), 1, (640, 360)))  # off the canvas
    together = CodeSpots(spots)
    for frame in (3, 4):
        for k, (x, y, w, h) in enumerate(regions[:3]):
            canvas[y:y + h, x:x + w] = _tile(str(11 + k), frame, (w, h))
        alone = [spot.read(canvas) for spot in spots]
        assert together.read(canvas) == alone
        assert [r.frame if r else None for r in alone] == [frame, frame, frame, None, None]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.sampled_from([1, 2, 3, 4, 6, 8, 12]),
       st.sampled_from([1, 2, 3, 4, 6]), st.integers(0, 2 ** 32 - 1))
def test_shrink_is_the_area_average_to_half_a_level_per_rounding(w, h, fx, fy, seed) -> None:
    plane = np.random.default_rng(seed).integers(0, 256, (h * fy, w * fx), dtype=np.uint8)
    got = shrink(plane, (w, h))
    exact = plane.reshape(h, fy, w, fx).mean(axis=(1, 3))
    halvings = 0
    while (fx >> halvings) % 2 == 0 and (fy >> halvings) % 2 == 0:
        halvings += 1
    assert got.shape == (h, w) and got.dtype == np.uint8
    assert np.abs(got - exact).max() <= 0.5 * (halvings + 1)
    if not halvings:  # OpenCV's own area average, unchanged
        assert np.array_equal(got, cv2.resize(plane, (w, h), interpolation=cv2.INTER_AREA))


def test_the_stream_checks_reuse_the_file_checks_walk(tmp_path: Path, mp4: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[object] = []
    inspect = probe_mod._inspect

    def counted(*key: Any) -> Any:
        walks.append(key[-1])
        return inspect(*key)

    monkeypatch.setattr(probe_mod, "_inspect", counted)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(mp4.read_bytes())
    decoded = probe_mod.inspect_media(copy, decode="audio")  # the file checks' walk
    assert probe_mod.inspect_media(copy, decode=False) is decoded  # the stream checks'
    assert probe_mod.inspect_media(copy, decode="audio") is decoded
    assert walks == ["audio"]
    assert probe_mod.inspect_media(copy, decode=True) is not decoded  # another level: walked
    assert walks == ["audio", True]
    copy.write_bytes(mp4.read_bytes()[:-10])  # a changed file is walked again
    assert probe_mod.inspect_media(copy, decode=False) is not decoded
    assert walks == ["audio", True, False]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([(640, 360), (1920, 1080), (320, 180)]),
       st.lists(st.tuples(st.integers(0, 1900), st.integers(0, 1060), st.integers(1, 900),
                          st.integers(1, 500)), min_size=1, max_size=6),
       st.integers(0, 2 ** 32 - 1))
def test_cell_means_are_each_cells_exact_mean(canvas_wh: tuple[int, int],
                                              rects: list[tuple[int, int, int, int]],
                                              seed: int) -> None:
    sampler = FrameSampler(canvas_wh)
    keys = [sampler.desc_key(rect) for rect in rects]
    small = np.random.default_rng(seed).integers(
        0, 256, (sampler.small_h, sampler.small_w, 3)).astype(np.float32)
    cells = sampler.cell_means(small)
    for key in keys:
        got = sampler.split(cells, key)
        for (x0, y0, x1, y1), valid, mean in zip(sampler.cell_rects(key), sampler.valid(key),
                                                 got, strict=True):
            if valid:
                exact = small[y0:y1, x0:x1].reshape(-1, 3).astype(np.float64).mean(axis=0)
                assert np.allclose(mean, exact, rtol=0, atol=1e-3)
    with pytest.raises(ValueError, match="small planes"):
        sampler.cell_means(small[1:])


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([(640, 360), (1920, 1080), (352, 288)]),
       st.lists(st.tuples(st.integers(0, 1900), st.integers(0, 1060), st.integers(1, 900),
                          st.integers(1, 500)), min_size=1, max_size=4),
       st.integers(0, 2 ** 32 - 1))
def test_observing_a_frame_gives_its_cells_and_their_luma_change_exactly(
        canvas_wh: tuple[int, int], rects: list[tuple[int, int, int, int]], seed: int) -> None:
    # Observations sums whole-level planes (and the change since the last frame) in one
    # integral image; here each is worked out on its own, in float, as the expectations are.
    w, h = canvas_wh
    sampler = FrameSampler(canvas_wh)
    for rect in rects:
        sampler.desc_key(rect)
    rng = np.random.default_rng(seed)
    frames = [i420_planes(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8))
              for _ in range(3)]
    observations = Observations(sampler)
    for i, frame in enumerate(frames):
        observations.add(i / 15, frame)
    _, cells, _, _ = observations.arrays()
    small = [sampler.small_planes(frame) for frame in frames]
    for i in range(3):
        exact = np.clip(np.rint(sampler.cell_means(small[i])), 0, 255)
        assert np.array_equal(cells[i], exact)
    motion = observations.motion()
    assert (motion[0] == 255).all()  # no frame before the first
    for i in (1, 2):
        change = np.abs(small[i][:, :, :1] - small[i - 1][:, :, :1])
        exact = np.clip(np.rint(sampler.cell_means(change)[:, 0] * MOTION_SCALE), 0, 255)
        assert np.array_equal(motion[i], exact)


def test_a_frame_buffer_reused_for_the_next_frame_still_shows_the_change() -> None:
    # a 160x90 canvas has nothing to shrink: the observed luma is the frame's own plane
    sampler = FrameSampler((160, 90))
    observations = Observations(sampler)
    frame = np.zeros((135, 160), np.uint8)
    observations.add(0.0, i420_planes(frame))
    frame[:90] = 64  # the next frame, decoded into the same buffer
    observations.add(1 / 15, i420_planes(frame))
    assert (observations.motion()[1] == 255).all()  # a change of 64 levels, at most 255
    assert sampler.shrunk_planes(i420_planes(frame))[0].base is not None


def _frame_votes_one_by_one(votes: np.ndarray, fps: int, offset: float) -> np.ndarray:
    """Each frame's vote as compare weighed it frame by frame before (the reference)."""
    out = np.full(len(votes), np.nan)
    for f, row in enumerate(votes):
        v = row[~np.isnan(row)]
        if v.size:
            values, counts = np.unique(np.round(v * fps).astype(np.int64), return_counts=True)
            top = values[counts == counts.max()]
            out[f] = top[np.argmin(np.abs(top / fps - offset))] / fps
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 40), st.integers(0, 12), st.sampled_from([15, 24, 25, 30]),
       st.floats(-2, 2), st.integers(0, 2 ** 32 - 1))
def test_frame_votes_at_once_are_those_weighed_frame_by_frame(frames, codes, fps, offset,
                                                             seed) -> None:
    from layoutkit.comparison.align import _frame_votes

    rng = np.random.default_rng(seed)
    # few distinct votes, so that bins tie and share; some codes give none
    votes = rng.choice(np.arange(-6, 7) / fps + rng.normal(0, 0.1 / fps, 13), (frames, codes))
    votes[rng.random((frames, codes)) < 0.3] = np.nan
    got = _frame_votes(votes, fps, offset)
    want = _frame_votes_one_by_one(votes, fps, offset)
    assert np.array_equal(got, want, equal_nan=True)
