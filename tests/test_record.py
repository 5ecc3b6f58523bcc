"""The local recorder: decoded outputs, independent playlist parsing, FFmpeg, kill midway, S3."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import m3u8
import numpy as np
import pytest

from layoutkit.cli import main
from layoutkit.record import record
from layoutkit.scenario import parse_scenario

from .helpers import scenario_doc

W, H, FPS = 320, 180, 10
SID = "00112233445566778899aabbccddeeff"
RED, GREEN, BLUE = (200, 40, 40), (40, 200, 40), (40, 40, 200)


def _doc(*, duration=20, av_types=("hls", "mp4"), stream_types=2, audio_profile=0,
         private=None, users=None, events=None) -> dict:
    rc = {"streamTypes": stream_types, "audioProfile": audio_profile, "maxIdleTime": 30,
          "transcodingConfig": {"width": W, "height": H, "fps": FPS, "bitrate": 300,
                                "mixedVideoLayout": 1, "backgroundColor": "#1E3C5A"}}
    if private:
        rc["privateParams"] = json.dumps(private)
    return scenario_doc(
        users or [
            {"uid": "1", "source": "#C82828", "audio": "tone"},
            {"uid": "2", "source": "#28C828", "audio": "silence"},
            {"uid": "3", "source": "#2828C8", "audio": "silence"}],
        events if events is not None else [
            {"t": 5, "uid": "2", "action": "leave"},
            {"t": 8, "uid": "1", "action": "mute_audio"},
            {"t": 12, "uid": "1", "action": "unmute_audio"}],
        cname="room1", sid=SID, start_utc="2026-03-04T05:06:07.089Z", duration=duration,
        recording=rc, file_config={"avFileType": list(av_types)},
        storage={"vendor": 1, "region": 0, "bucket": "b", "accessKey": "k", "secretKey": "s",
                 "fileNamePrefix": ["rec", "day1"]})


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec")
    result = record(parse_scenario(_doc()), out)
    return out, result


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_files_are_named_like_the_clouds(recording):
    out, result = recording
    folder = out / "rec" / "day1"
    assert result.folder == folder
    assert _names(folder) == [
        f"{SID}_room1.m3u8",
        f"{SID}_room1_0.mp4",
        f"{SID}_room1_20260304050607089.ts",
        f"{SID}_room1_20260304050622089.ts",
    ]
    response = json.loads((out / "serverResponse.json").read_text())
    assert response["fileListMode"] == "json"
    assert [f["fileName"] for f in response["fileList"]] == [
        f"rec/day1/{SID}_room1.m3u8", f"rec/day1/{SID}_room1_0.mp4"]
    for entry in response["fileList"]:
        assert entry["trackType"] == "audio_and_video" and entry["uid"] == "0"
        assert entry["mixedAllUser"] is True and entry["isPlayable"] is True
        assert entry["sliceStartTime"] == 1772600767089  # 2026-03-04T05:06:07.089Z in ms
    assert response["uploadingStatus"] == "unknown"  # only on local disk: nothing uploaded


def test_playlist_parsed_by_an_independent_parser(recording):
    out, _ = recording
    path = out / "rec" / "day1" / f"{SID}_room1.m3u8"
    text = path.read_text()
    playlist = m3u8.loads(text)
    assert playlist.version == 3 and playlist.media_sequence == 0
    assert playlist.target_duration == 18 and playlist.is_endlist
    assert [s.uri for s in playlist.segments] == [f"{SID}_room1_20260304050607089.ts",
                                                  f"{SID}_room1_20260304050622089.ts"]
    assert [s.duration for s in playlist.segments] == [15.0, 5.0]
    assert "#EXTINF:15.000000\n" in text  # no trailing comma by default
    assert "#EXT-X-ALLOW-CACHE:YES" in text and text.count("#EXT-X-DISCONTINUITY") == 1
    assert ("#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=20260304050607089"
            in text)


def test_containers_codecs_sizes_and_durations(recording):
    out, _ = recording
    folder = out / "rec" / "day1"
    for name, duration in [(f"{SID}_room1_0.mp4", 20), (f"{SID}_room1.m3u8", 20),
                           (f"{SID}_room1_20260304050607089.ts", 15)]:
        with av.open(str(folder / name)) as c:
            video, audio = c.streams.video[0], c.streams.audio[0]
            assert video.codec_context.name == "h264" and audio.codec_context.name == "aac"
            assert (video.width, video.height) == (W, H)
            assert video.average_rate == FPS
            assert audio.sample_rate == 48000 and audio.codec_context.channels == 1
            frames = sum(1 for _ in c.decode(video=0))
        assert frames == duration * FPS
    # every segment starts with a key frame
    with av.open(str(folder / f"{SID}_room1_20260304050622089.ts")) as c:
        first = next(iter(c.demux(video=0)))
        assert first.is_keyframe


def _frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time >= t - 1e-6:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t}")


def test_pixels_follow_the_scenario(recording):
    out, _ = recording
    mp4 = out / "rec" / "day1" / f"{SID}_room1_0.mp4"
    before = _frame_at(mp4, 4.0)  # 3 users: 2x2 grid
    after = _frame_at(mp4, 5.0)  # user 2 left: 1 and 3 side by side
    for image, xy, colour in [(before, (80, 45), RED), (before, (240, 45), GREEN),
                              (before, (80, 135), BLUE), (after, (80, 90), RED),
                              (after, (240, 90), BLUE)]:
        got = image[xy[1], xy[0]].astype(int)
        assert np.abs(got - colour).max() <= 12, (xy, got, colour)


def _audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        chunks = [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]
    return np.concatenate(chunks)


def test_audio_level_during_mute_and_unmute(recording):
    out, _ = recording
    samples = _audio(out / "rec" / "day1" / f"{SID}_room1_0.mp4")
    assert 20 * 48000 - 2048 <= len(samples) <= 20 * 48000 + 2048

    def rms_db(a: float, b: float) -> float:
        window = samples[int(a * 48000):int(b * 48000)]
        return 20 * np.log10(np.sqrt(np.mean(window**2)) + 1e-12)

    assert -23 < rms_db(6.2, 6.9) < -19  # the tone: peak -18 dBFS, RMS -21 dBFS
    assert rms_db(8.2, 11.8) < -60  # muted
    assert -23 < rms_db(12.2, 12.9) < -19  # unmuted


def test_ffmpeg_reads_playlist_and_mp4_without_errors(recording):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out, _ = recording
    folder = out / "rec" / "day1"
    for name in (f"{SID}_room1.m3u8", f"{SID}_room1_0.mp4"):
        run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i",
                              str(folder / name), "-f", "null", "-"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and run.stderr == "", run.stderr


@pytest.mark.parametrize(("stream_types", "kinds"), [(0, {"audio"}), (1, {"video"})])
def test_audio_only_and_video_only(tmp_path, stream_types, kinds):
    doc = _doc(duration=4, stream_types=stream_types, av_types=("hls",), events=[])
    result = record(parse_scenario(doc), tmp_path)
    assert result.server_response["fileListMode"] == "string"
    assert result.server_response["fileList"] == f"rec/day1/{SID}_room1.m3u8"
    with av.open(str(result.folder / f"{SID}_room1.m3u8")) as c:
        assert {s.type for s in c.streams} == kinds
    assert not list(result.folder.glob("*.mp4"))


def test_audio_profile_2_is_stereo_and_correct_extinf(tmp_path):
    doc = _doc(duration=3, audio_profile=2, private={"correctEXTINF": True}, events=[])
    result = record(parse_scenario(doc), tmp_path)
    with av.open(str(result.folder / f"{SID}_room1_0.mp4")) as c:
        assert c.streams.audio[0].codec_context.channels == 2
        # FFmpeg's AAC encoder spends less than its 192 Kbps target on a pure tone
        assert 100_000 < c.streams.audio[0].bit_rate <= 200_000
    text = (result.folder / f"{SID}_room1.m3u8").read_text()
    assert "#EXTINF:3.000000,\n" in text


def test_mix_cli_refuses_to_overwrite_and_reports_bad_input(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_doc(duration=2, events=[])))
    err = io.StringIO()
    assert main(["mix", str(path), "-o", str(tmp_path / "o"), "--quiet"], out=io.StringIO(),
                err=err) == 0
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "o").rglob("*")}
    err = io.StringIO()
    assert main(["mix", str(path), "-o", str(tmp_path / "o"), "--quiet"], out=io.StringIO(),
                err=err) == 2
    assert "--force" in err.getvalue()
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "o").rglob("*")} == before
    bad = _doc(duration=2, events=[{"t": 1, "uid": "9", "action": "leave"}])
    path.write_text(json.dumps(bad))
    err = io.StringIO()
    assert main(["mix", str(path), "-o", str(tmp_path / "p")], out=io.StringIO(), err=err) == 1
    assert "code 2: events[0].uid:" in err.getvalue() and "Traceback" not in err.getvalue()
    assert not (tmp_path / "p").exists()


@pytest.mark.slow  # the default run kills a recording in tests/test_faults_output.py
def test_killed_run_leaves_only_whole_files(tmp_path):
    """Kill a real ``layoutkit mix`` process midway: every listed segment plays, no MP4."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    doc = _doc(duration=600, events=[],
               users=[{"uid": str(i), "source": f"#{i * 40:02X}4080"} for i in range(1, 5)])
    path = tmp_path / "long.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    playlist = out / "rec" / "day1" / f"{SID}_room1.m3u8"
    proc = subprocess.Popen([sys.executable, "-m", "layoutkit", "mix", str(path), "-o", str(out),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if playlist.exists() and playlist.read_text().count("#EXTINF") >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("no segment was listed within 120 s")
        time.sleep(0.3)  # somewhere inside the next segment
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    listed = m3u8.loads(playlist.read_text())
    assert not listed.is_endlist and len(listed.segments) >= 2
    for segment in listed.segments:
        run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i",
                              str(playlist.parent / segment.uri), "-f", "null", "-"],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stderr == "", run.stderr
    finals = [p.name for p in playlist.parent.iterdir() if not p.name.startswith(".")]
    assert not [n for n in finals if n.endswith(".mp4")]  # the MP4 was never finalized
    listed_names = {s.uri for s in listed.segments}
    # any .ts under a final name is listed (an unfinished one has only a hidden temp name)
    assert {n for n in finals if n.endswith(".ts")} == listed_names
    # the unfinished MP4 is a hidden temporary that does not end in a published extension
    assert re.fullmatch(r"\.[^/]+_0\.mp4\.[a-z0-9_]{8}\.part", next(
        p.name for p in playlist.parent.iterdir() if ".mp4." in p.name))


def test_mix_uploads_the_same_keys_to_s3(tmp_path, s3_endpoint, raw, bucket):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_doc(duration=3, events=[])))
    out = io.StringIO()
    code = main(["mix", str(path), "-o", str(tmp_path / "o"), "--quiet",
                 "--upload", f"s3://{bucket}/tenant"], out=out, err=io.StringIO())
    assert code == 0, out.getvalue()
    keys = sorted(o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"])
    local = sorted(f"tenant/{p.relative_to(tmp_path / 'o').as_posix()}"
                   for p in (tmp_path / "o" / "rec").rglob("*") if p.is_file())
    assert keys == local
    body = raw.get_object(Bucket=bucket, Key=f"tenant/rec/day1/{SID}_room1.m3u8")["Body"].read()
    assert body == (tmp_path / "o" / "rec" / "day1" / f"{SID}_room1.m3u8").read_bytes()
    response = json.loads((tmp_path / "o" / "serverResponse.json").read_text())
    assert response["uploadingStatus"] == "uploaded"


def test_failed_upload_is_a_clear_error_and_local_files_stay(tmp_path, s3_endpoint):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_doc(duration=2, events=[])))
    err = io.StringIO()
    code = main(["mix", str(path), "-o", str(tmp_path / "o"), "--quiet",
                 "--upload", "s3://no-such-bucket-here"], out=io.StringIO(), err=err)
    assert code == 1
    assert "no-such-bucket-here" in err.getvalue() and "Traceback" not in err.getvalue()
    assert (tmp_path / "o" / "rec" / "day1" / f"{SID}_room1.m3u8").exists()
    response = json.loads((tmp_path / "o" / "serverResponse.json").read_text())
    assert response["uploadingStatus"] == "unknown"  # the upload failed: not "uploaded"


def test_mp4_rolls_over_at_a_key_frame(tmp_path, monkeypatch):
    """With the rollover shortened to 15 s, a 20 s recording makes two MP4 files."""
    import layoutkit.record.sinks as sinks

    monkeypatch.setattr(sinks, "rollover_seconds", lambda profile: 15)
    result = record(parse_scenario(_doc(duration=20, events=[])), tmp_path)
    parts = sorted(p.name for p in result.folder.glob("*.mp4"))
    assert parts == [f"{SID}_room1_0.mp4", f"{SID}_room1_1.mp4"]
    counts = []
    for name in parts:
        with av.open(str(result.folder / name)) as c:
            counts.append(sum(1 for _ in c.decode(video=0)))
    assert counts == [15 * FPS, 5 * FPS]
    entries = result.server_response["fileList"]
    assert [e["fileName"].rsplit("/", 1)[-1] for e in entries] == [f"{SID}_room1.m3u8", *parts]
    assert entries[2]["sliceStartTime"] - entries[1]["sliceStartTime"] == 15_000


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from layoutkit.record.pipeline import _progress

    monkeypatch.delenv("LAYOUTKIT_NO_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert type(_progress(10, quiet=False)).__name__ == "_Silent"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = _progress(10, quiet=False)
    try:
        assert type(bar).__name__ == "tqdm"
    finally:
        bar.close()
    assert type(_progress(10, quiet=True)).__name__ == "_Silent"


def test_recording_ends_after_max_idle_time(tmp_path):
    """Everybody leaves at 2 s; with maxIdleTime 5 the recording stops at 7 s, not 20 s."""
    doc = _doc(duration=20, events=[{"t": 2, "uid": u, "action": "leave"} for u in "123"])
    doc["start"]["clientRequest"]["recordingConfig"]["maxIdleTime"] = 5
    result = record(parse_scenario(doc), tmp_path)
    assert result.duration == 7
    playlist = m3u8.loads((result.folder / f"{SID}_room1.m3u8").read_text())
    assert [s.duration for s in playlist.segments] == [7.0] and playlist.is_endlist
    with av.open(str(result.folder / f"{SID}_room1_0.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 7 * FPS


@pytest.mark.parametrize(("fps", "duration"), [(7, 3.7), (1, 5.5), (60, 2.3), (24, 16.1)])
def test_any_fps_and_fractional_duration(tmp_path, fps, duration):
    """Frames on the fps grid, EXTINF summing to the duration, audio ending with it."""
    import math

    doc = _doc(duration=duration, events=[])
    doc["start"]["clientRequest"]["recordingConfig"]["transcodingConfig"]["fps"] = fps
    result = record(parse_scenario(doc), tmp_path)
    playlist = m3u8.loads((result.folder / f"{SID}_room1.m3u8").read_text())
    assert round(sum(s.duration for s in playlist.segments), 6) == duration
    assert all(s.duration <= 15 + 1 / fps for s in playlist.segments[:-1])
    mp4 = str(result.folder / f"{SID}_room1_0.mp4")
    with av.open(mp4) as c:
        assert c.streams.video[0].average_rate == fps
        assert sum(1 for _ in c.decode(video=0)) == math.ceil(duration * fps)
    with av.open(mp4) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
    assert abs(samples - duration * 48000) < 1024 + 1  # within one AAC frame of padding


def test_file_sources_end_to_end_codes_readable_in_the_recording(tmp_path):
    """A tester's testsrc MP4 as a user's video and audio file: the code survives the mix."""
    from layoutkit.signals.idcode import read_code
    from layoutkit.idstream import write_idstream

    write_idstream(tmp_path / "u77.mp4", uid="77", duration=3, fps=FPS)
    users = [{"uid": "77", "source": "u77.mp4", "audio": "u77.mp4"},
             {"uid": "2", "source": "#28C828", "audio": "silence"}]
    doc = _doc(duration=3, users=users, events=[])
    (tmp_path / "s.json").write_text(json.dumps(doc))
    out = io.StringIO()
    code = main(["mix", str(tmp_path / "s.json"), "-o", str(tmp_path / "o"), "--quiet"],
                out=out, err=io.StringIO())
    assert code == 0, out.getvalue()
    folder = tmp_path / "o" / "rec" / "day1"
    readings = []
    with av.open(str(folder / f"{SID}_room1_0.mp4")) as c:
        for index, frame in enumerate(c.decode(video=0)):
            luma = frame.to_ndarray()[:H]
            readings.append((index, read_code(luma, src_wh=(640, 360), region=(0, 0, 160, 180))))
    good = [(i, r) for i, r in readings if r is not None]
    assert len(good) >= 0.9 * len(readings)
    assert all(r.uid == "77" and r.frame == i for i, r in good)  # the file's frame i at i / fps
    samples = _audio(folder / f"{SID}_room1_0.mp4")
    assert 20 * np.log10(np.sqrt(np.mean(samples[4800:40000] ** 2))) > -24  # the file's tone
