"""Hostile inputs (issue 9, input side): each test feeds the kind of input that failed.

Image bombs, sources whose timestamps do not start at 0, damaged packets, raw streams,
FIFOs / devices / folders / ``pipe:0`` / protocol-looking names as sources, unbounded
durations and sizes, and the inputs that used to give an "internal error".
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import threading
import warnings
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.cli import main
from layoutkit.errors import MediaError, ScenarioError
from layoutkit.io.decode import DamagedMediaWarning, FileVideo, media_location
from layoutkit.io.images import ImageIgnoredWarning, load_image
from tests.helpers import jpeg_claiming, scenario_doc

PACKAGE = Path(lk.__file__).parent


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _make_video(path: Path, *, size: str = "160x120", seconds: float = 2, fps: int = 15,
                extra: tuple[str, ...] = (), source: str | None = None) -> Path:
    """Make a real H.264 file with FFmpeg (testsrc2 changes every frame)."""
    lavfi = source or f"testsrc2=size={size}:rate={fps}:duration={seconds}"
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", lavfi,
                    "-c:v", "libx264", "-preset", "veryfast", "-g", str(fps), "-pix_fmt", "yuv420p",
                    *extra, str(path)],
                   check=True, timeout=60)
    return path


def _ffmpeg_frames(path: Path, size_wh: tuple[int, int], n: int) -> list[np.ndarray]:
    """Return the first ``n`` frames as FFmpeg decodes them (yuv420p planes, the second reader)."""
    w, h = size_wh
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-frames:v", str(n),
                          "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         check=True, capture_output=True, timeout=60).stdout
    step = w * h * 3 // 2
    return [np.frombuffer(raw[i:i + step], np.uint8).reshape(h * 3 // 2, w)
            for i in range(0, len(raw), step)]


def _start_time(path: Path) -> float:
    """Return the container's first timestamp, read by FFmpeg."""
    text = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True, timeout=60).stderr
    return float(re.search(r"start: ([0-9.]+)", text)[1])


def _frozen(frames: list[np.ndarray]) -> int:
    return sum(np.array_equal(a, b) for a, b in pairwise(frames))


# --- item 5: timestamps that do not start at 0 ---------------------------------------------
@pytest.mark.parametrize(("offset", "expected_start"), [(0.07, 1.47), (10, 11.4)])  # + 1.4 mux
def test_ts_with_a_start_offset_neither_freezes_at_the_start_nor_at_each_loop(
        tmp_path, offset, expected_start):
    path = _make_video(tmp_path / "offset.ts", seconds=2,
                       extra=("-output_ts_offset", str(offset)))
    assert expected_start <= _start_time(path) < expected_start + 0.1  # (+ B-frame delay)
    reference = _ffmpeg_frames(path, (160, 120), 30)
    with FileVideo(path) as video:
        frames = [video.frame_i420(Fraction(i, 15)) for i in range(90)]  # three passes
    assert _frozen(frames) == 0
    for i in (0, 1, 29):  # the first frame is shown at 0 s, and again at each loop
        assert np.array_equal(frames[i], reference[i])
        assert np.array_equal(frames[30 + i], reference[i])
        assert np.array_equal(frames[60 + i], reference[i])


# --- item 6: one damaged packet must not abort the recording ---------------------------------
def _damage(path: Path, out: Path, *, hits: int = 16, seed: int = 1) -> Path:
    """Overwrite ``hits`` runs of 64 bytes in the middle of a real H.264 file."""
    data = bytearray(path.read_bytes())
    rnd = random.Random(seed)
    for k in range(hits):
        pos = int(len(data) * 0.3) + k * 2000
        data[pos:pos + 64] = bytes(rnd.randrange(256) for _ in range(64))
    out.write_bytes(bytes(data))
    return out


def test_damaged_packets_are_skipped_the_last_good_frame_held_and_named(tmp_path):
    bad = _damage(_make_video(tmp_path / "good.mp4", size="320x240", seconds=4),
                  tmp_path / "bad.mp4")
    ffmpeg_run = subprocess.run([ffmpeg(), "-v", "error", "-i", str(bad), "-f", "null", "-"],
                                capture_output=True, text=True, timeout=60)
    assert ffmpeg_run.returncode == 0 and "error" in ffmpeg_run.stderr  # FFmpeg skips them too
    doc = scenario_doc([{"uid": "1", "source": "bad.mp4", "size": "320x240"}], duration=5,
                       transcoding={"width": 320, "height": 240, "fps": 15, "bitrate": 300},
                       file_config={"avFileType": ["hls", "mp4"]})
    (tmp_path / "s.json").write_text(json.dumps(doc))
    scenario = lk.load_scenario(tmp_path / "s.json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = lk.mix(scenario, tmp_path / "out", overwrite=True)
    assert result.frames == 75
    damaged = [str(w.message) for w in caught if issubclass(w.category, DamagedMediaWarning)]
    assert len(damaged) == 1 and damaged[0].startswith("users[0].source (bad.mp4): ")
    assert re.search(r"between \d+\.\d\d s and \d+\.\d\d s of the file", damaged[0])
    # the recording plays end to end through FFmpeg
    mp4 = next((tmp_path / "out").rglob("*.mp4"))
    check = subprocess.run([ffmpeg(), "-v", "error", "-xerror", "-i", str(mp4), "-f", "null",
                            "-"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    # where a packet was skipped the previous frame is held (never a grey concealment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with FileVideo(bad) as video:
            frames = [video.frame_i420(Fraction(i, 15)) for i in range(60)]
            skipped = list(video.damaged)
    assert skipped and _frozen(frames) >= 1


# --- item 11: a raw .h264 stream as a source ---------------------------------------------------
def test_a_raw_h264_stream_is_a_source_that_plays_and_loops(tmp_path):
    path = _make_video(tmp_path / "raw.h264", seconds=2, extra=("-bsf:v", "h264_mp4toannexb"))
    reference = _ffmpeg_frames(path, (160, 120), 30)
    with FileVideo(path) as video:  # no timestamps: frames at FFmpeg's default 25 fps
        frames = [video.frame_i420(Fraction(i, 25)) for i in range(60)]
    assert _frozen(frames) == 0
    assert np.array_equal(frames[0], reference[0]) and np.array_equal(frames[30], reference[0])
    assert np.array_equal(frames[29], reference[29])


# --- item 2: image bombs ------------------------------------------------------------------------
def _peak_rss_mib(code: str) -> tuple[dict, float]:
    """Run ``code`` (which prints one JSON line) in a fresh Python; its output and peak RSS."""
    wrapper = (f"import json, warnings\nwarnings.simplefilter('always')\n{code}\n"
               f"print(json.dumps({{'peak': {_HWM}}}))")
    run = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                         timeout=120, cwd=PACKAGE.parent)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    return {**lines[0], "stderr": run.stderr}, lines[-1]["peak"] / 1024


# the high-water mark of this process's memory (ru_maxrss would be inherited through fork)
_HWM = ("int(next(l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('VmHWM:')))")


def _rle8_bmp(path: Path, width: int, height: int) -> Path:
    """Return a BMP compressed with RLE8: a 9000x9000 picture in 0.67 MB."""
    row = bytes([250, 1]) * (width // 250) + (bytes([width % 250, 2]) if width % 250 else b"")
    data = (row + b"\x00\x00") * height + b"\x00\x01"
    palette = bytes([40, 40, 200, 0, 40, 200, 40, 0]) + b"\x00" * 4 * 254
    offset = 14 + 40 + len(palette)
    path.write_bytes(b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
                     + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(data),
                                   2835, 2835, 256, 0) + palette + data)
    return path




def test_a_12000x12000_jpeg_is_decoded_at_the_size_it_is_drawn(tmp_path):
    from PIL import Image

    path = tmp_path / "big.jpg"
    Image.new("RGB", (12000, 12000), (200, 40, 40)).save(path, quality=50)
    assert path.stat().st_size < 6 * 1024 * 1024  # passes the 6 MB rule
    out, peak = _peak_rss_mib(
        "from layoutkit.io.images import load_image\n"
        f"a = load_image({str(path)!r}, max_size_wh=(1920, 1080))\n"
        "print(json.dumps({'shape': a.shape, 'pixel': a[500, 500].tolist()}))")
    assert out["shape"] == [3000, 3000, 3]  # 1/4 scale: the smallest that covers 1920x1080
    assert max(abs(a - b) for a, b in zip(out["pixel"], (200, 40, 40), strict=True)) <= 4
    assert peak < 400, f"peak RSS {peak:.0f} MiB"  # was 5 GiB


def test_a_9000x9000_rle_bmp_is_ignored_with_a_warning_and_bounded_memory(tmp_path):
    from PIL import Image

    path = _rle8_bmp(tmp_path / "bomb.bmp", 9000, 9000)
    assert path.stat().st_size < 700_000
    with Image.open(path) as img:  # Pillow agrees it is a 9000x9000 RLE8 BMP
        assert img.size == (9000, 9000) and img.info["compression"] == 1
    out, peak = _peak_rss_mib(
        "from layoutkit.io.images import load_image\n"
        f"a = load_image({str(path)!r}, max_size_wh=(640, 360))\n"
        "print(json.dumps({'none': a is None}))")
    assert out["none"]
    assert "bomb.bmp: 9000x9000 is more than 40 million pixels once decoded; ignored" \
        in out["stderr"]
    assert peak < 200, f"peak RSS {peak:.0f} MiB"  # was 3 GiB


def test_a_16000x16000_image_is_ignored_with_a_warning_not_an_internal_error(tmp_path):
    path = jpeg_claiming(tmp_path / "huge.jpg", 16000, 16000)
    with pytest.warns(ImageIgnoredWarning, match=r"huge\.jpg: too many pixels to decode"):
        assert load_image(str(path), max_size_wh=(640, 360)) is None
    request = {"mixedVideoLayout": 1, "backgroundImage": str(path)}
    (tmp_path / "r.json").write_text(json.dumps(request))
    err = io.StringIO()
    code = main(["preview", str(tmp_path / "r.json"), "-o", str(tmp_path / "p.png")],
                out=io.StringIO(), err=err)
    assert code == 0 and "too many pixels" in err.getvalue()
    assert "internal error" not in err.getvalue()


def test_a_small_bmp_is_still_drawn(tmp_path):
    from PIL import Image

    path = tmp_path / "small.bmp"
    Image.new("RGB", (1280, 720), (0, 128, 255)).save(path)
    rgb = load_image(str(path), max_size_wh=(640, 360))
    assert rgb is not None and rgb.shape == (360, 640, 3)  # reduced by 2, still covers it
    assert rgb[100, 100].tolist() == [0, 128, 255]


# --- items 9 and 10, containment: what a source may be ------------------------------------------
def _run(tmp_path: Path, *sources: str, command: str = "mix",
         timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``layoutkit validate`` or ``mix`` of a scenario with a user per source.

    Stdin is an open pipe nobody writes (reading it would wait forever).
    """
    doc = scenario_doc([{"uid": str(i + 1), "source": s} for i, s in enumerate(sources)],
                       duration=1, transcoding={"width": 64, "height": 64, "fps": 5})
    (tmp_path / "s.json").write_text(json.dumps(doc))
    extra = ["-o", str(tmp_path / "out"), "--quiet"] if command == "mix" else []
    return subprocess.run([sys.executable, "-m", "layoutkit", command,
                           str(tmp_path / "s.json"), *extra], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.PIPE, cwd=PACKAGE.parent)


def test_fifos_devices_and_folders_are_refused_as_sources_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    folder = tmp_path / "clips.mp4"
    folder.mkdir()
    # one user each: a FIFO, a device, a folder (one run names all three)
    rules = ["is not a regular file", "is not a regular file", "is a folder, not a video file"]
    sources = [str(fifo), "/dev/zero", str(folder)]
    for command in ("validate", "mix"):  # validate waited forever; both refuse the same
        run = _run(tmp_path, *sources, command=command, timeout=30)
        assert run.returncode == 1
        for i, (rule, source) in enumerate(zip(rules, sources, strict=True)):
            assert f"code 2: users[{i}].source ({source}): {rule}" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScenarioError) as info:
        lk.frame_at(lk.load_scenario(tmp_path / "s.json"), 0)
    assert [p.path.split(" (")[0] for p in info.value.problems] == [
        f"users[{i}].source" for i in range(3)]


def test_an_image_from_a_fifo_is_ignored_without_waiting(tmp_path):
    fifo = tmp_path / "bg.jpg"
    os.mkfifo(fifo)
    result: list = []
    thread = threading.Thread(target=lambda: result.append(load_image(str(fifo))), daemon=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thread.start()
        thread.join(20)
    assert not thread.is_alive() and result == [None]
    assert "not a regular file" in str(caught[0].message)


def test_pipe_0_is_a_file_name_and_stdin_is_never_read(tmp_path):
    run = _run(tmp_path, "pipe:0", timeout=30)
    assert run.returncode == 1
    assert "users[0].source (pipe:0 -> " in run.stderr, run.stderr
    assert "/pipe:0): no such video file" in run.stderr, run.stderr


def test_a_relative_name_with_colons_is_a_file_not_a_protocol(tmp_path):
    _make_video(tmp_path / "12:30:00.mp4", seconds=1,
                source="color=c=red:size=160x120:rate=15:duration=1")
    doc = scenario_doc([{"uid": "1", "source": "12:30:00.mp4", "size": "160x120"}],
                       duration=1, transcoding={"width": 160, "height": 120})
    (tmp_path / "s.json").write_text(json.dumps(doc))
    frame = lk.frame_at(lk.load_scenario(tmp_path / "s.json"), 0.5)  # was "Protocol not found"
    r, g, b = frame[60, 80].tolist()
    assert r > 200 and g < 40 and b < 40


OTHER_PROTOCOLS = ["rtmp://example.com/live/1", "concat:a.mp4|b.mp4",
                   "subfile,,start,0,end,10,,:a.mp4"]


@pytest.mark.parametrize("source", OTHER_PROTOCOLS)
def test_only_http_urls_and_files_are_opened(tmp_path, source):
    with pytest.raises(MediaError):
        media_location(os.path.join(tmp_path, source) if "://" not in source else source,
                       kind="video")


def test_a_recording_names_each_user_of_another_protocol(tmp_path):
    run = _run(tmp_path, *OTHER_PROTOCOLS)  # one user each
    assert run.returncode == 1
    for i in range(len(OTHER_PROTOCOLS)):
        assert f"code 2: users[{i}].source ({OTHER_PROTOCOLS[i]}" in run.stderr, run.stderr
    assert "internal error" not in run.stderr


# --- item 9: unbounded work refused at validation ---------------------------------------------
@pytest.mark.parametrize("duration", [1e9, 1e308, "huge"])
def test_durations_beyond_30_days_are_refused_naming_the_field(tmp_path, duration):
    doc = scenario_doc(duration=1)
    text = json.dumps(doc).replace('"duration": 1', '"duration": '
                                   + ("9" * 3999 if duration == "huge" else repr(duration)))
    (tmp_path / "s.json").write_text(text)
    err = io.StringIO()
    assert main(["validate", str(tmp_path / "s.json")], out=io.StringIO(), err=err) == 1
    assert "code 2: duration: must be at most 2592000 s (30 days" in err.getvalue()
    assert "internal error" not in err.getvalue()


def test_thirty_days_is_accepted():
    scenario = lk.load_scenario(scenario_doc(duration=30 * 24 * 3600))
    assert scenario.duration == 2592000


def test_too_many_users_and_events_are_refused():
    users = [{"uid": str(i)} for i in range(1, 1002)]
    with pytest.raises(ScenarioError) as info:
        lk.load_scenario(scenario_doc(users, duration=10))
    assert any(p.path == "users" and "at most 1000" in p.rule for p in info.value.problems)


def test_testsrc_of_100000x100000_is_refused_at_once(tmp_path):
    err = io.StringIO()
    code = main(["testsrc", "--uid", "1", "--size", "100000x100000", "-o",
                 str(tmp_path / "t.mp4")], out=io.StringIO(), err=err)
    assert code == 2 and "--size: each side must be at most 4096" in err.getvalue()
    assert not (tmp_path / "t.mp4").exists()


def test_gif_preview_is_streamed_and_plays(tmp_path):
    from PIL import Image

    doc = scenario_doc([{"uid": "1", "source": "#FF0000"}, {"uid": "2", "source": "#0000FF",
                                                            "join": 1}],
                       duration=2, transcoding={"width": 160, "height": 90, "fps": 10,
                                                "mixedVideoLayout": 1})
    scenario = lk.load_scenario(doc)
    from layoutkit.animate import write_gif
    from layoutkit.render import SceneRenderer

    with SceneRenderer(scenario) as renderer:
        count = write_gif(renderer, tmp_path / "a.gif", fps=10)
    assert count == 20
    with Image.open(tmp_path / "a.gif") as img:
        assert img.n_frames == 20 and img.info["loop"] == 0 and img.info["duration"] == 100
        img.seek(5)
        assert img.convert("RGB").getpixel((80, 45))[0] > 200  # red alone, full canvas
        img.seek(15)
        frame = np.asarray(img.convert("RGB"))
    assert frame[45, 40, 0] > 200 and frame[45, 120, 2] > 200  # red | blue side by side
    check = subprocess.run([ffmpeg(), "-v", "error", "-xerror", "-i", str(tmp_path / "a.gif"),
                            "-f", "null", "-"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


@pytest.mark.slow
def test_gif_preview_memory_does_not_grow_with_length(tmp_path):
    code = ("import layoutkit as lk\nfrom layoutkit.animate import write_gif\n"
            "from layoutkit.render import SceneRenderer\nfrom tests.helpers import scenario_doc\n"
            "import sys\n"
            "s = lk.load_scenario(scenario_doc([{'uid': '1'}], duration=float(sys.argv[1]),\n"
            "    transcoding={'width': 320, 'height': 180, 'fps': 10}))\n"
            "with SceneRenderer(s) as r:\n"
            "    n = write_gif(r, sys.argv[2], fps=10, overwrite=True)\n"
            "print(json.dumps({'n': n}))")
    peaks = []
    for seconds in (10, 120):
        wrapper = f"import json\n{code}\nprint(json.dumps({{'peak': {_HWM}}}))"
        run = subprocess.run([sys.executable, "-c", wrapper, str(seconds),
                              str(tmp_path / "a.gif")], capture_output=True, text=True,
                             timeout=600, cwd=PACKAGE.parent)
        assert run.returncode == 0, run.stderr
        peaks.append(json.loads(run.stdout.splitlines()[-1])["peak"] / 1024)
    assert peaks[1] - peaks[0] < 30, peaks  # 1200 frames in a list would be > 150 MiB


# --- item 11: clear errors where "internal error" was -----------------------------------------
def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), out=io.StringIO(), err=err)
    assert "internal error" not in err.getvalue(), err.getvalue()
    return code, err.getvalue()


def test_a_lone_surrogate_in_cname_is_refused_with_its_path(tmp_path):
    text = json.dumps(scenario_doc(duration=2)).replace('"cname": "demo"',
                                                        '"cname": "de\\ud800mo"', 1)
    (tmp_path / "s.json").write_text(text)
    code, err = _cli("validate", str(tmp_path / "s.json"))
    assert code == 1
    assert "code 2: cname: must be valid Unicode text (has a lone surrogate U+D800)" in err
    err.encode("utf-8")  # printable


def test_a_recording_ending_after_year_9999_is_refused_at_validation():
    with pytest.raises(ScenarioError) as info:
        lk.load_scenario(scenario_doc(duration=20, start_utc="9999-12-31T23:59:50Z"))
    assert info.value.problems[0].path == "start_utc"
    assert "would end after the year 9999" in info.value.problems[0].rule
    assert lk.load_scenario(scenario_doc(duration=20, start_utc="9999-12-31T23:59:00Z"))


def test_a_recording_that_ends_just_before_year_10000_is_recorded(tmp_path):
    doc = scenario_doc([{"uid": "1", "source": "#FF0000", "audio": "silence"}], duration=20,
                       start_utc="9999-12-31T23:59:38Z",
                       transcoding={"width": 64, "height": 64, "fps": 5})
    result = lk.mix(lk.load_scenario(doc), tmp_path / "out")
    assert [k.rsplit("_", 1)[1] for k in result.keys[:2]] == ["99991231235938000.ts",
                                                              "99991231235953000.ts"]


def test_at_nan_is_a_usage_error(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(scenario_doc(duration=2)))
    for value in ("nan", "inf"):
        code, err = _cli("preview", str(tmp_path / "s.json"), "--at", value,
                         "-o", str(tmp_path / "f.png"))
        assert code == 2 and "must be a finite number of seconds" in err


def test_output_folders_that_cannot_be_folders_are_refused_clearly(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(scenario_doc(duration=1)))
    (tmp_path / "file").write_text("mine")
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    code, err = _cli("mix", str(scenario), "-o", str(tmp_path / "file"), "--quiet")
    assert code == 1 and "file: is a file, not a folder" in err
    assert (tmp_path / "file").read_text() == "mine"
    code, err = _cli("mix", str(scenario), "-o", str(tmp_path / "dangling"), "--quiet")
    assert code == 1 and "is a symbolic link to a missing" in err
    os.symlink(tmp_path / "missing.png", tmp_path / "dangling.png")
    code, err = _cli("preview", str(scenario), "--at", "0", "-o", str(tmp_path / "dangling.png"))
    assert code == 1 and "is a symbolic link to a missing" in err
    assert (tmp_path / "dangling").is_symlink() and not (tmp_path / "missing").exists()
    assert (tmp_path / "dangling.png").is_symlink() and not (tmp_path / "missing.png").exists()
    code, err = _cli("demo", "-o", str(tmp_path / "file"))
    assert code == 1 and "is a file, not a folder" in err


def test_a_read_only_output_folder_is_refused_clearly(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(scenario_doc(duration=1)))
    if os.geteuid() == 0:  # root writes anywhere chmod allows nothing: use a read-only fs
        target = Path("/sys/layoutkit-test")
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        target = tmp_path / "ro" / "out"
    code, err = _cli("mix", str(scenario), "-o", str(target), "--quiet")
    assert code == 1 and f"{target}: cannot create folder (" in err


def test_a_utf8_bom_is_accepted_and_duplicate_keys_are_warned(tmp_path):
    doc = scenario_doc(duration=2)
    text = json.dumps(doc)[:-1] + ', "duration": 3}'
    (tmp_path / "s.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, err = _cli("validate", str(tmp_path / "s.json"))
    assert code == 0
    assert "warning: duration: duplicate key: only its last value (3) is used" in err
    scenario = lk.load_scenario(tmp_path / "s.json")
    assert scenario.duration == 3 and scenario.warnings[0].path == "duration"
    request = '\ufeff{"mixedVideoLayout": 1, "backgroundColor": "#000000", ' \
              '"backgroundColor": "#FFFFFF"}'
    (tmp_path / "r.json").write_text(request, encoding="utf-8")
    code, err = _cli("validate", str(tmp_path / "r.json"))
    assert code == 0 and "warning: backgroundColor: duplicate key" in err


# --- containment ----------------------------------------------------------------------------
def test_no_shell_anywhere_in_the_package():
    found = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"shell\s*=\s*True", r"os\.system\(", r"os\.popen\(",
                        r"\bpty\.spawn\(", r"os\.exec[lv]p?e?\("):
            found += [f"{path.relative_to(PACKAGE)}: {m[0]}" for m in re.finditer(pattern, text)]
    assert not found


def test_names_with_dots_and_odd_characters_write_only_inside_the_output_folder(tmp_path):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    doc = scenario_doc([{"uid": "1", "source": "#00FF00", "audio": "silence"}], cname="..",
                       duration=1, transcoding={"width": 64, "height": 64, "fps": 5})
    before = set(tmp_path.rglob("*"))
    lk.mix(lk.load_scenario(doc), work / "out")
    written = set(tmp_path.rglob("*")) - before
    assert written and all(p == work / "out" or (work / "out") in p.parents for p in written)
