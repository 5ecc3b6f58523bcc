"""Issue 18 (trust boundaries), paths and files.

FFmpeg gets local files as ``file:`` paths (item 8), a run leaves no lock and a refused mix
no folder, validate and mix agree on source files (item 9), a secret's value is never
printed (item 10), request and scenario files are read only when regular and bounded (item
11).
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import av
import pytest

from layoutkit.cli import main

from .helpers import scenario_doc

ROOT = Path(__file__).resolve().parents[1]


def _ffmpeg() -> str:
    return pytest.importorskip("imageio_ffmpeg").get_ffmpeg_exe()


def _clip(path: Path, *, color: str, seconds: float = 1) -> Path:
    """Make a tiny 160x120 H.264 clip of one colour (``path`` may be any file name)."""
    run = subprocess.run([_ffmpeg(), "-v", "error", "-f", "lavfi", "-i",
                          f"color=c={color}:s=160x120:r=10:d={seconds}", "-c:v", "libx264",
                          "-pix_fmt", "yuv420p", "-y", f"file:{path}"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return path


def _request(folder: Path) -> Path:
    path = folder / "start.json"
    path.write_text(json.dumps({"cname": "c", "uid": "1", "clientRequest": {
        "recordingConfig": {"transcodingConfig": {"width": 160, "height": 120, "fps": 10,
                                                  "bitrate": 100, "mixedVideoLayout": 1}},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "k",
                          "secretKey": "s"}}}))
    return path


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _centre_rgb(path: Path) -> tuple[int, int, int]:
    with av.open(f"file:{path}") as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    r, g, b = frame[60, 80].tolist()
    return r, g, b


# --- item 8: layoutkit ffmpeg hands FFmpeg file: paths, never a URL output -------------------
def test_ffmpeg_run_reads_a_file_named_like_a_protocol(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _clip(tmp_path / "a:b.mp4", color="red")
    code, _out, err = _cli("ffmpeg", str(_request(tmp_path)), "--input", "1=a:b.mp4",
                           "-o", "o:1.mp4", "--run")
    assert code == 0, err  # was "Protocol not found"
    r, g, b = _centre_rgb(tmp_path / "o:1.mp4")
    assert r > 180 and g < 60 and b < 60


def test_ffmpeg_run_reads_a_concat_named_file_as_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _clip(tmp_path / "x.mp4", color="blue")
    _clip(tmp_path / "concat:x.mp4|x.mp4", color="red", seconds=2)
    code, _out, err = _cli("ffmpeg", str(_request(tmp_path)), "--input", "1=concat:x.mp4|x.mp4",
                           "-o", "o.mp4", "--run", "--no-audio")
    assert code == 0, err
    r, g, b = _centre_rgb(tmp_path / "o.mp4")  # the named file (red), not x.mp4 (blue)
    assert r > 180 and b < 60, (r, g, b)
    with av.open(f"file:{tmp_path / 'o.mp4'}") as container:
        assert container.duration / 1e6 > 1.5  # the 2 s file, not 1 s x.mp4 (or its halves)


def test_ffmpeg_prints_file_paths_for_inputs_and_output(tmp_path, monkeypatch):
    import shlex

    monkeypatch.chdir(tmp_path)
    _clip(tmp_path / "a:b.mp4", color="red")
    code, out, err = _cli("ffmpeg", str(_request(tmp_path)), "--input", "1=a:b.mp4",
                          "-o", "o.mp4")
    assert code == 0, err
    printed = shlex.split(out)
    assert printed[printed.index("-i") + 1] == f"file:{tmp_path / 'a:b.mp4'}"
    assert printed[-1] == f"file:{tmp_path / 'o.mp4'}"
    assert "file:/absolute/path" in err


def test_ffmpeg_refuses_a_url_output_and_connects_nowhere(tmp_path):
    _clip(tmp_path / "x.mp4", color="red")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    connections: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:  # records (and hangs up on) anyone who connects
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    connections.append(conn.recv(200))
                except OSError:
                    connections.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        code, _out, err = _cli("ffmpeg", str(_request(tmp_path)), "--input",
                               f"1={tmp_path / 'x.mp4'}", "-o",
                               f"http://127.0.0.1:{port}/o.mp4", "--run")
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert connections == []  # was: POST /o.mp4
    assert code == 2
    assert f"http://127.0.0.1:{port}/o.mp4: the output must be a local file, not a URL" in err


# --- item 10: a secret's value is never printed, whatever its type ---------------------------
SECRETS = {"secretKey": ["TOPSECRET-LIST"], "accessKey": {"k": "TOPSECRET-OBJECT"}}


def _secret_request() -> dict:
    return {"cname": "c", "uid": "1", "clientRequest": {
        "token": 987654321,
        "recordingConfig": {"decryptionMode": 1, "secret": 123454321,
                            "transcodingConfig": {"width": 160, "height": 120, "fps": 10,
                                                  "bitrate": 100, "mixedVideoLayout": 1}},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", **SECRETS}}}


def _assert_no_secret(text: str) -> None:
    for secret in ("TOPSECRET", "987654321", "123454321"):
        assert secret not in text, text


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_validate_never_echoes_a_secret_of_the_wrong_type(tmp_path, json_flag):
    path = tmp_path / "start.json"
    path.write_text(json.dumps(_secret_request()))
    code, out, err = _cli("validate", *json_flag, str(path))
    assert code == 1
    _assert_no_secret(out + err)
    assert ("clientRequest.storageConfig.secretKey: must be a string (got an array; a "
            "secret's value is never shown)") in err
    assert "clientRequest.storageConfig.accessKey: must be a string (got an object" in err
    assert "clientRequest.token: must be a string (got a number" in err
    assert "clientRequest.recordingConfig.secret: must be a string (got a number" in err


def test_a_scenario_and_a_repeated_key_never_show_a_secret(tmp_path):
    import layoutkit as lk
    from layoutkit.errors import RequestError

    doc = scenario_doc(storage={"vendor": 1, "region": 0, "bucket": "b", **SECRETS})
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    code, out, err = _cli("validate", str(path))
    assert code == 1 and "users" not in err
    _assert_no_secret(out + err)
    assert "start.clientRequest.storageConfig.secretKey: must be a string (got an array" in err
    with pytest.raises(RequestError) as info:  # the library's problems hold no secret either
        lk.load_scenario(doc)
    _assert_no_secret(repr(info.value.problems) + str(info.value))
    text = json.dumps(_secret_request())
    repeated = text.replace('"bucket": "b"', '"secretKey": "TOPSECRET-FIRST", "bucket": "b"')
    path.write_text(repeated)
    code, out, err = _cli("validate", str(path))
    _assert_no_secret(out + err)
    assert "secretKey: duplicate key: only its last value is used" in err


# --- item 11: request and scenario files: regular files only, bounded ------------------------
def _scenario_file(folder: Path, name: str = "s.json", **doc_options) -> Path:
    doc = scenario_doc([{"uid": "1"}], duration=1,
                       transcoding={"width": 160, "height": 96, "fps": 10, "bitrate": 40,
                                    "mixedVideoLayout": 1}, **doc_options)
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


def _run_cli(*argv: str, timeout: float = 30, **options) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LAYOUTKIT_NO_PROGRESS": "1"}
    return subprocess.run([sys.executable, "-m", "layoutkit", *argv], capture_output=True,
                          text=True, timeout=timeout, env=env, **options)


@pytest.mark.parametrize("argv", [["validate"], ["preview", "--at", "0", "-o", "p.png"],
                                  ["compare", "rec"]], ids=["validate", "preview", "compare"])
def test_dev_zero_as_the_scenario_is_refused_without_reading_it(tmp_path, monkeypatch, argv):
    import tracemalloc

    monkeypatch.chdir(tmp_path)
    (tmp_path / "rec").mkdir()
    command, *rest = argv
    tracemalloc.start()
    try:
        code, _out, err = _cli(command, "/dev/zero", *rest)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 1
    assert "/dev/zero: is a character device, not a regular file" in err, err
    assert "(None)" not in err
    assert peak < 16 * 2**20, peak  # was 64 MiB read before the size was looked at


def test_a_fifo_as_the_request_is_refused_at_once(tmp_path):
    fifo = tmp_path / "req.json"
    os.mkfifo(fifo)
    run = _run_cli("validate", str(fifo), timeout=20)  # nobody writes: must not wait
    assert run.returncode == 1
    assert f"{fifo}: is a FIFO (named pipe), not a regular file" in run.stderr, run.stderr


def test_a_folder_as_the_request_is_refused_with_its_path(tmp_path):
    code, _out, err = _cli("validate", str(tmp_path))
    assert code == 1 and f"{tmp_path}: is a folder, not a file" in err, err


def test_process_substitution_and_stdin_still_work_and_are_bounded(tmp_path):
    path = _scenario_file(tmp_path)
    cmd = f"{sys.executable} -m layoutkit validate <(cat {path})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30,
                         env=env)
    assert run.returncode == 0 and "valid scenario" in run.stdout, run.stderr
    run = _run_cli("validate", "-", input=path.read_text())
    assert run.returncode == 0 and "valid scenario" in run.stdout, run.stderr
    big = f"{sys.executable} -m layoutkit validate <(head -c 70000000 /dev/zero)"
    run = subprocess.run(["bash", "-c", big], capture_output=True, text=True, timeout=60,
                         env=env)
    assert run.returncode == 1
    assert "larger than 64 MiB; not a request or scenario file" in run.stderr, run.stderr
    assert "cannot be read" not in run.stderr
    with open("/dev/zero", "rb") as zero:
        run = _run_cli("validate", "-", stdin=zero)
    assert run.returncode == 1
    assert "standard input: is a character device, not text" in run.stderr, run.stderr


# --- item 9: no lock file after a run; a refused mix makes no folder; validate agrees --------
def test_a_finished_mix_leaves_no_lock_file(tmp_path):
    out = tmp_path / "out"
    code, _, err = _cli("mix", str(_scenario_file(tmp_path)), "-o", str(out), "--quiet")
    assert code == 0, err
    assert not (out / ".layoutkit.lock").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_failed_library_recording_leaves_no_lock_file(tmp_path, monkeypatch):
    import layoutkit.record.sinks as sinks
    from layoutkit.record import record
    from layoutkit.scenario import parse_scenario

    def fail(self, when):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sinks.Sinks, "_open_segment", fail)
    doc = json.loads(_scenario_file(tmp_path).read_text())
    with pytest.raises(OSError):
        record(parse_scenario(doc), tmp_path / "out")
    assert not (tmp_path / "out" / ".layoutkit.lock").exists()


def _missing_files_scenario(folder: Path) -> Path:
    doc = scenario_doc([{"uid": "1", "source": "clip.mp4", "audio": "voice.wav"},
                        {"uid": "2", "source": "pic.png"}], duration=1,
                       transcoding={"width": 160, "height": 96, "fps": 10, "bitrate": 40,
                                    "mixedVideoLayout": 1})
    path = folder / "s.json"
    path.write_text(json.dumps(doc))
    return path


def test_validate_and_mix_refuse_the_same_missing_files_and_mix_makes_no_folder(tmp_path):
    scenario = _missing_files_scenario(tmp_path)
    expected = [f"users[0].source (clip.mp4 -> {tmp_path / 'clip.mp4'}): no such video file",
                f"users[1].source (pic.png -> {tmp_path / 'pic.png'}): no such video file",
                f"users[0].audio (voice.wav -> {tmp_path / 'voice.wav'}): no such audio file"]
    code, out, err = _cli("validate", str(scenario))
    assert code == 1, out  # was "valid scenario"
    for line in expected:
        assert f"{scenario}: code 2: {line}" in err, err
    out_dir = tmp_path / "new" / "out"
    code, _, err = _cli("mix", str(scenario), "-o", str(out_dir), "--quiet")
    assert code == 1
    for line in expected:
        assert line in err, err
    assert not (tmp_path / "new").exists()  # was: new/out/.layoutkit.lock


def test_a_library_mix_refused_for_its_files_makes_no_folder(tmp_path):
    import layoutkit as lk
    from layoutkit.errors import ScenarioError

    scenario = _missing_files_scenario(tmp_path)
    with pytest.raises(ScenarioError) as info:
        lk.mix(scenario, tmp_path / "new" / "out")
    assert len(info.value.problems) == 3
    assert not (tmp_path / "new").exists()


def test_a_garbage_source_is_an_error_for_validate_as_for_mix(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"not a video" * 100)
    scenario = _missing_files_scenario(tmp_path)
    doc = json.loads(scenario.read_text())
    doc["users"] = [{"uid": "1", "source": "clip.mp4"}]
    scenario.write_text(json.dumps(doc))
    for argv in (["validate"], ["mix", "-o", str(tmp_path / "out"), "--quiet"]):
        code, _, err = _cli(argv[0], str(scenario), *argv[1:])
        assert code == 1
        assert (f"code 2: users[0].source (clip.mp4 -> {tmp_path / 'clip.mp4'}): not a "
                "readable video file") in err, err
    assert not (tmp_path / "out").exists()


def test_a_run_that_locked_a_removed_lock_file_tries_again_and_finds_the_folder_busy(
        tmp_path, monkeypatch):
    """A lock taken on a removed lock file is retried and finds the folder busy.

    The race removing the lock file opens: run B opened A's lock file; A ends (removing it)
    and C locks a new one; B's lock of the old file must not count.
    """
    import fcntl

    from layoutkit.io.lock import FolderBusyError, folder_lock

    first = folder_lock(tmp_path)
    first.__enter__()
    holders = []
    real = fcntl.flock
    calls = []

    def flock(fd, operation):
        calls.append(fd)
        if len(calls) == 1:  # B has opened A's file: A ends, C takes the folder
            first.__exit__(None, None, None)
            third = folder_lock(tmp_path)
            third.__enter__()
            holders.append(third)
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    with pytest.raises(FolderBusyError), folder_lock(tmp_path):  # B
        pass
    monkeypatch.setattr(fcntl, "flock", real)
    holders[0].__exit__(None, None, None)
    with folder_lock(tmp_path):  # free again once C ended
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_kept(tmp_path):
    from layoutkit.errors import StorageError
    from layoutkit.io.lock import folder_lock

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".layoutkit.lock").symlink_to(victim)
    with pytest.raises(StorageError, match="lock file"), folder_lock(out):
        pass
    assert victim.read_text() == "keep me"  # was truncated to the pid
