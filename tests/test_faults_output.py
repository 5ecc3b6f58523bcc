"""Hostile output (issue 9): full disks, concurrent runs, signals, leftovers, transfers.

Disk full, a second run into the same folder, signals, leftovers, --force over a longer
recording, HLS over HTTP (continuity counters, percent-encoded URIs), MP4 parts after a
rollover, and `layoutkit upload` after a failed upload.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import av
import m3u8
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layoutkit.cli import main
from layoutkit.cloudfiles.parse import parse_playlist
from layoutkit.errors import StorageError
from layoutkit.io.lock import FolderBusyError, folder_lock
from layoutkit.record import record
from layoutkit.scenario import parse_scenario

from .helpers import scenario_doc

ROOT = Path(__file__).resolve().parents[1]
SID = "00112233445566778899aabbccddeeff"
PUBLISHED = (".ts", ".mp4", ".m3u8", ".json")
FAST_FPS = 10  # the subprocess tests reach their first segment sooner (a valid fps)


def _ffmpeg() -> str:
    return pytest.importorskip("imageio_ffmpeg").get_ffmpeg_exe()


def _doc(*, duration=20, cname="room1", size=(320, 180), fps=15, users=None, sid=SID,
         av_types=("hls", "mp4"), start_utc="2026-03-04T05:06:07.089Z") -> dict:
    return scenario_doc(
        users or [{"uid": "1", "source": "testsrc", "audio": "tone"},
                  {"uid": "2", "source": "testsrc"}],
        cname=cname, duration=duration, sid=sid, start_utc=start_utc,
        transcoding={"width": size[0], "height": size[1], "fps": fps, "bitrate": 200,
                     "mixedVideoLayout": 1},
        file_config={"avFileType": list(av_types)})


def _write(tmp_path: Path, doc: dict, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _plays(ffmpeg: str, target: str) -> subprocess.CompletedProcess:
    """FFmpeg decodes ``target`` to the end, exiting on the first error or corrupt packet."""
    return subprocess.run([ffmpeg, "-v", "warning", "-xerror", "-i", target,
                           "-fps_mode", "passthrough", "-f", "framecrc", "-"],
                          capture_output=True, text=True, timeout=120)


def _video_frames(run: subprocess.CompletedProcess) -> int:
    return sum(1 for line in run.stdout.splitlines() if line.startswith("0,"))


def _temporaries_published(folder: Path) -> list[str]:
    """Hidden files that end in a published extension (a glob or a sync would take them)."""
    return [p.name for p in folder.rglob(".*") if p.name.endswith(PUBLISHED)]


def _assert_listed_files_whole(root: Path, ffmpeg: str) -> None:
    """Everything the playlist and serverResponse.json list exists and decodes cleanly."""
    for playlist in root.rglob("*.m3u8"):
        for seg in parse_playlist(playlist.read_text()).segments:
            path = playlist.parent / seg.file_name
            assert path.is_file(), f"{playlist.name} lists {seg.file_name}, not on disk"
            run = _plays(ffmpeg, str(path))
            assert run.returncode == 0 and "corrupt" not in run.stderr, run.stderr
    response = root / "serverResponse.json"
    if response.exists():
        doc = json.loads(response.read_text())
        names = [doc["fileList"]] if isinstance(doc["fileList"], str) else [
            f["fileName"] for f in doc["fileList"]]
        for name in names:
            assert (root / name).is_file(), f"serverResponse.json lists {name}, not on disk"
            run = _plays(ffmpeg, str(root / name))
            assert run.returncode == 0, run.stderr


# --- 1. disk full ---------------------------------------------------------------------------
@contextlib.contextmanager
def _small_filesystem(path: Path, kib: int):
    """Mount a tmpfs of ``kib`` KiB at ``path`` (root only); skip the test where it cannot."""
    path.mkdir()
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here ({run.stderr.strip()}); "
                    "the disk-full tests need root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _mix_on_small_disk(tmp_path: Path, kib: int) -> tuple[int, str, Path]:
    scenario = _write(tmp_path, _doc(duration=20))
    with _small_filesystem(tmp_path / "disk", kib) as disk:
        out, err = io.StringIO(), io.StringIO()
        code = main(["mix", str(scenario), "-o", str(disk / "o"), "--quiet"], out=out, err=err)
        # keep what is on the small disk for the checks after unmounting
        subprocess.run(["cp", "-a", str(disk / "o"), str(tmp_path / "kept")], check=False)
    return code, err.getvalue(), tmp_path / "kept"


@pytest.fixture(scope="module")
def whole_kib(tmp_path_factory):
    """KiB the 20 s recording takes on disk (each file in whole 4 KiB pages)."""
    out = tmp_path_factory.mktemp("whole")
    record(parse_scenario(_doc(duration=20)), out)
    pages = sum(-(-p.stat().st_size // 4096) for p in out.rglob("*") if p.is_file())
    return pages * 4


# a disk too small for: the first segment, the MP4 or the second segment, the playlist
@pytest.mark.parametrize("fraction", [0.3, pytest.param(0.6, marks=pytest.mark.slow),
                                      pytest.param(0.8, marks=pytest.mark.slow), 0.98])
def test_disk_full_is_an_error_and_nothing_listed_is_missing(tmp_path, whole_kib, fraction):
    ffmpeg = _ffmpeg()
    code, err, kept = _mix_on_small_disk(tmp_path, int(whole_kib * fraction))
    assert code == 1, err
    assert "No space left on device" in err and "Traceback" not in err, err
    assert "internal error" not in err and "recorded" not in err
    assert not (kept / "serverResponse.json").exists()  # the recording is not finished
    _assert_listed_files_whole(kept, ffmpeg)
    assert _temporaries_published(kept) == []


@pytest.mark.slow
def test_disk_full_at_every_size(tmp_path, whole_kib):
    """A disk full at every size gives an error or a whole recording, never less.

    From 20 % to 110 % of the space needed in 40 KiB steps.
    """
    ffmpeg = _ffmpeg()
    for kib in range(whole_kib // 5, whole_kib * 11 // 10, 40):
        case = tmp_path / str(kib)
        case.mkdir()
        code, err, kept = _mix_on_small_disk(case, kib)
        assert code in (0, 1), (kib, err)
        if code == 1:
            assert "No space left on device" in err and "Traceback" not in err, (kib, err)
            assert not (kept / "serverResponse.json").exists()
        _assert_listed_files_whole(kept, ffmpeg)
        assert _temporaries_published(kept) == []


def test_serverresponse_write_failure_is_a_storage_error(tmp_path, monkeypatch):
    import layoutkit.record.pipeline as pipeline

    real = pipeline.atomic_output

    def failing(path, **kwargs):
        if Path(path).name == "serverResponse.json":
            raise OSError(28, "No space left on device")
        return real(path, **kwargs)

    monkeypatch.setattr(pipeline, "atomic_output", failing)
    with pytest.raises(StorageError, match=r"serverResponse\.json: cannot write the stop "
                                           r"response \(No space left on device\)"):
        record(parse_scenario(_doc(duration=2, size=(160, 96))), tmp_path)


# --- 3. a lock on the output folder ---------------------------------------------------------
def _start_mix(scenario: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "LAYOUTKIT_NO_PROGRESS": "1"}
    return subprocess.Popen([sys.executable, "-m", "layoutkit", "mix", str(scenario), "-o",
                             str(out), "--quiet", *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_segment(proc: subprocess.Popen, folder: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mix ended early: {proc.communicate()}")
        if any(folder.glob("*.ts")):
            return
        time.sleep(0.02)
    pytest.fail("no segment within the time limit")


def _second_run_is_refused(first: subprocess.Popen, scenario: Path, out: Path) -> None:
    """Check that a second ``mix --force`` into ``out`` is refused and touches nothing.

    It runs while ``first`` records into ``out``.
    """
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.ts")}
    err = io.StringIO()
    code = main(["mix", str(scenario), "-o", str(out), "--quiet", "--force"],
                out=io.StringIO(), err=err)
    assert code == 1
    assert f"another recording is writing into this folder (pid {first.pid})" in \
        err.getvalue()
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.ts") if p.name in before} \
        == before  # the refused run touched nothing


def _record_again_after(tmp_path: Path, out: Path) -> None:
    """Once the first run has ended, the folder can be recorded into again."""
    short = _write(tmp_path, _doc(duration=2, size=(160, 96)), "short.json")
    assert main(["mix", str(short), "-o", str(out), "--quiet", "--force"],
                out=io.StringIO(), err=io.StringIO()) == 0


@pytest.mark.slow  # the default run refuses a second run in test_signal_closes_the_recording
def test_second_run_into_the_same_folder_is_refused(tmp_path):
    scenario = _write(tmp_path, _doc(duration=60, size=(160, 96), fps=FAST_FPS))
    out = tmp_path / "o"
    first = _start_mix(scenario, out)
    try:
        _wait_for_segment(first, out)
        _second_run_is_refused(first, scenario, out)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    _record_again_after(tmp_path, out)


def test_library_record_refuses_a_locked_folder(tmp_path):
    with (folder_lock(tmp_path / "o"),
          pytest.raises(FolderBusyError, match="another recording is writing")):
        record(parse_scenario(_doc(duration=1, size=(160, 96))), tmp_path / "o")


# --- 8. interrupts and kills ----------------------------------------------------------------
@pytest.mark.parametrize("sig", [pytest.param(signal.SIGINT, marks=pytest.mark.slow),
                                 signal.SIGTERM,
                                 pytest.param(signal.SIGHUP, marks=pytest.mark.slow)],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_closes_the_recording(tmp_path, sig):
    ffmpeg = _ffmpeg()
    scenario = _write(tmp_path, _doc(duration=60, size=(160, 96), fps=FAST_FPS))
    out = tmp_path / "o"
    proc = _start_mix(scenario, out)
    try:
        _wait_for_segment(proc, out)
        _second_run_is_refused(proc, scenario, out)  # while it records
        proc.send_signal(sig)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, stderr
    assert f"interrupted by {signal.Signals(sig).name}" in stderr and "Traceback" not in stderr
    playlist_path = out / f"{SID}_room1.m3u8"
    playlist = m3u8.loads(playlist_path.read_text())
    assert playlist.is_endlist and playlist.segments
    recorded = sum(s.duration for s in playlist.segments)
    assert 15 <= recorded < 60
    for seg in playlist.segments:  # every key the run printed as kept is whole
        assert f"  {seg.uri}" in stderr
    run = _plays(ffmpeg, str(playlist_path))  # one stream, no corrupt packet
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert _video_frames(run) == round(recorded * FAST_FPS)
    _assert_listed_files_whole(out, ffmpeg)
    with av.open(str(out / f"{SID}_room1_0.mp4")) as c:  # the MP4 was finished, not dropped
        assert abs(c.duration / 1e6 - recorded) < 0.2
    assert _temporaries_published(out) == []
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    _record_again_after(tmp_path, out)


def test_killed_run_leaves_no_published_temporary_and_the_next_run_removes_them(tmp_path):
    scenario = _write(tmp_path, _doc(duration=60, size=(160, 96), fps=FAST_FPS))
    out = tmp_path / "o"
    proc = _start_mix(scenario, out)
    try:
        _wait_for_segment(proc, out)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") and
                 p.name != ".layoutkit.lock"]
    assert leftovers and all(n.endswith(".part") for n in leftovers), leftovers
    assert _temporaries_published(out) == []
    # what is under a final name is whole: every listed segment plays, no MP4 was finalized
    playlist = m3u8.loads((out / f"{SID}_room1.m3u8").read_text())
    assert not playlist.is_endlist and playlist.segments
    ffmpeg = _ffmpeg()
    for segment in playlist.segments:
        run = _plays(ffmpeg, str(out / segment.uri))
        assert run.returncode == 0 and run.stderr == "", run.stderr
    finals = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    assert not [n for n in finals if n.endswith(".mp4")]
    assert {n for n in finals if n.endswith(".ts")} == {s.uri for s in playlist.segments}
    # an older run's naming (.<name>.<random>.part.mp4) is cleaned up too
    (out / f".{SID}_room1_0.mp4.abcd1234.part.mp4").write_bytes(b"old")
    err = io.StringIO()
    code = main(["mix", str(_write(tmp_path, _doc(duration=2, size=(160, 96)), "short.json")),
                 "-o", str(out), "--quiet", "--force"], out=io.StringIO(), err=err)
    assert code == 0, err.getvalue()
    assert "removed" in err.getvalue()
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == []  # the killed run's lock file too


def test_force_over_a_longer_recording_removes_its_files(tmp_path):
    small = {"size": (160, 96), "fps": FAST_FPS}
    long = _doc(duration=16, **small)
    long.pop("sid")
    first = record(parse_scenario(long), tmp_path)  # a random sid: 2 segments and an MP4
    assert len(list(first.folder.glob("*.ts"))) == 2
    short = record(parse_scenario(_doc(duration=3, **small)), tmp_path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        [*short.keys, "serverResponse.json"])
    assert len(short.removed) == 2 + 1 + 1 + 1  # segments, MP4, playlist, serverResponse.json
    # the same sid: the old segments beyond the new recording go too
    again = record(parse_scenario(_doc(duration=16, **small)), tmp_path, overwrite=True)
    assert len(again.keys) == 4
    record(parse_scenario(_doc(duration=3, **small)), tmp_path, overwrite=True)
    assert sorted(p.name for p in tmp_path.glob("*.ts")) == [f"{SID}_room1_20260304050607089.ts"]
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == [f"{SID}_room1_0.mp4"]


# --- 7. HLS over HTTP: continuity counters and percent-encoded URIs --------------------------
@contextlib.contextmanager
def _http_server(folder: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(folder)))
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def recorded_32s(tmp_path_factory):
    """Return ``get(cname)``, recording 32 s at 160x96 and 10 fps (three segments).

    Each cname is recorded once for the module's tests (which only read it).
    """
    made: dict[str, Any] = {}

    def get(cname: str) -> Any:
        if cname not in made:
            made[cname] = record(parse_scenario(_doc(duration=32, cname=cname, size=(160, 96),
                                                     fps=10)), tmp_path_factory.mktemp("r32"))
        return made[cname]
    return get


@pytest.mark.parametrize("cname", [pytest.param("room1", marks=pytest.mark.slow), "room#1",
                                   pytest.param("a:b", marks=pytest.mark.slow),
                                   pytest.param("room?x=1", marks=pytest.mark.slow),
                                   pytest.param("50% off", marks=pytest.mark.slow)])
def test_playlist_plays_over_http_without_a_corrupt_packet(recorded_32s, cname):
    ffmpeg = _ffmpeg()
    result = recorded_32s(cname)
    playlist = result.folder / f"{SID}_{cname}.m3u8"
    parsed = parse_playlist(playlist.read_text())
    assert len(parsed.segments) == 3
    assert [s.file_name for s in parsed.segments] == [k for k in result.keys if
                                                     k.endswith(".ts")]
    with _http_server(result.folder) as base:
        run = _plays(ffmpeg, base + quote(playlist.name))
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert _video_frames(run) == 320  # 32 s at 10 fps, every frame through the demuxer


def test_continuity_counters_run_on_across_segments(recorded_32s):
    """Read the TS packets of the segments in playlist order: no PID's counter jumps."""
    result = recorded_32s("room#1")  # the cname does not matter here
    playlist = parse_playlist(next(result.folder.glob("*.m3u8")).read_text())
    last: dict[int, int] = {}
    jumps = []
    for index, seg in enumerate(playlist.segments):
        data = (result.folder / seg.file_name).read_bytes()
        assert len(data) % 188 == 0
        for offset in range(0, len(data), 188):
            b1, b2, b3 = data[offset + 1:offset + 4]
            pid, cc = ((b1 & 0x1F) << 8) | b2, b3 & 0x0F
            if not b3 & 0x10 or pid == 0x1FFF:
                continue
            if pid in last and cc != (last[pid] + 1) % 16:
                jumps.append((index, offset, pid, last[pid], cc))
            last[pid] = cc
    assert jumps == []
    assert {0, 0x1000, 0x100, 0x101} <= set(last)  # PAT, PMT, video and audio


# --- 4. an MP4 part after a rollover starts at 0 ---------------------------------------------
def test_mp4_part_after_rollover_starts_at_zero(tmp_path, monkeypatch):
    import layoutkit.record.sinks as sinks
    from layoutkit.signals.idcode import read_code

    monkeypatch.setattr(sinks, "rollover_seconds", lambda profile: 15)
    doc = _doc(duration=20, users=[{"uid": "1", "source": "testsrc", "audio": "tone"}])
    result = record(parse_scenario(doc), tmp_path)
    part = result.folder / f"{SID}_room1_1.mp4"
    with av.open(str(part)) as c:
        video = c.streams.video[0]
        assert abs(c.duration / 1e6 - 5) < 0.1  # not 20 s with 15 s of nothing
        frames = list(c.decode(video=0))
    assert len(frames) == 5 * 15
    assert frames[0].time == 0 and video.start_time in (0, None)
    # its first picture is the one recorded at 15 s: the test stream's frame 225
    reading = read_code(frames[0].to_ndarray()[:180], src_wh=(640, 360), region=(0, 0, 320, 180))
    assert reading is not None and reading.frame == 15 * 15
    run = subprocess.run([_ffmpeg(), "-i", str(part)], capture_output=True, text=True)
    assert "Duration: 00:00:05.0" in run.stderr and "start: 0.000000" in run.stderr, run.stderr
    entries = result.server_response["fileList"]
    assert entries[2]["fileName"].endswith("_1.mp4")
    assert entries[2]["sliceStartTime"] == 1772600767089 + 15_000  # start_utc + 15 s


# --- 12. layoutkit upload after a failed upload ----------------------------------------------
def test_upload_command_after_a_failed_upload(tmp_path, s3_endpoint, raw, bucket):
    scenario = _write(tmp_path, _doc(duration=17, size=(160, 96)))
    out = tmp_path / "o"
    err = io.StringIO()
    code = main(["mix", str(scenario), "-o", str(out), "--quiet",
                 "--upload", f"s3://missing-{uuid.uuid4().hex[:8]}"], out=io.StringIO(), err=err)
    assert code == 1 and "NoSuchBucket" in err.getvalue()
    def status() -> str:
        return json.loads((out / "serverResponse.json").read_text())["uploadingStatus"]

    assert status() == "unknown"
    stdout, err = io.StringIO(), io.StringIO()
    code = main(["upload", str(out), f"s3://{bucket}/tenant"], out=stdout, err=err)
    assert code == 0, err.getvalue()
    assert status() == "uploaded"
    keys = sorted(o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"])
    local = sorted(f"tenant/{p.relative_to(out).as_posix()}" for p in out.rglob("*")
                   if p.is_file() and not p.name.startswith(".") and p.suffix != ".json")
    assert keys == local and len(keys) == 4  # 2 segments, the MP4, the playlist
    for key in keys:
        body = raw.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == (out / key.removeprefix("tenant/")).read_bytes()
    assert "uploaded 4 files" in stdout.getvalue()
    err = io.StringIO()
    assert main(["upload", str(out), "http://not-s3"], out=io.StringIO(), err=err) == 2
    assert "not an S3 URL" in err.getvalue()


def test_upload_refuses_an_unfinished_recording(tmp_path, s3_endpoint, bucket):
    import layoutkit as lk

    record(parse_scenario(_doc(duration=2, size=(160, 96))), tmp_path)
    assert len(lk.upload(tmp_path, f"s3://{bucket}")) == 3
    next(tmp_path.glob("*.ts")).unlink()
    err = io.StringIO()
    assert main(["upload", str(tmp_path), f"s3://{bucket}"], out=io.StringIO(), err=err) == 1
    assert "listed by the recording but missing; nothing was uploaded" in err.getvalue()
    (tmp_path / "serverResponse.json").unlink()
    err = io.StringIO()
    assert main(["upload", str(tmp_path), f"s3://{bucket}"], out=io.StringIO(), err=err) == 1
    assert "only a finished recording can be uploaded" in err.getvalue()
    with folder_lock(tmp_path), pytest.raises(FolderBusyError):
        lk.upload(tmp_path, f"s3://{bucket}")


def test_stop_event_ends_a_library_recording_with_whole_files(tmp_path, monkeypatch):
    """`record(stop=...)`: set after the first segment, the recording is finished there."""
    import layoutkit.record.sinks as sinks

    stop = threading.Event()
    real = sinks.PlaylistWriter.add

    def add(self, segment):
        real(self, segment)
        stop.set()  # as a signal handler would, once the first segment is listed

    monkeypatch.setattr(sinks.PlaylistWriter, "add", add)
    result = record(parse_scenario(_doc(duration=60, size=(160, 96), fps=FAST_FPS)), tmp_path,
                    stop=stop)
    assert result.interrupted and 15 <= result.duration < 18  # the encoder runs a few frames late
    playlist = m3u8.loads((tmp_path / f"{SID}_room1.m3u8").read_text())
    assert playlist.is_endlist and len(playlist.segments) == 2
    assert round(sum(s.duration for s in playlist.segments), 6) == float(result.duration)
    with av.open(str(tmp_path / f"{SID}_room1_0.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == result.frames == result.duration * FAST_FPS
    assert [e["fileName"] for e in result.server_response["fileList"]] == [
        f"{SID}_room1.m3u8", f"{SID}_room1_0.mp4"]


def test_keyboard_interrupt_in_the_library_ends_the_playlist(tmp_path, monkeypatch):
    """A KeyboardInterrupt in the library ends the playlist.

    Without a stop event a KeyboardInterrupt discards the open files, keeps the whole
    segments and still ends the playlist (players do not wait on it as live).
    """
    import layoutkit.record.sinks as sinks

    real = sinks.Sinks._open_segment

    def open_segment(self, when):
        if self.segment_names:
            raise KeyboardInterrupt
        real(self, when)

    monkeypatch.setattr(sinks.Sinks, "_open_segment", open_segment)
    with pytest.raises(KeyboardInterrupt):
        record(parse_scenario(_doc(duration=30, size=(160, 96), fps=FAST_FPS)), tmp_path)
    playlist = m3u8.loads((tmp_path / f"{SID}_room1.m3u8").read_text())
    assert playlist.is_endlist and len(playlist.segments) == 1
    assert not (tmp_path / "serverResponse.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{SID}_room1.m3u8", f"{SID}_room1_20260304050607089.ts"]


@given(st.text(st.characters(blacklist_characters="/\n\r\0", blacklist_categories=("Cs",)),
               min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_segment_uri_round_trips_through_the_compare_parser(name):
    from layoutkit.cloudfiles.parse import segment_file_name
    from layoutkit.cloudfiles.playlist import segment_uri

    uri = segment_uri(name)
    assert set(uri) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
    assert segment_file_name(uri) == name
    assert segment_file_name(f"https://cdn.example/rec/{uri}?token=1") == name


def test_continuity_counters_refuse_what_is_not_ts():
    from layoutkit.errors import MediaError
    from layoutkit.io.mpegts import ContinuityCounters

    with pytest.raises(MediaError, match="not a whole number of TS packets"):
        ContinuityCounters().renumber(b"\x47" * 200, source="x.ts")
    with pytest.raises(MediaError, match="no TS sync byte at offset 188"):
        ContinuityCounters().renumber(b"\x47" + bytes(187) + bytes(188), source="x.ts")


@pytest.mark.slow
def test_an_ignored_hangup_stays_ignored(tmp_path):
    """Under nohup (SIGHUP ignored) a hangup does not end the recording."""
    scenario = _write(tmp_path, _doc(duration=60, size=(160, 96), fps=FAST_FPS))
    out = tmp_path / "o"
    env = {**os.environ, "LAYOUTKIT_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "layoutkit", "mix", str(scenario), "-o",
                             str(out), "--quiet"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        _wait_for_segment(proc, out)
        proc.send_signal(signal.SIGHUP)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "recorded 60 s" in stdout and "interrupted" not in stderr
