"""The recorder's speed work (issue 23 item 4) changes nothing it writes, and cleans up.

Files are decoded ahead of drawing in a few shared threads (:class:`DecodeWorkers`,
:class:`ReadAhead`), canvases are copied into frames given back after their encode
(:class:`FramePool`), TS segments are renumbered in a small buffer.  These tests hold the
pictures, samples and recordings to be the very ones of the unthreaded path, the read-ahead
to stay bounded, and no thread to be left when a recording ends, is stopped early or fails.
No timings here: the benchmark measures speed (``benchmarks/mix.py``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from layoutkit.errors import MediaError
from layoutkit.io.decode import DecodeWorkers, FileAudio, FileVideo, ReadAhead, read_ahead_frames
from layoutkit.io.encode import FramePool, video_frame
from layoutkit.io.mpegts import TS_PACKET, ContinuityCounters
from layoutkit.record import pipeline, record
from layoutkit.scenario import parse_scenario
from layoutkit.sources import FileSource

from .helpers import lavfi_clip, scenario_doc


def _decode_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("layoutkit-decode")]


def _no_decode_threads() -> bool:
    """Whether every decode worker has ended (pool threads end just after shutdown returns)."""
    for _ in range(100):
        if not _decode_threads():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Make a 1.2 s 320x180 25 fps test pattern with a sine (it loops in longer reads)."""
    return lavfi_clip(tmp_path_factory.mktemp("speed") / "clip.mp4", "testsrc2", seconds=1.2)


# --------------------------------------------------------------------------- ReadAhead
def test_read_ahead_gives_the_same_items_then_the_error_where_it_happened() -> None:
    def items():
        yield from range(7)
        raise MediaError("x.mp4: broken at 7")

    with DecodeWorkers(workers=2) as workers:
        reader = workers.read_ahead(items(), depth=3)
        got = [next(reader) for _ in range(7)]
        with pytest.raises(MediaError, match="broken at 7"):
            next(reader)
        assert next(reader, "ended") == "ended"  # like a generator after its error
    assert got == list(range(7))
    assert _no_decode_threads()


def test_read_ahead_stays_within_its_depth() -> None:
    taken = []

    def items():
        for i in range(100):
            taken.append(i)
            yield i

    with DecodeWorkers(workers=1) as workers:
        reader = workers.read_ahead(items(), depth=4)
        for consumed in range(1, 30):
            assert next(reader) == consumed - 1
            time.sleep(0.002)  # the worker could run far ahead if nothing held it
            assert len(taken) <= consumed + 4
        reader.close()
        assert len(taken) <= 33


def test_read_ahead_close_stops_the_worker_and_closes_the_items() -> None:
    closed = threading.Event()
    busy = threading.Event()

    def items():
        try:
            for i in range(1000):
                busy.set()
                time.sleep(0.001)
                yield i
        finally:
            closed.set()

    workers = DecodeWorkers(workers=2)
    reader = workers.read_ahead(items(), depth=2)
    assert next(reader) == 0
    busy.wait(5)
    reader.close()
    assert closed.is_set()
    assert next(reader, "ended") == "ended"
    workers.close()
    assert _no_decode_threads()


def test_read_ahead_after_its_workers_closed_reads_in_the_caller() -> None:
    workers = DecodeWorkers(workers=1)
    reader = workers.read_ahead(iter(range(10)), depth=2)
    assert next(reader) == 0
    workers.close()
    assert list(reader) == list(range(1, 10))
    assert _no_decode_threads()


def test_read_ahead_frames_bounds_memory_by_picture_size() -> None:
    assert read_ahead_frames(320, 180) >= 2
    assert read_ahead_frames(1920, 1080) == 0  # 17 1080p files would hold 50 MiB more


# --------------------------------------------------------------------------- sources
def _times(fps: int, seconds: float) -> list[Fraction]:
    return [Fraction(k, fps) for k in range(int(seconds * fps))]


def test_file_video_read_ahead_draws_the_same_pictures(clip: Path) -> None:
    """Across two loops of the file, halvings that change, and an earlier time (reopen)."""
    requests = [(t, k % 3 == 0) for k, t in enumerate(_times(15, 3.0))]
    requests += [(Fraction(1, 2), False), (Fraction(3, 5), True)]  # earlier: reopens

    def pictures(workers: DecodeWorkers | None) -> list[bytes]:
        source = FileSource(clip)
        if workers is not None:
            source.read_ahead(workers)
        try:
            return [source.frame_i420(t, halvings=int(h)).tobytes() for t, h in requests]
        finally:
            source.close()

    plain = pictures(None)
    with DecodeWorkers(workers=2) as workers:
        ahead = pictures(workers)
    assert ahead == plain
    assert _no_decode_threads()


def test_file_video_reads_ahead_only_small_pictures(clip: Path) -> None:
    with DecodeWorkers(workers=1) as workers, FileVideo(clip) as video:
        video.read_ahead(workers)
        assert isinstance(video._frames, ReadAhead)
        video.frame_i420(Fraction(1, 5))


def test_parked_source_reads_ahead_again_when_reopened(clip: Path) -> None:
    with DecodeWorkers(workers=1) as workers:
        source = FileSource(clip)
        source.read_ahead(workers)
        source.frame_i420(Fraction(1, 5))
        source.park()
        before = source.frame_i420(Fraction(2, 5)).copy()
        assert source._video is not None and isinstance(source._video._frames, ReadAhead)
        source.close()
    with FileVideo(clip) as video:
        assert (video.frame_i420(Fraction(2, 5)) == before).all()


def test_file_audio_read_ahead_gives_the_same_samples(clip: Path) -> None:
    """Sample for sample across loops, a jump forward and a jump back."""
    spans = [(k * 3200, 3200) for k in range(60)] + [(200_000, 5000), (1000, 4000)]

    def samples(workers: DecodeWorkers | None) -> list[bytes]:
        with FileAudio(clip) as audio:
            if workers is not None:
                audio.read_ahead(workers)
            return [audio.samples(start, n).tobytes() for start, n in spans]

    plain = samples(None)
    with DecodeWorkers(workers=2) as workers:
        ahead = samples(workers)
    assert ahead == plain
    assert _no_decode_threads()


# --------------------------------------------------------------------------- frames
def test_frame_pool_reuses_a_frame_given_back_and_copies_exactly() -> None:
    from av.video.frame import PictureType

    pool = FramePool()
    first = np.random.default_rng(1).integers(0, 256, (36, 32), dtype=np.uint8)
    second = np.random.default_rng(2).integers(0, 256, (36, 32), dtype=np.uint8)
    frame = video_frame(first, 0, key=True, pool=pool)
    assert (frame.to_ndarray() == first).all()
    assert frame.pict_type == PictureType.I
    pool.give_back(frame)
    again = video_frame(second, 1, pool=pool)
    assert again is frame and again.pts == 1
    assert (again.to_ndarray() == second).all()
    assert again.pict_type == PictureType.NONE  # a reused key frame is no longer forced
    pool.give_back(again)
    other = video_frame(np.zeros((24, 16), np.uint8), 2, pool=pool)  # another size: new
    assert other is not frame and other.width == 16


def _ts_data(n: int) -> bytes:
    rng = np.random.default_rng(3)
    packets = rng.integers(0, 256, (n, TS_PACKET), dtype=np.uint8)
    packets[:, 0] = 0x47
    pids = rng.choice([0x100, 0x101, 0x1FFF], n)
    packets[:, 1] = pids >> 8
    packets[:, 2] = pids & 0xFF
    return packets.tobytes()


def test_ts_renumbering_in_chunks_matches_one_pass(tmp_path: Path) -> None:
    """A file longer than the read buffer gets the counters of renumbering it whole."""
    data = _ts_data(5000)
    expected = ContinuityCounters()
    expected.renumber(data)  # a first file keeps the muxer's counters
    whole = expected.renumber(data)  # the second continues them
    path = tmp_path / "seg.ts"
    path.write_bytes(data)
    counters = ContinuityCounters()
    counters.renumber(data)
    counters.renumber_file(path)
    assert path.read_bytes() == bytes(whole)


def test_ts_renumbering_holds_under_a_mib(tmp_path: Path) -> None:
    """A 4 MiB segment is renumbered in a small buffer (3 MiB reads kept 21 MiB resident)."""
    import tracemalloc

    path = tmp_path / "seg.ts"
    path.write_bytes(_ts_data(4 * 1024 * 1024 // TS_PACKET))
    counters = ContinuityCounters()
    tracemalloc.start()
    try:
        counters.renumber_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


# --------------------------------------------------------------------------- recordings
def _files_doc(clip: Path, *, users: int = 3, duration: float = 2.0) -> dict:
    return scenario_doc(
        [{"uid": str(i + 1), "source": str(clip), "audio": str(clip)} for i in range(users)],
        duration=duration,
        transcoding={"width": 320, "height": 180, "fps": 15, "bitrate": 300,
                     "mixedVideoLayout": 1},
        recording={"channelType": 0, "streamTypes": 2, "audioProfile": 0},
        file_config={"avFileType": ["hls", "mp4"]}, sid="0" * 32)


def _canvases_and_audio(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Record hashes of every canvas and every mixed audio frame the pipeline encodes."""
    canvases: list[str] = []
    sounds: list[str] = []
    draw = pipeline.video_frame

    def hashed_frame(i420, index, **kw):  # type: ignore[no-untyped-def]
        canvases.append(hashlib.sha1(i420.tobytes()).hexdigest())
        return draw(i420, index, **kw)

    encode = pipeline.Encoders.encode_audio

    def hashed_audio(self, samples, **kw):  # type: ignore[no-untyped-def]
        if samples is not None:
            sounds.append(hashlib.sha1(np.asarray(samples).tobytes()).hexdigest())
        return encode(self, samples, **kw)

    monkeypatch.setattr(pipeline, "video_frame", hashed_frame)
    monkeypatch.setattr(pipeline.Encoders, "encode_audio", hashed_audio)
    return canvases, sounds


def test_recording_with_read_ahead_draws_and_mixes_the_same(
        clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = parse_scenario(_files_doc(clip, duration=3.0))  # the 1.2 s files loop twice
    canvases, sounds = _canvases_and_audio(monkeypatch)
    record(scenario, tmp_path / "ahead", quiet=True)
    ahead = (list(canvases), list(sounds))
    canvases.clear()
    sounds.clear()
    monkeypatch.setattr(pipeline, "_read_ahead", lambda renderer, audio: DecodeWorkers())
    record(scenario, tmp_path / "plain", quiet=True)
    assert len(ahead[0]) == 45 and len(set(ahead[0])) >= 15  # the 1.2 s file's 18 pictures
    assert ahead == (canvases, sounds)
    assert _no_decode_threads()


def test_stopped_recording_leaves_no_decode_thread(
        clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    encode = pipeline.encode_frame
    count = [0]

    def stop_after_five(*args, **kw):  # type: ignore[no-untyped-def]
        count[0] += 1
        if count[0] == 5:
            stop.set()
        return encode(*args, **kw)

    monkeypatch.setattr(pipeline, "encode_frame", stop_after_five)
    result = record(parse_scenario(_files_doc(clip, duration=20.0)), tmp_path, quiet=True,
                    stop=stop)
    assert result.interrupted and result.frames == 5
    assert _no_decode_threads()


def test_failing_source_fails_the_recording_and_leaves_no_decode_thread(
        clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decode = FileVideo._decode

    def breaks_after_ten(self):  # type: ignore[no-untyped-def]
        for i, frame in enumerate(decode(self)):
            if i == 10:
                raise MediaError(f"{self.path}: the disk went away")
            yield frame

    monkeypatch.setattr(FileVideo, "_decode", breaks_after_ten)
    with pytest.raises(MediaError, match="the disk went away"):
        record(parse_scenario(_files_doc(clip, duration=3.0)), tmp_path, quiet=True)
    assert _no_decode_threads()
    assert not any(t.name.startswith("layoutkit-draw") and t.is_alive()
                   for t in threading.enumerate())


def test_benchmark_table_has_the_by_hand_row_with_its_target() -> None:
    import sys

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from benchmarks.run import _mix

    case = {"kind": "xstack", "seconds": 40, "pairs": 5, "ratio_ffmpeg_over_ours": 1.25,
            "cpu_ratio_ffmpeg_over_ours": 1.1, "target_ratio": 1.2,
            "ours": {"wall_s_median": 3.0}, "ffmpeg": {"wall_s_median": 3.75},
            "psnr_y_db_frame_10": {"ours": 37.4, "ffmpeg": 35.1}}
    rows = _mix({"cases": {"mix-640x360-bestfit-4-files-xstack": case}})
    assert len(rows) == 1
    row = rows[0]
    assert (row["case"], row["target"], row["meets_target"]) == (
        "mix-640x360-bestfit-4-files-xstack", 1.2, True)
    assert "xstack" in row["competitor_is"] and row["cpu_ratio"] == 1.1
    slower = _mix({"cases": {"mix-640x360-bestfit-4-files-xstack":
                             {**case, "ratio_ffmpeg_over_ours": 1.0}}})
    assert slower[0]["meets_target"] is False
