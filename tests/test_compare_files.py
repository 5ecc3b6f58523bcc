"""compare's inputs, file checks and stream checks.

The recorder's own output is clean, every injected fault is found with its kind, the loose
shapes real files have are accepted.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import m3u8
import pytest

from layoutkit.comparison.files import KINDS as FILE_KINDS, DecodedErrors, check_files
from layoutkit.comparison.model import Difference
from layoutkit.cloudfiles.parse import (
    parse_m3u8_name,
    parse_mp4_name,
    parse_name,
    parse_playlist,
    parse_stop_response,
    parse_time,
    parse_ts_name,
)
from layoutkit.comparison.read import open_recording
from layoutkit.comparison.run import media_paths
from layoutkit.comparison.streams import check_streams
from layoutkit.errors import MediaError
from layoutkit.io.frames import DecodeStats
from layoutkit.io import probe as probe_mod
from layoutkit.io.recorded import iter_audio, iter_video
from layoutkit.profile import DEFAULT_PROFILE, Profile
from layoutkit.record import record
from layoutkit.scenario import parse_scenario

SID = "00112233445566778899aabbccddeeff"
CNAME = "room_1"  # an underscore in the cname: names must still split right
BASE = f"{SID}_{CNAME}"
PREFIX = ("rec", "day1")
#: Seconds recorded where one segment (shorter than 15 s) is enough for what is checked.
SHORT = 6


def _doc(*, duration=20, av_types=("hls", "mp4"), stream_types=2, audio_profile=0,
         private=None, sid=SID, audio="tone", **transcoding) -> dict:
    """Build a scenario of two solid-colour users, the first with ``audio``, the second silent.

    ``transcoding``: other values for transcodingConfig (``width`` 320, ``height`` 180,
    ``fps`` 15, ...).
    """
    rc = {"streamTypes": stream_types, "audioProfile": audio_profile, "maxIdleTime": 30,
          "transcodingConfig": {"width": 320, "height": 180, "fps": 15,
                                "bitrate": 200, "mixedVideoLayout": 1,
                                "backgroundColor": "#1E3C5A", **transcoding}}
    if private:
        rc["privateParams"] = json.dumps(private)
    doc = {
        "cname": CNAME, "start_utc": "2026-03-04T05:06:07.089Z",
        "start": {"cname": CNAME, "uid": "999", "clientRequest": {
            "recordingConfig": rc, "recordingFileConfig": {"avFileType": list(av_types)},
            "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "k",
                              "secretKey": "s", "fileNamePrefix": list(PREFIX)}}},
        "duration": duration,
        "users": [{"uid": "1", "source": "#C82828", "audio": audio},
                  {"uid": "2", "source": "#28C828", "audio": "silence"}],
        "events": [],
    }
    if sid:
        doc["sid"] = sid
    return doc


def _record(tmp_path_factory, name: str, *, profile: Profile = DEFAULT_PROFILE, **kw) -> Path:
    out = tmp_path_factory.mktemp(name)
    record(parse_scenario(_doc(**kw)), out, profile=profile)
    return out


def _check(location, doc: dict, **kw) -> tuple[list[Difference], dict, list[Difference], dict]:
    recording = open_recording(location, **kw)
    scenario = parse_scenario(doc)
    file_diffs, file_facts = check_files(recording, scenario, profile=Profile())
    stream_diffs, stream_facts = check_streams(recording, scenario)
    json.dumps(file_facts), json.dumps(stream_facts)  # JSON-able
    return file_diffs, file_facts, stream_diffs, stream_facts


def _kinds(diffs: list[Difference]) -> set[str]:
    return {d.kind for d in diffs}


def _assert_clean(diffs: list[Difference]) -> None:
    assert diffs == [], "\n".join(f"{d.kind}: {d.message}" for d in diffs)


@pytest.fixture(scope="module")
def rec_av(tmp_path_factory):
    """32 s, HLS + MP4, audio and video: three segments (15 + 15 + 2 s)."""
    return _record(tmp_path_factory, "av", duration=32)


@pytest.fixture(scope="module")
def rec_hls(tmp_path_factory):
    return _record(tmp_path_factory, "hls", av_types=("hls",))


@pytest.fixture
def copy_av(rec_av, tmp_path):
    dest = tmp_path / "copy"
    shutil.copytree(rec_av, dest)
    return dest


def _folder(root: Path) -> Path:
    return root.joinpath(*PREFIX)


def _segments(root: Path) -> list[Path]:
    return sorted(_folder(root).glob("*.ts"))


# --- no false alarm -----------------------------------------------------------------------
def test_recorder_output_hls_and_mp4_is_clean(rec_av):
    fd, ff, sd, sf = _check(rec_av, _doc(duration=32))
    _assert_clean(fd + sd)
    assert ff["kind"] == "folder" and len(ff["segments"]) == 3
    assert [s["extinf"] for s in ff["segments"]] == ["15.000000", "15.000000", "2.000000"]
    assert ff["playlist"]["target_duration"] == 18 and ff["tag_time"] == ["date17"]
    assert ff["server_response"]["list_key"] == "fileList"
    assert sf["hls"]["video"]["width"] == 320 and sf["hls"]["video"]["measured_fps"] == 15
    assert sf["hls"]["audio"]["channels"] == 1 and sf["mp4"][0]["audio"]["sample_rate"] == 48000
    assert sf["hls"]["duration_s"] == pytest.approx(32, abs=0.05)


def test_recorder_output_hls_only_is_clean(rec_hls):
    fd, ff, sd, _ = _check(rec_hls, _doc(av_types=("hls",)))
    _assert_clean(fd + sd)
    assert ff["mp4s"] == [] and ff["server_response"]["list_shape"] == "string"


@pytest.mark.parametrize(("stream_types", "present", "absent"),
                         [(0, "audio", "video"), (1, "video", "audio")])
def test_audio_only_and_video_only_are_clean(tmp_path_factory, stream_types, present, absent):
    out = _record(tmp_path_factory, f"st{stream_types}", stream_types=stream_types,
                  duration=SHORT)
    fd, _ff, sd, sf = _check(out, _doc(stream_types=stream_types, duration=SHORT))
    _assert_clean(fd + sd)
    assert sf["hls"][present] is not None and sf["hls"][absent] is None
    assert sf["mp4"][0][absent] is None
    # ... and the other stream type is told apart
    fd2, _, sd2, _ = _check(out, _doc(stream_types=2, duration=SHORT))
    assert "missing_stream" in _kinds(sd2)
    assert "track_events" in _kinds(fd2) and "file_list" in _kinds(fd2)  # trackType


def test_the_walks_times_are_each_packets_time_rounded_once(rec_av):
    """start, end and key times: pts x time base as a Fraction, then float (PyAV's packets)."""
    import av

    files = [*_segments(rec_av), *_folder(rec_av).glob("*.mp4")]
    assert len(files) == 4
    for path in files:
        walk = probe_mod._inspect(str(path), 0, 0, False)  # not the cache
        seen: dict[int, tuple[float, float, list[float]]] = {}
        with av.open(str(path)) as container:
            for packet in container.demux():
                if not packet.size or packet.pts is None:
                    continue
                t = float(packet.pts * packet.time_base)
                end = t + float((packet.duration or 0) * packet.time_base)
                lo, hi, keys = seen.get(packet.stream.index, (t, end, []))
                if packet.is_keyframe and packet.stream.type == "video":
                    keys.append(t)
                seen[packet.stream.index] = (min(lo, t), max(hi, end), keys)
        assert {s.index: (s.start, s.end, list(s.key_times)) for s in walk.streams} == seen


def test_no_sid_in_the_scenario_takes_the_files_sid(rec_av):
    fd, ff, sd, _ = _check(rec_av, _doc(duration=32, sid=None))
    _assert_clean(fd + sd)
    assert ff["sids"] == [SID]


def test_epoch_time_comma_and_no_discontinuity_are_accepted(tmp_path_factory):
    """TIME and names in epoch ms (profile tag_time), ``#EXTINF:<d>,``, no DISCONTINUITY."""
    out = _record(tmp_path_factory, "epoch", profile=Profile(tag_time="epoch_ms"),
                  private={"correctEXTINF": True})
    playlist = next(_folder(out).glob("*.m3u8"))
    text = playlist.read_text()
    assert "#EXTINF:15.000000," in text and "TIME=1772600767089" in text
    playlist.write_text(text.replace("#EXT-X-DISCONTINUITY\n", ""))
    fd, ff, sd, _ = _check(out, _doc(private={"correctEXTINF": True}))
    _assert_clean(fd + sd)
    assert ff["tag_time"] == ["epoch_ms"] and ff["playlist"]["extinf_comma"] == [True]
    assert ff["playlist"]["discontinuity_first"] is False
    # the independent parser reads the same segments
    other = m3u8.loads(playlist.read_text())
    assert [s.uri for s in other.segments] == [Path(s["file"]).name for s in ff["segments"]]
    assert [s.duration for s in other.segments] == [15.0, 5.0]


def test_epoch_tag_times_with_date17_names_are_accepted(copy_av):
    playlist = next(_folder(copy_av).glob("*.m3u8"))
    text = playlist.read_text().replace("TIME=20260304050607089", "TIME=1772600767089")
    playlist.write_text(text)
    fd, ff, sd, _ = _check(copy_av, _doc(duration=32))
    _assert_clean(fd + sd)
    assert {e["format"] for e in ff["playlist"]["track_events"]} == {"epoch_ms"}


def test_stop_response_with_file_list_str_and_string_numbers(copy_av, tmp_path):
    saved = json.loads((copy_av / "serverResponse.json").read_text())
    entries = [{**e, "sliceStartTime": str(e["sliceStartTime"]), "isPlayable": "true"}
               for e in saved["fileList"]]
    full = {"resourceId": "abc", "sid": SID, "serverResponse": {
        "fileListMode": "json", "fileListStr": json.dumps(entries),
        "uploadingStatus": "uploaded", "gwWorkerVersion": "x"}}
    (copy_av / "serverResponse.json").unlink()
    (copy_av / "stop-response.json").write_text(json.dumps(full))
    fd, ff, sd, _ = _check(copy_av, _doc(duration=32))
    _assert_clean(fd + sd)
    assert ff["server_response"]["list_key"] == "fileListStr"
    assert ff["server_response"]["slice_start_ms"] == ["1772600767089"] * 2
    assert ff["server_response"]["slice_start_unit"] == ["ms"]
    # given explicitly, from elsewhere
    given = tmp_path / "given.json"
    given.write_text(json.dumps(full))
    (copy_av / "stop-response.json").unlink()
    fd, ff, _, _ = _check(copy_av, _doc(duration=32), server_response=given)
    _assert_clean(fd)
    assert ff["server_response"]["file"] == "given.json"


def test_m3u8_input_finds_its_segments_and_response(rec_av):
    playlist = next(_folder(rec_av).glob("*.m3u8"))
    recording = open_recording(playlist)
    assert recording.kind == "m3u8" and len(recording.segments) == 3
    assert recording.server_response is not None and len(recording.mp4s) == 1
    fd, _, sd, _ = _check(playlist, _doc(duration=32))
    _assert_clean(fd + sd)


def test_ts_only_and_mp4_only_inputs(rec_av):
    ts = _segments(rec_av)[0]
    fd, ff, sd, sf = _check(ts, _doc(duration=32))
    _assert_clean(fd + sd)
    assert ff["kind"] == "ts" and sf["hls"]["video"]["frames"] == 15 * 15
    mp4 = next(_folder(rec_av).glob("*.mp4"))
    fd, ff, sd, sf = _check(mp4, _doc(duration=32))
    _assert_clean(fd + sd)
    assert ff["kind"] == "mp4" and sf["mp4"][0]["duration_s"] == pytest.approx(32, abs=0.05)
    # a lone file is still checked: wrong canvas
    _, _, sd, _ = _check(ts, _doc(duration=32, width=640, height=360))
    assert "wrong_resolution" in _kinds(sd)


def test_s3_recording_on_the_loopback_server(rec_av, raw, bucket, tmp_path):
    for path in rec_av.rglob("*"):
        if path.is_file():
            raw.upload_file(str(path), bucket, f"upload/{path.relative_to(rec_av).as_posix()}")
    fd, ff, sd, _ = _check(f"s3://{bucket}/upload", _doc(duration=32), work_dir=tmp_path / "w")
    _assert_clean(fd + sd)
    assert ff["location"] == f"s3://{bucket}/upload" and len(ff["segments"]) == 3
    assert (tmp_path / "w" / "serverResponse.json").is_file()
    key = f"upload/rec/day1/{BASE}.m3u8"
    recording = open_recording(f"s3://{bucket}/{key}", work_dir=tmp_path / "w2")
    assert recording.kind == "m3u8" and all(s.exists for s in recording.segments)
    with pytest.raises(Exception, match="no objects found"):
        open_recording(f"s3://{bucket}/nothing-here", work_dir=tmp_path / "w3")


# --- injected faults ----------------------------------------------------------------------
def test_missing_segment(copy_av):
    missing = _segments(copy_av)[1]
    missing.unlink()
    fd, _, sd, _ = _check(copy_av, _doc(duration=32))
    kinds = _kinds(fd)
    assert "missing_segment" in kinds
    [d] = [d for d in fd if d.kind == "missing_segment"]
    assert d.file == f"rec/day1/{missing.name}" and missing.name in d.message
    assert "15.000-30.000 s" in d.message
    assert "wrong_fps" not in _kinds(sd)  # the gap is not read as a slow frame rate


def test_renamed_segment(copy_av):
    seg = _segments(copy_av)[1]
    seg.rename(seg.with_name(seg.name.replace(CNAME, "room2")))
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    assert {"missing_segment", "unlisted_segment"} <= _kinds(fd)
    # renamed in the playlist too: a bad name, found by name
    playlist = next(_folder(copy_av).glob("*.m3u8"))
    playlist.write_text(playlist.read_text().replace(seg.name,
                                                     seg.name.replace(CNAME, "room2")))
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    bad = [d for d in fd if d.kind == "bad_name"]
    assert len(bad) == 1 and "room2" in bad[0].message
    assert "missing_segment" not in _kinds(fd)


def test_segment_time_and_length_faults(copy_av):
    playlist = next(_folder(copy_av).glob("*.m3u8"))
    text = playlist.read_text()
    first = text.replace("#EXTINF:15.000000", "#EXTINF:12.000000", 1)
    playlist.write_text(first.replace("#EXT-X-TARGETDURATION:18", "#EXT-X-TARGETDURATION:10")
                        .replace("#EXT-X-ENDLIST\n", ""))
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    kinds = _kinds(fd)
    assert {"segment_length", "name_time", "extinf_mismatch", "target_duration",
            "missing_endlist"} <= kinds
    [td] = [d for d in fd if d.kind == "target_duration"]
    assert (td.expected, td.observed) == (18, 10)


def _ffmpeg_segments(folder: Path, cut: int) -> Path:
    """Make a video-only HLS recording with FFmpeg: key frames every 2 s, one cut at ``cut``."""
    import subprocess
    from datetime import timedelta

    import imageio_ffmpeg

    folder.mkdir(parents=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=0x336699:s=320x180:r=15", "-t", "24", "-c:v", "libx264",
                    "-preset", "veryfast",
                    "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0",
                    "-pix_fmt", "yuv420p", "-f", "segment", "-segment_times", str(cut),
                    "-segment_format", "mpegts", str(folder / "seg%d.ts")],
                   check=True, capture_output=True)
    start = datetime(2026, 3, 4, 5, 6, 7, 89000, tzinfo=UTC)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-ALLOW-CACHE:YES", "#EXT-X-TARGETDURATION:18"]
    lines.append(f"#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,"
                 f"TIME={start:%Y%m%d%H%M%S}089")
    for i, length in enumerate((cut, 24 - cut)):
        when = start + timedelta(seconds=0 if i == 0 else cut)
        name = f"{BASE}_{when:%Y%m%d%H%M%S}089.ts"
        (folder / f"seg{i}.ts").rename(folder / name)
        lines += [f"#EXTINF:{length}.000000", name]
    (folder / f"{BASE}.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    return folder


def test_segments_cut_at_the_first_key_frame_after_15_s(tmp_path):
    """Segments are cut at the first key frame after 15 s.

    FFmpeg-made segments, key frame every 2 s: a cut at 16 s is the rule (15 s + the wait for
    a key frame); a cut at 18 s skipped the key frame at 16 s.
    """
    doc = _doc(duration=24, av_types=("hls",), stream_types=1)
    fd, ff, sd, _ = _check(_ffmpeg_segments(tmp_path / "ok", 16), doc)
    _assert_clean(fd + sd)
    assert ff["key_frame_interval_s"] == 2.0
    fd, _, _, _ = _check(_ffmpeg_segments(tmp_path / "late", 18), doc)
    [d] = [d for d in fd if d.kind == "segment_length"]
    assert (d.expected, d.observed) == (16.0, 18.0)


def test_segment_far_too_long(copy_av):
    playlist = next(_folder(copy_av).glob("*.m3u8"))
    playlist.write_text(playlist.read_text().replace("#EXTINF:15.000000", "#EXTINF:31.000000",
                                                     1))
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    assert "segment_length" in _kinds(fd)


def test_audio_profile_0_vs_1(tmp_path_factory):
    out = _record(tmp_path_factory, "ap0", av_types=("hls",), duration=SHORT)
    _, _, sd, _ = _check(out, _doc(av_types=("hls",), audio_profile=1, duration=SHORT))
    [d] = [d for d in sd if d.kind == "audio_bitrate"]
    assert d.expected == 128 and d.observed < 0.6 * 128


def test_missing_mp4(copy_av):
    next(_folder(copy_av).glob("*.mp4")).unlink()
    fd, _, _, sf = _check(copy_av, _doc(duration=32))
    kinds = _kinds(fd)
    assert "missing_mp4" in kinds and "file_list" in kinds  # the response still lists it
    assert sf["mp4"] == []


def test_mp4_rollover(tmp_path, monkeypatch):
    """MP4 parts must match the rollover.

    Parts of 15 s are right for a 15 s rollover, wrong for 2 h; a 32 s part is too long for
    10 s.
    """
    import layoutkit.comparison.files as files
    import layoutkit.record.sinks as recorder

    monkeypatch.setattr(recorder, "rollover_seconds", lambda profile: 15)
    doc = _doc(duration=20)
    record(parse_scenario(doc), tmp_path)
    monkeypatch.setattr(files, "ROLLOVER_SLACK_S", 1.0)
    monkeypatch.setattr(files, "rollover_seconds", lambda profile: 15)
    fd, ff, _, _ = _check(tmp_path, doc)
    _assert_clean(fd)
    assert [m["duration_s"] for m in ff["mp4s"]] == pytest.approx([15, 5], abs=0.05)
    monkeypatch.setattr(files, "rollover_seconds", lambda profile: 7200)
    fd, _, _, _ = _check(tmp_path, doc)
    [d] = fd
    assert d.kind == "mp4_rollover" and d.expected == 7200
    assert d.observed == pytest.approx(15, abs=0.05)
    monkeypatch.setattr(files, "rollover_seconds", lambda profile: 10)
    fd, _, _, _ = _check(tmp_path, doc)
    [d] = fd
    assert d.kind == "mp4_rollover" and d.file.endswith("_0.mp4")


def test_missing_playlist(copy_av):
    next(_folder(copy_av).glob("*.m3u8")).unlink()
    recording = open_recording(copy_av)
    assert recording.playlist is None and len(recording.unlisted_segments) == 3
    fd, _, sd, _ = _check(copy_av, _doc(duration=32))
    assert {"no_playlist", "unlisted_segment", "file_list"} == _kinds(fd)
    _assert_clean(sd)  # the MP4 is still checked


def test_unexpected_mp4(rec_av):
    fd, _, _, _ = _check(rec_av, _doc(duration=32, av_types=("hls",)))
    assert {"unexpected_mp4", "file_list"} <= _kinds(fd)


def _damage(seg: Path, how: str) -> None:
    """Damage a TS segment in place: 300 bytes ``"flipped"``, or ``"truncated"`` mid-packet."""
    data = bytearray(seg.read_bytes())
    if how == "flipped":
        rng = random.Random(7)
        for _ in range(300):  # past the first packets (PAT/PMT stay readable)
            data[rng.randrange(2000, len(data))] ^= 0xFF
    else:  # cut mid-packet
        del data[len(data) // 2 + 77:]
    seg.write_bytes(bytes(data))


def test_truncated_last_segment(copy_av):
    _damage(_segments(copy_av)[-1], "truncated")
    fd, ff, _sd, _ = _check(copy_av, _doc(duration=32))
    kinds = _kinds(fd)
    assert "truncated_segment" in kinds and "extinf_mismatch" in kinds
    assert ff["segments"][-1]["media_s"] < 2.0


def test_truncated_mp4(copy_av):
    mp4 = next(_folder(copy_av).glob("*.mp4"))
    data = mp4.read_bytes()
    mp4.write_bytes(data[: len(data) // 2])
    fd, _, sd, _ = _check(copy_av, _doc(duration=32))
    assert _kinds(fd) == {"undecodable_mp4"}
    assert [d.file for d in sd] == [f"rec/day1/{mp4.name}"] and _kinds(sd) == {"duration"}


def test_garbage_segment_is_undecodable(copy_av):
    seg = _segments(copy_av)[1]
    seg.write_bytes(b"\x47" + bytes(range(256)) * 40)
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    assert "undecodable_segment" in _kinds(fd)


def test_damaged_segment_is_undecodable(copy_av):
    seg = _segments(copy_av)[0]
    _damage(seg, "flipped")
    fd, ff, _, _ = _check(copy_av, _doc(duration=32))
    [d] = [d for d in fd if d.kind == "undecodable_segment"]
    assert d.file == f"rec/day1/{seg.name}" and d.observed > 0
    assert ff["segments"][0]["errors"] == d.observed and ff["segments"][1]["errors"] == 0


@pytest.mark.parametrize("how", ["flipped", "truncated"])
def test_decoding_errors_of_the_content_pass_are_the_probes(copy_av, how, monkeypatch):
    """Compare decodes the pictures and the sound once; the file check takes their errors.

    The file check takes the decoding errors from the content pass (``video_errors``,
    ``audio_errors``), only walks the packets, and finds what decoding them itself finds.
    """
    import layoutkit as lk

    segments = _segments(copy_av)
    _damage(segments[0 if how == "flipped" else -1], how)
    recording, scenario = open_recording(copy_av), parse_scenario(_doc(duration=32))
    stats = DecodeStats()
    assert sum(1 for _ in iter_video(media_paths(recording), stats=stats)) > 0
    assert sorted(stats.video_errors) == sorted(str(p) for p in segments)
    heard = DecodeStats()
    assert sum(1 for _ in iter_audio(media_paths(recording), stats=heard)) > 0
    assert sorted(heard.audio_errors) == sorted(str(p) for p in segments)
    own, own_facts = check_files(recording, scenario)
    probe_mod._WALKED.clear()  # walked afresh (a decoding walk would answer a plain one)
    walks = []
    real_inspect = probe_mod.inspect_media
    monkeypatch.setattr(probe_mod, "inspect_media",
                        lambda path, *, decode=True: walks.append(decode) or real_inspect(
                            path, decode=decode))
    taken, taken_facts = check_files(
        recording, scenario, decoded=DecodedErrors(stats.video_errors, heard.audio_errors))
    assert walks and not any(walks)  # nothing decoded again: the packets walked only
    assert [(d.kind, d.file, d.observed) for d in taken] == \
        [(d.kind, d.file, d.observed) for d in own]
    assert taken_facts["segments"] == own_facts["segments"]
    errors = [s["errors"] for s in own_facts["segments"]]
    if how == "flipped":  # pictures that fail to decode: counted by the content pass
        assert stats.video_errors[str(segments[0])][0] > 0
        assert errors[0] > 0 and "undecodable_segment" in _kinds(own)
    # and through compare, which decodes the pictures once
    result = lk.compare(lk.load_scenario(_doc(duration=32)), copy_av)
    assert [s["errors"] for s in result.files["segments"]] == errors
    assert {(d.kind, d.file) for d in result.differences if d.kind in FILE_KINDS} == \
        {(d.kind, d.file) for d in own}


def test_wrong_resolution(tmp_path_factory):
    out = _record(tmp_path_factory, "res", width=640, height=360, duration=SHORT)
    fd, _, sd, _ = _check(out, _doc(duration=SHORT))
    _assert_clean(fd)
    [d] = [d for d in sd if d.kind == "wrong_resolution" and d.file is None]
    assert d.expected == [320, 180] and d.observed == [640, 360]
    assert _kinds(sd) == {"wrong_resolution"}


def test_odd_canvas_is_rounded_to_even(tmp_path_factory):
    out = _record(tmp_path_factory, "odd", width=321, height=181, duration=SHORT)
    fd, _, sd, sf = _check(out, _doc(width=321, height=181, duration=SHORT))
    _assert_clean(fd + sd)
    assert sf["hls"]["video"]["sizes"] == [[320, 180]]


def test_wrong_fps(tmp_path_factory):
    out = _record(tmp_path_factory, "fps", fps=10, duration=SHORT)
    fd, _, sd, _ = _check(out, _doc(fps=15, duration=SHORT))
    assert "wrong_fps" in _kinds(sd)
    [d] = [d for d in sd if d.kind == "wrong_fps" and d.file is None]
    assert (d.expected, d.observed) == (15, 10)
    _assert_clean(fd)
    assert _kinds(sd) == {"wrong_fps"}


def test_wrong_audio_channels(tmp_path_factory):
    out = _record(tmp_path_factory, "stereo", audio_profile=2, duration=SHORT)
    fd, _, sd, _ = _check(out, _doc(audio_profile=2, duration=SHORT))
    _assert_clean(fd + sd)
    _, _, sd, _ = _check(out, _doc(audio_profile=0, duration=SHORT))
    [d] = [d for d in sd if d.kind == "audio_channels" and d.file is None]
    assert (d.expected, d.observed) == (1, 2)
    assert "audio_bitrate" in _kinds(sd)  # 192 Kbps is not ~48


def test_stop_response_of_another_recording(copy_av):
    path = copy_av / "serverResponse.json"
    saved = json.loads(path.read_text())
    saved["fileList"][1]["fileName"] = "rec/day1/other_room_1_0.mp4"
    saved["fileList"][0]["trackType"] = "audio"
    path.write_text(json.dumps({"sid": "ffff", "cname": CNAME, "serverResponse": saved}))
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    messages = [d.message for d in fd if d.kind == "file_list"]
    assert any("other_room_1_0.mp4, which is not in the recording" in m for m in messages)
    assert any(f"does not list rec/day1/{BASE}_0.mp4" in m for m in messages)
    assert any("trackType 'audio'" in m for m in messages)
    assert any("sid 'ffff'" in m for m in messages)
    assert _kinds(fd) == {"file_list"}


def test_playlist_tags_as_the_recorder_writes_them(copy_av):
    playlist = next(_folder(copy_av).glob("*.m3u8"))
    text = playlist.read_text()
    playlist.write_text(text.replace("#EXT-X-ALLOW-CACHE:YES\n", "")
                        .replace("#EXT-X-VERSION:3", "#EXT-X-VERSION:4")
                        .replace("#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,"
                                 "TIME=20260304050607089\n", "")
                        .replace("TIME=20260304050607089", "TIME=20260304050608089"))
    fd, _, _, _ = _check(copy_av, _doc(duration=32))
    tags = [d for d in fd if d.kind == "missing_tag"]
    assert {d.expected for d in tags} == {"#EXT-X-ALLOW-CACHE:YES", "#EXT-X-VERSION:3"}
    events = [d.message for d in fd if d.kind == "track_events"]
    assert len(events) == 2 and any("['VIDEO']" in m for m in events)
    assert any("by 1.000 s" in m for m in events)


def test_wrong_sid_and_cname(rec_av):
    fd, _, _, _ = _check(rec_av, _doc(duration=32, sid="ffeeddccbbaa99887766554433221100"))
    bad = [d for d in fd if d.kind == "bad_name"]
    assert len(bad) == 1 + 3 + 1  # playlist, 3 segments, MP4
    assert all("00112233445566778899aabbccddeeff" in d.message for d in bad)
    doc = _doc(duration=32)
    doc["cname"] = doc["start"]["cname"] = "room2"
    fd, _, _, _ = _check(rec_av, doc)
    bad = [d for d in fd if d.kind == "bad_name"]
    assert len(bad) == 5 and all("'room2'" in d.message or "room2" in d.expected for d in bad)


def test_silent_audio_bitrate_is_not_a_false_alarm(tmp_path_factory):
    out = _record(tmp_path_factory, "silent", stream_types=0, audio="silence", duration=SHORT)
    fd, _, sd, _sf = _check(out, _doc(stream_types=0, audio="silence", duration=SHORT))
    _assert_clean(fd + sd)


def test_duration(rec_hls):
    """20 s recorded: a 32 s plan differs; a 23 s plan matches once aligned (3 s late)."""
    recording = open_recording(rec_hls)
    diffs, _ = check_streams(recording, parse_scenario(_doc(duration=32, av_types=("hls",))))
    [d] = diffs
    assert d.kind == "duration" and d.expected == 32 and d.observed == pytest.approx(20, abs=.1)
    later = parse_scenario(_doc(duration=23, av_types=("hls",)))
    _assert_clean(check_streams(recording, later)[0])  # unaligned: lenient
    diffs, facts = check_streams(recording, later, offset_s=-3)
    _assert_clean(diffs)
    assert facts["expected"]["duration_s"] == 20
    assert _kinds(check_streams(recording, later, offset_s=0)[0]) == {"duration"}


def test_ffmpeg_reencode_at_a_third_of_the_bitrate_cut_late(rec_av, tmp_path):
    import subprocess

    import imageio_ffmpeg

    mp4 = next(_folder(rec_av).glob("*.mp4"))
    out = tmp_path / f"{BASE}_0.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", "3", "-i",
                    str(mp4), "-c:v", "libx264", "-preset", "veryfast", "-b:v", "67k", "-c:a",
                    "copy", str(out)],
                   check=True, capture_output=True)
    recording = open_recording(out)
    scenario = parse_scenario(_doc(duration=32))
    _assert_clean(check_files(recording, scenario)[0])
    diffs, facts = check_streams(recording, scenario, offset_s=-3)
    _assert_clean(diffs)
    assert facts["mp4"][0]["duration_s"] == pytest.approx(29, abs=0.1)


# --- inputs and parsers -------------------------------------------------------------------
REAL = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-ALLOW-CACHE:YES
#EXT-X-TARGETDURATION:18
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME=20240910090123736
#EXTINF:15.010000
sid_cn__uid_s_259__uid_e_audio_20240910090123736.ts
#EXTINF:15.020000
sid_cn__uid_s_259__uid_e_audio_20240910090138746.ts
#EXTINF:15.020000
sid_cn__uid_s_259__uid_e_audio_20240910090153766.ts
#EXTINF:9.940000
sid_cn__uid_s_259__uid_e_audio_20240910090208786.ts
#EXT-X-ENDLIST
"""


def test_parse_the_real_playlist_of_the_spec():
    p = parse_playlist(REAL)
    other = m3u8.loads(REAL)
    assert [s.uri for s in p.segments] == [s.uri for s in other.segments]
    assert [s.seconds for s in p.segments] == [s.duration for s in other.segments]
    assert p.segments[0].duration == Fraction(1501, 100)
    assert (p.target_duration, p.version, p.media_sequence, p.endlist) == (18, 3, 0, True)
    [event] = p.track_events
    assert (event.event, event.track_type, event.time_format) == ("START", "AUDIO", "date17")
    assert event.time == datetime(2024, 9, 10, 9, 1, 23, 736000, tzinfo=UTC)
    assert not p.segments[0].discontinuity and not p.segments[0].extinf_comma
    # names advance by the previous EXTINF, to the millisecond
    times = [parse_ts_name(s.uri).time for s in p.segments]
    steps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert steps == pytest.approx([s.seconds for s in p.segments[:-1]], abs=1e-6)


def test_parse_agora_tags_and_comma():
    text = ("#EXTM3U\n#EXT-X-TARGETDURATION:18\n#EXT-X-DISCONTINUITY\n"
            "#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=1568597779021\n"
            "#EXT-X-AGORA-ROTATE:WIDTH=640,HEIGHT=360,ROTATE=90,TIME=1568597779021\n"
            "#EXTINF:15.019000,\na_b_1568597779021.ts\n")
    p = parse_playlist(text)
    [seg] = p.segments
    assert seg.discontinuity and seg.extinf_comma and seg.duration == Fraction(15019, 1000)
    assert seg.track_events[0].time_format == "epoch_ms"
    assert seg.agora_tags[0].name == "ROTATE" and seg.agora_tags[0].get("ROTATE") == "90"
    assert not p.endlist


@pytest.mark.parametrize("text", ["", "hello\n", "#EXTM3U\n#EXTINF:abc\nx.ts\n",
                                  "#EXTM3U\n#EXT-X-TARGETDURATION:x\n"])
def test_unreadable_playlists(text):
    with pytest.raises(MediaError, match=r"playlist|#EXT"):
        parse_playlist(text, source="p.m3u8")


def test_times_and_names():
    assert parse_time("20190611073246073")[0] == datetime(2019, 6, 11, 7, 32, 46, 73000,
                                                          tzinfo=UTC)
    assert parse_time("1560238366073")[1] == "epoch_ms"
    assert parse_time("20191311073246073") is None  # month 13
    assert parse_time("156023836607") is None
    n = parse_ts_name(f"{BASE}_20260304050607089.ts")
    assert (n.sid, n.cname, n.time_format) == (SID, CNAME, "date17")
    assert parse_ts_name(f"{BASE}_1772600767089.ts", cname=CNAME).time_format == "epoch_ms"
    assert parse_ts_name(f"{BASE}_2026.ts") is None
    assert parse_m3u8_name(f"prefix/{BASE}.m3u8", sid=SID).cname == CNAME
    assert parse_m3u8_name(f"{BASE}.m3u8", cname="room") is None
    assert parse_mp4_name(f"{BASE}_3.mp4").index == 3
    assert parse_mp4_name(f"{BASE}_03.mp4") is None
    assert parse_mp4_name(f"bak1_{BASE}_0.mp4", sid=SID).failover == 1
    assert parse_name(f"{BASE}.json") is None


def test_stop_response_shapes():
    plain = parse_stop_response({"fileListMode": "string", "fileList": "a/x.m3u8",
                                 "uploadingStatus": "uploaded"})
    assert [f.file_name for f in plain.files] == ["a/x.m3u8"] and plain.list_shape == "string"
    old = parse_stop_response({"serverResponse": {"fileListMode": "json", "fileList": [
        {"filename": "a/x.m3u8", "trackType": "audio_and_video", "uid": "0",
         "mixedAllUser": "true", "isPlayable": "true", "sliceStartTime": "1562724971626"},
        {"fileName": "a/x_0.mp4", "sliceStartTime": 1562724971}]}, "sid": "s"})
    first, second = old.files
    assert first.mixed_all_user is True and first.slice_start_unit == "ms"
    assert first.slice_start == datetime(2019, 7, 10, 2, 16, 11, 626000, tzinfo=UTC)
    assert second.slice_start_unit == "s" and old.sid == "s"
    # a time after year 9999 (the slow fuzz found it) or infinite is no time, not a crash
    for far in (253402300800000.0, 1e300, float("inf"), float("nan"), "99999999999999999999"):
        [entry] = parse_stop_response({"fileList": [{"fileName": "a/x.m3u8",
                                                     "sliceStartTime": far}]}).files
        assert entry.slice_start is None and entry.slice_start_raw is far
    failed = parse_stop_response({"code": 49, "serverResponse": {"fileListStr": "a/x.m3u8"}})
    assert failed.list_key == "fileListStr" and failed.files[0].file_name == "a/x.m3u8"
    with pytest.raises(MediaError, match="no fileList"):
        parse_stop_response({"serverResponse": {"payload": {"message": "failed"}}})


def test_open_recording_errors(tmp_path, rec_av):
    with pytest.raises(MediaError, match="no such file"):
        open_recording(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaError, match="no recording found"):
        open_recording(tmp_path / "empty")
    bad = tmp_path / "bad" / "x.m3u8"
    bad.parent.mkdir()
    bad.write_text("not a playlist\n")
    with pytest.raises(MediaError, match="not an M3U8"):
        open_recording(bad.parent)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(MediaError, match="not a recording"):
        open_recording(tmp_path / "x.txt")
    (tmp_path / "r.json").write_text('{"hello": 1}')
    with pytest.raises(MediaError, match="not a stop response"):
        open_recording(rec_av, server_response=tmp_path / "r.json")
