"""compare's trust boundary (issue 18): a recording is untrusted input.

Nothing outside the recording's folder is opened (a Python audit hook sees every Python
``open``, a spy on ``av.open`` every file FFmpeg is given, a spy on ``os.stat`` every
look), playlists and stop responses are read only from regular files of at most 4 MiB,
what is printed is bounded and escaped, and every file is decoded once.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import av
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from layoutkit.cli import main
from layoutkit.cli.output import print_compare
from layoutkit.comparison.files import KINDS, check_files
from layoutkit.comparison.model import CompareResult, Difference
from layoutkit.comparison.read import open_recording
from layoutkit.comparison.report import render_report
from layoutkit.comparison.run import compare
from layoutkit.errors import MediaError, StorageError
from layoutkit.io.s3 import download_tree
from layoutkit.profile import Profile
from layoutkit.record import record
from layoutkit.scenario import parse_scenario

SID = "00112233445566778899aabbccddeeff"
CNAME = "room"
BASE = f"{SID}_{CNAME}"
FIRST = f"{BASE}_20260304050607089.ts"


def _doc(*, av_types=("hls",)) -> dict:
    rc = {"streamTypes": 2, "audioProfile": 0, "maxIdleTime": 30,
          "transcodingConfig": {"width": 320, "height": 180, "fps": 10, "bitrate": 150,
                                "mixedVideoLayout": 1, "backgroundColor": "#1E3C5A"}}
    return {
        "cname": CNAME, "sid": SID, "start_utc": "2026-03-04T05:06:07.089Z",
        "start": {"cname": CNAME, "uid": "999", "clientRequest": {
            "recordingConfig": rc, "recordingFileConfig": {"avFileType": list(av_types)}}},
        "duration": 2,
        "users": [{"uid": "1", "source": "#C82828", "audio": "tone"}],
        "events": [],
    }


# --- watching what is opened ----------------------------------------------------------------
_SEEN: list[list[str]] = []


def _hook(event: str, args: tuple) -> None:
    if event == "open" and _SEEN and args and isinstance(args[0], str | bytes | os.PathLike):
        _SEEN[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_hook)


#: The paths FFmpeg was handed since the start of the test session.
FFMPEG_OPENED: list[str] = []


@contextlib.contextmanager
def watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every path Python opens, FFmpeg is handed (``av.open``) or ``os.stat`` looks at."""
    paths: list[str] = []
    real_open, real_stat = av.open, os.stat

    def av_open(file, *a, **k):
        if isinstance(file, str | os.PathLike):
            paths.append(os.fsdecode(file))
            FFMPEG_OPENED.append(os.fsdecode(file))
        return real_open(file, *a, **k)

    def stat(path, *a, **k):
        if isinstance(path, str | bytes | os.PathLike):
            paths.append(os.fsdecode(path))
        return real_stat(path, *a, **k)

    monkeypatch.setattr(av, "open", av_open)
    monkeypatch.setattr(os, "stat", stat)
    _SEEN.append(paths)
    try:
        yield paths
    finally:
        _SEEN.pop()
        monkeypatch.setattr(av, "open", real_open)
        monkeypatch.setattr(os, "stat", real_stat)


def _touched(paths: list[str], secret: Path) -> list[str]:
    """Return the paths under ``secret`` (a folder outside the recording) that were looked at."""
    inside = str(secret)
    return [p for p in paths if os.path.abspath(p) == inside
            or os.path.abspath(p).startswith(inside + os.sep)]


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rec(tmp_path_factory) -> Path:
    """Record 2 s, HLS and MP4, 320x180 (one segment)."""
    out = tmp_path_factory.mktemp("rec")
    record(parse_scenario(_doc(av_types=("hls", "mp4"))), out)
    return out


@pytest.fixture
def case(rec, tmp_path) -> tuple[Path, Path]:
    """Return (recording folder copy, a secret folder beside it holding a real segment)."""
    folder = tmp_path / "recording"
    shutil.copytree(rec, folder)
    secret = tmp_path / "secret"
    secret.mkdir()
    shutil.copy(folder / FIRST, secret / "private.ts")
    (secret / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    return folder, secret


def _playlist(folder: Path, uris: list[str], *, name: str = f"{BASE}.m3u8") -> Path:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-ALLOW-CACHE:YES",
             "#EXT-X-TARGETDURATION:18"]
    for uri in uris:
        lines += ["#EXTINF:2.000,", uri]
    path = folder / name
    path.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]), encoding="utf-8")
    return path


def _outside_uris(folder: Path, secret: Path) -> list[str]:
    target = secret / "private.ts"
    return [quote(str(target), safe=""),                       # %2Ftmp%2F...%2Fprivate.ts
            "..%2Fsecret%2Fprivate.ts",                         # up, encoded
            "../secret/private.ts",                             # up, plain
            f"file://{quote(str(target))}",                     # another scheme
            str(target)]                                        # absolute, plain


def _differences(location: Path | str, **kw) -> list[Difference]:
    recording = open_recording(location, **kw)
    diffs, facts = check_files(recording, parse_scenario(_doc()), profile=Profile())
    json.dumps(facts)
    return diffs


# --- 1. file disclosure through a playlist ---------------------------------------------------
def test_encoded_and_plain_uris_out_of_the_folder_are_refused_unopened(case, monkeypatch):
    folder, secret = case
    uris = _outside_uris(folder, secret)
    _playlist(folder, [FIRST, *uris])
    with watched(monkeypatch) as paths:
        result = compare(parse_scenario(_doc()), folder)
    assert _touched(paths, secret) == [], "a file outside the recording was looked at"
    outside = [d for d in result.differences if d.kind == "outside_uri"]
    assert [d.file for d in outside] == uris
    assert all("not read" in d.message and "missing" not in d.message
               and "bytes" not in d.message for d in outside)
    assert "outside_uri" in KINDS


def test_an_outside_uri_tells_nothing_about_the_outside_path(case):
    """The difference is the same whether the outside file exists or not."""
    folder, _ = case
    messages = []
    for name in ("private.ts", "no-such-file.ts"):
        _playlist(folder, [FIRST, f"..%2Fsecret%2F{name}"])
        [d] = [d for d in _differences(folder) if d.kind == "outside_uri"]
        messages.append((d.message.replace(name, "NAME"), d.expected, d.observed))
    assert messages[0][0] == messages[1][0]


def test_a_symlinked_segment_leading_out_is_reported_not_followed(case, monkeypatch):
    folder, secret = case
    link = f"{BASE}_20260304050609089.ts"
    os.symlink(secret / "private.ts", folder / link)
    os.symlink("../secret/passwd", folder / "notes.json")  # walked, never read
    os.symlink(secret / "private.ts", folder / f"{BASE}_1.mp4")
    _playlist(folder, [FIRST, link])
    with watched(monkeypatch) as paths:
        result = compare(parse_scenario(_doc()), folder)
    assert _touched(paths, secret) == []
    kinds = [(d.kind, d.file) for d in result.differences
             if d.kind in ("outside_uri", "outside_link")]
    assert ("outside_uri", link) in kinds
    assert ("outside_link", f"{BASE}_1.mp4") in kinds and ("outside_link", "notes.json") in kinds


def test_a_link_inside_the_folder_is_followed(case):
    folder, _ = case
    os.symlink(FIRST, folder / "alias.ts")
    _playlist(folder, ["alias.ts"])
    recording = open_recording(folder)
    [seg] = recording.segments
    assert seg.exists and seg.real == (folder / FIRST).resolve()
    assert "alias.ts" not in [p.name for p in recording.unlisted_segments]


def test_an_s3_playlist_with_an_encoded_uri_opens_nothing_outside(case, raw, bucket, tmp_path,
                                                                 monkeypatch):
    folder, secret = case
    _playlist(folder, [FIRST, quote(str(secret / "private.ts"), safe=""),
                       "..%2F..%2Fsecret%2Fprivate.ts"])
    for path in folder.rglob("*"):
        if path.is_file():
            raw.upload_file(str(path), bucket, f"up/{path.relative_to(folder).as_posix()}")
    with watched(monkeypatch) as paths:
        diffs = _differences(f"s3://{bucket}/up", work_dir=tmp_path / "w")
    assert _touched(paths, secret) == []
    assert [d.kind for d in diffs].count("outside_uri") == 2


def test_s3_keys_with_dot_dot_land_nowhere_outside(raw, bucket, tmp_path):
    raw.put_object(Bucket=bucket, Key="up/a.ts", Body=b"x")
    raw.put_object(Bucket=bucket, Key="up/../../escape.ts", Body=b"x")
    with pytest.raises(StorageError, match=r"up/\.\./\.\./escape\.ts: the key has .* nothing was"):
        download_tree(f"s3://{bucket}/up", tmp_path / "w")
    assert not (tmp_path / "escape.ts").exists() and not Path("/escape.ts").exists()


# --- 2. unbounded reads -----------------------------------------------------------------------
_SCRIPT = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
from layoutkit.comparison.read import open_recording
start = time.monotonic()
try:
    open_recording(sys.argv[1], **({"server_response": sys.argv[2]} if sys.argv[2:] else {}))
    print("opened")
except Exception as exc:
    print(type(exc).__name__, exc)
print(round(time.monotonic() - start, 1))
"""


def _open_elsewhere(*args: str) -> tuple[str, float]:
    """open_recording in a child with 2 GB of memory and 20 s (today's code hangs or grows)."""
    import layoutkit

    env = {**os.environ, "PYTHONPATH": str(Path(layoutkit.__file__).resolve().parents[1])}
    try:
        run = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True,
                             text=True, timeout=20, env=env, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("open_recording blocked for 20 s")
    *lines, seconds = run.stdout.strip().splitlines() or ["", "nan"]
    return "\n".join(lines) + run.stderr[-500:], float(seconds)


@pytest.mark.parametrize("what", ["playlist link to /dev/zero", "FIFO playlist",
                                  "given playlist link to /dev/zero", "given FIFO playlist",
                                  "response link to /dev/zero", "FIFO response",
                                  "server_response /dev/zero", "server_response FIFO"])
def test_devices_and_fifos_are_refused_at_once(case, what):
    folder, _ = case
    extra: list[str] = []
    location = str(folder)
    if what.startswith("given"):
        location = str(folder / "given.m3u8")
        (os.mkfifo if "FIFO" in what else lambda p: os.symlink("/dev/zero", p))(location)
        extra = [location]
    elif what.startswith("playlist"):
        os.symlink("/dev/zero", folder / "zzz.m3u8")
    elif what == "FIFO playlist":
        os.mkfifo(folder / "zzz.m3u8")
    elif what.startswith("response link"):
        (folder / "serverResponse.json").unlink()
        os.symlink("/dev/zero", folder / "serverResponse.json")
    elif what == "FIFO response":
        (folder / "serverResponse.json").unlink()
        os.mkfifo(folder / "serverResponse.json")
    elif what.endswith("/dev/zero"):
        extra = ["/dev/zero"]
    else:
        os.mkfifo(folder.parent / "fifo.json")
        extra = [str(folder.parent / "fifo.json")]
    text, seconds = _open_elsewhere(location, *[e for e in extra if e != location])
    assert seconds < 10, text
    if extra:  # given by the user: refused with its path and the rule
        assert text.startswith("MediaError") and extra[0] in text, text
        assert "not a regular file" in text, text
    else:  # found in the folder: reported, not read (the recording still opens)
        assert text == "opened", text
        diffs = _differences(folder)
        assert {d.kind for d in diffs} & {"special_file", "outside_link"}, diffs


def _within(seconds: float, call) -> BaseException | None:
    """Return what ``call()`` raised, failing when it is still running after ``seconds``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still blocked after {seconds} s")
    return outcome[0]


def test_a_fifo_segment_is_refused_and_never_opened(case):
    folder, _ = case
    fifo = folder / f"{BASE}_20260304050609089.ts"
    os.mkfifo(fifo)
    _playlist(folder, [FIRST, fifo.name])
    diffs = [d for d in _differences(folder) if d.kind == "special_file"]
    assert [d.file for d in diffs] == [fifo.name]
    assert "is a FIFO (named pipe), not a regular file" in diffs[0].message
    # a segment swapped for a FIFO after the folder was read: refused by the readers too
    from layoutkit.io.probe import inspect_media
    from layoutkit.io.recorded import iter_video

    for call in (lambda: inspect_media(fifo), lambda: list(iter_video([fifo]))):
        error = _within(10, call)
        assert isinstance(error, MediaError) and "not a regular file" in str(error)


def test_a_playlist_over_4_mib_is_refused_naming_it(case):
    folder, _ = case
    big = _playlist(folder, [FIRST])
    with big.open("a") as f:
        f.write("#" + "x" * (5 * 2**20) + "\n")
    with pytest.raises(MediaError, match=r"\.m3u8: larger than 4 MiB; a playlist is at most"):
        open_recording(folder)
    huge_line = _playlist(folder, ["a" * 3 * 2**20 + ".ts"])  # fits: refused as a URI
    [d] = [d for d in _differences(huge_line) if d.kind == "bad_uri"]
    assert "longer than 1024 characters (3145731)" in d.message and len(d.message) < 400


def test_a_folder_of_many_playlists_is_refused_not_read(tmp_path):
    for i in range(101):
        _playlist(tmp_path, [f"s{i}.ts"], name=f"p{i}.m3u8")
    with pytest.raises(MediaError, match=r"101 \.m3u8 files, more than 100; not one recording"):
        open_recording(tmp_path)


# --- 3. sizes, repeats and counts -------------------------------------------------------------
def test_a_very_long_uri_is_refused_with_a_short_message(case):
    folder, _ = case
    _playlist(folder, [FIRST, "a" * 50_000 + ".ts", "b" * 300 + ".ts"])
    diffs = [d for d in _differences(folder) if d.kind == "bad_uri"]
    assert len(diffs) == 2 and all(len(d.message) < 400 for d in diffs)
    assert "longer than 1024 characters (50003)" in diffs[0].message
    assert "longer than 255 bytes" in diffs[1].message


def test_one_file_listed_many_times_is_decoded_once(case, monkeypatch):
    folder, _ = case
    _playlist(folder, [FIRST] * 60)
    FFMPEG_OPENED.clear()
    with watched(monkeypatch):
        start = time.monotonic()
        result = compare(parse_scenario(_doc()), folder)
        took = time.monotonic() - start
    ffmpeg = [p for p in FFMPEG_OPENED if Path(p).name == FIRST]
    assert len(ffmpeg) <= 4, f"{len(ffmpeg)} opens of one segment"
    assert [d.kind for d in result.differences].count("repeated_segment") == 59
    assert took < 30


@pytest.mark.parametrize("n", [20_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_many_segments_print_a_bounded_report(tmp_path, n):
    folder = tmp_path / "rec"
    folder.mkdir()
    _playlist(folder, [f"s{i}.ts" for i in range(n)])  # 100,000: 2.5 MB
    result = compare(parse_scenario(_doc()), folder)
    out = io.StringIO()
    print_compare(result, out)  # what compare prints
    lines = out.getvalue().splitlines()
    assert len(lines) < 40, f"{len(lines)} lines"
    assert f"... and {n - 10} more missing_segment (10 of {n} shown" in out.getvalue()
    doc = json.loads(json.dumps(result.to_json()))  # what compare --json prints
    assert doc["omitted_differences"] == {"missing_segment": n - 1000, "bad_name": n - 1000,
                                          "segment_length": n - 1001}
    assert len(doc["files"]["segments"]) == 1000 and doc["files"]["segments_total"] == n


# --- 4. terminal and page injection ----------------------------------------------------------
_HOSTILE = ["\x1b]0;TITLE\x07.ts", "\x1b[2J.ts", "x.ts\nverdict: match", "evil\u202egnp.ts",
            "\u2066iso\u2069.ts", "c1\x9b31m.ts"]
_RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069")


def test_names_reach_no_terminal_json_or_page_raw(case, tmp_path):
    folder, _ = case
    _playlist(folder, [FIRST, *[quote(n, safe="") for n in _HOSTILE]])
    (tmp_path / "scenario.json").write_text(json.dumps(_doc()))
    report = tmp_path / "r.html"
    out, err = io.StringIO(), io.StringIO()
    main(["compare", str(tmp_path / "scenario.json"), str(folder), "--report", str(report)],
         out=out, err=err)
    text = out.getvalue()
    assert not [c for c in _RAW if c in text], text
    assert [ln for ln in text.splitlines() if ln.startswith("verdict")] == \
        [text.splitlines()[0]]
    assert "\\x1b]0;TITLE\\x07.ts" in text and "evil\\u202egnp.ts" in text
    page = report.read_text(encoding="utf-8")
    assert not [c for c in _RAW if c in page]
    assert "evil\\u202egnp.ts" in page
    out = io.StringIO()
    main(["compare", str(tmp_path / "scenario.json"), str(folder), "--json"], out=out, err=err)
    assert not [c for c in _RAW if c in out.getvalue()]
    strings = json.dumps(json.loads(out.getvalue()), ensure_ascii=False)
    assert "\\\\x1b[2J.ts" in strings and not [c for c in _RAW if c in strings]


def test_the_report_escapes_every_text_it_shows():
    result = CompareResult(verdict="differ", differences=(
        Difference(kind="missing_segment", message="a\u202eb\x1b[2J", file="\u202ex.ts"),),
        files={"segments": [{"file": "\x1b]0;T\x07"}]}, error="e\u2067")
    page = render_report(result, title="t\u202e")
    assert not [c for c in (*_RAW, "\u2067") if c in page]


# --- 5. messages a user can act on -----------------------------------------------------------
def test_an_mp4_named_ts_is_said_to_be_mp4(case):
    folder, _ = case
    shutil.copy(folder / f"{BASE}_0.mp4", folder / FIRST)
    diffs = _differences(folder)
    [d] = [d for d in diffs if d.kind == "not_mpegts"]
    assert "is an MP4 file, not MPEG-TS" in d.message
    assert "truncated_segment" not in {x.kind for x in diffs}


def test_a_key_that_is_also_a_folder_is_a_clear_storage_error(raw, bucket, tmp_path):
    raw.put_object(Bucket=bucket, Key="p/x", Body=b"1")
    raw.put_object(Bucket=bucket, Key="p/x/y.ts", Body=b"2")
    with pytest.raises(StorageError, match=r"s3://.*/p/x.*p/x/y\.ts") as info:
        download_tree(f"s3://{bucket}/p", tmp_path / "w")
    assert "FileExistsError" not in str(info.value)


# --- 6. fuzz: no playlist URI opens anything outside ----------------------------------------
_PIECES = st.sampled_from(["..", ".", "%2E%2E", "%2e.", "%2F", "/", "\\", "%5C", "%00", "\x00",
                           "file://", "http://h/", "https://h/a/", "s3://b/", "C:", "~",
                           "secret", "private.ts", "%252F", "?q=1", "#f", "%", "%zz", " ",
                           "\u202e", "\x1b[2J", "a" * 300])
_URIS = (st.lists(_PIECES, min_size=1, max_size=8).map("".join)
         | st.text(st.characters(codec="utf-8"), max_size=40))


@pytest.fixture(scope="module")
def fuzz_case(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("fuzz")
    folder, secret = base / "recording", base / "secret"
    folder.mkdir()
    secret.mkdir()
    (secret / "private.ts").write_bytes(b"G" * 188)
    (folder / "secret").mkdir()  # an inside folder of the same name
    return folder, secret


def _check_uri(fuzz_case: tuple[Path, Path], uri: str) -> None:
    """Check that opening and the file check look at nothing in the secret folder.

    open_recording and the file check (packets walked, not decoded) look at nothing in the
    secret folder beside the recording, whatever the URI.
    """
    folder, secret = fuzz_case
    uri = uri.replace("\n", "").replace("\r", "")
    _playlist(folder, [uri, f"../secret/{uri}", f"%2E%2E%2Fsecret%2F{quote(uri, safe='')}"])
    with pytest.MonkeyPatch.context() as mp, watched(mp) as paths:
        try:
            recording = open_recording(folder)
        except MediaError:
            return
        check_files(recording, parse_scenario(_doc()), decode=False)
    assert _touched(paths, secret) == []
    for seg in recording.segments:
        assert seg.problem is not None or seg.real is None \
            or seg.real.is_relative_to(folder.resolve()), seg


def _fuzz(n: int):
    @settings(max_examples=n, deadline=None, database=None, derandomize=n < 1000,
              suppress_health_check=list(HealthCheck))
    @given(uri=_URIS)
    @example(uri="%2Fetc%2Fpasswd")
    @example(uri="private.ts")
    @example(uri="..%2F..%2F..%2Fetc%2Fhostname")
    def check(fuzz_case, uri):
        _check_uri(fuzz_case, uri)

    return check


test_fuzz_playlist_uris = _fuzz(150)
test_fuzz_playlist_uris_slow = pytest.mark.slow(_fuzz(10_000))
