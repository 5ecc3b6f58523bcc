"""HLS playlists, file names and the stop file list (spec 5.2, 5.3, 5.5; contract section 2).

Playlists are checked twice: as exact text written by hand from the spec, and through the
independent ``m3u8`` parser. Finding about that parser (m3u8 6.0): its default, non-strict
mode reads ``#EXTINF:15.019000`` without the comma (duration 15.019, empty title) and skips
the unknown ``#EXT-X-AGORA-*`` tags; its strict mode (``m3u8.parser.parse(text,
strict=True)``) rejects both the comma-less ``#EXTINF`` and the Agora tags (``ParseError``)
unless a ``custom_tags_parser`` takes the Agora tags and ``correctEXTINF`` adds the comma.
"""

from __future__ import annotations

import math
import string
from urllib.parse import unquote
import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import m3u8
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from m3u8.parser import ParseError
from m3u8.parser import parse as m3u8_parse

from layoutkit.errors import StorageError, OutputExistsError
from layoutkit.cloudfiles import playlist as hls
from layoutkit.cloudfiles import server_response as responses
from layoutkit.record import sinks
from layoutkit.record.sinks import PlaylistWriter
from layoutkit.cloudfiles.playlist import Segment, render_playlist
from layoutkit.cloudfiles.server_response import server_response
from layoutkit.cloudfiles.constants import MP4_MAX_BYTES
from layoutkit.cloudfiles.naming import (
    epoch_ms,
    format_utc,
    m3u8_name,
    mp4_name,
    new_sid,
    prefix_key,
    rollover_seconds,
    ts_name,
)
from layoutkit.profile import Profile
from layoutkit.request.limits import CNAME_CHARS

SID = "432efaf2144e051bb32fb490db89c462"
CNAME = "httpClient463224"
T0 = datetime(2019, 9, 20, 12, 51, 42, 289_000, tzinfo=UTC)


def three_segments(*, tag_time: str = "date17") -> list[Segment]:
    """15.019 s, 15.019 s, 12.523 s from T0; audio and video start with the first."""
    durations = [Fraction("15.019"), Fraction("15.019"), Fraction("12.523")]
    segments, start = [], T0
    for i, d in enumerate(durations):
        events = (("AUDIO", T0), ("VIDEO", T0)) if i == 0 else ()
        segments.append(Segment(ts_name(SID, CNAME, start, tag_time=tag_time), d, start,
                                track_events=events))
        start += timedelta(seconds=float(d))
    return segments


# Written by hand from spec 5.3 and the manage-files audio sample.
THREE_SEGMENTS_TEXT = """\
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-ALLOW-CACHE:YES
#EXT-X-TARGETDURATION:18
#EXT-X-DISCONTINUITY
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME=20190920125142289
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=20190920125142289
#EXTINF:15.019000
432efaf2144e051bb32fb490db89c462_httpClient463224_20190920125142289.ts
#EXTINF:15.019000
432efaf2144e051bb32fb490db89c462_httpClient463224_20190920125157308.ts
#EXTINF:12.523000
432efaf2144e051bb32fb490db89c462_httpClient463224_20190920125212327.ts
#EXT-X-ENDLIST
"""


def agora_tags_parser(line: str, lineno: int, data: dict[str, Any], state: dict[str, Any]) -> bool:
    """m3u8 custom tag hook: collect ``#EXT-X-AGORA-*`` lines with the next segment index."""
    if line.startswith("#EXT-X-AGORA-"):
        data.setdefault("agora", []).append((len(data["segments"]), line))
        return True
    return False


# --- naming -------------------------------------------------------------------------------

def test_format_utc_spec_example() -> None:
    moment = datetime(2019, 6, 11, 7, 32, 46, 73_000, tzinfo=UTC)
    assert format_utc(moment) == "20190611073246073"
    assert format_utc(moment, tag_time="epoch_ms") == "1560238366073"
    assert len(format_utc(moment)) == 17


def test_format_utc_truncates_milliseconds_and_never_rolls_over() -> None:
    moment = datetime(2019, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert format_utc(moment) == "20191231235959999"
    assert format_utc(moment, tag_time="epoch_ms") == str(epoch_ms(moment))
    assert epoch_ms(moment) == 1577836799999


def test_format_utc_converts_other_zones_to_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2019, 6, 11, 15, 32, 46, 73_000, tzinfo=beijing)
    assert format_utc(moment) == "20190611073246073"


def test_format_utc_refuses_naive_times_and_unknown_formats() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_utc(datetime(2019, 6, 11))
    with pytest.raises(ValueError, match="tag_time"):
        format_utc(T0, tag_time="iso")


def test_file_names() -> None:
    start = datetime(2019, 6, 11, 7, 32, 46, 73_000, tzinfo=UTC)
    assert m3u8_name(SID, CNAME) == f"{SID}_{CNAME}.m3u8"
    assert ts_name(SID, CNAME, start) == f"{SID}_{CNAME}_20190611073246073.ts"
    assert ts_name(SID, CNAME, start, tag_time="epoch_ms") == f"{SID}_{CNAME}_1560238366073.ts"
    assert mp4_name(SID, CNAME, 0) == f"{SID}_{CNAME}_0.mp4"
    assert mp4_name(SID, CNAME, 12) == f"{SID}_{CNAME}_12.mp4"
    # channel names are kept as they are (every request-valid character)
    odd = "a b!#$%&()+-:;<=.>?@[]^_{}|~,"
    assert m3u8_name("s", odd) == f"s_{odd}.m3u8"


@pytest.mark.parametrize("bad", ["a/b", "", "a\nb", "a\0b"])
def test_names_refuse_path_and_line_breaking_characters(bad: str) -> None:
    with pytest.raises(ValueError, match="cname"):
        m3u8_name(SID, bad)


@pytest.mark.parametrize("index", [-1, 1.0, True])
def test_mp4_index_is_a_natural_number(index: Any) -> None:
    with pytest.raises(ValueError, match="index"):
        mp4_name(SID, CNAME, index)


def test_prefix_key() -> None:
    name = m3u8_name(SID, CNAME)
    assert prefix_key(["aaaa"], name) == f"aaaa/{name}"
    assert prefix_key(("directory1", "directory2"), name) == f"directory1/directory2/{name}"
    assert prefix_key([], name) == name
    with pytest.raises(TypeError):
        prefix_key("aaaa", name)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"prefix\[1\]"):
        prefix_key(["a", ""], name)


def test_new_sid() -> None:
    sid = new_sid()
    assert re.fullmatch(r"[0-9a-f]{32}", sid)
    assert new_sid() != sid
    assert new_sid(1) == new_sid(1)
    assert new_sid(1) != new_sid(2)
    assert re.fullmatch(r"[0-9a-f]{32}", new_sid(0))
    with pytest.raises(TypeError):
        new_sid("seed")  # type: ignore[arg-type]


def test_mp4_rollover() -> None:
    assert rollover_seconds(Profile()) == 7200
    assert rollover_seconds(Profile(mp4_rollover="3h")) == 10800
    assert MP4_MAX_BYTES == 2 * 1024**3


# --- playlist text ------------------------------------------------------------------------

def test_three_segment_playlist_exact_text() -> None:
    assert render_playlist(three_segments(), ended=True) == THREE_SEGMENTS_TEXT


def test_correct_extinf_adds_the_comma_only() -> None:
    text = render_playlist(three_segments(), ended=True, correct_extinf=True)
    expected = re.sub(r"^(#EXTINF:[0-9.]+)$", r"\1,", THREE_SEGMENTS_TEXT, flags=re.M)
    assert "#EXTINF:15.019000,\n" in expected
    assert text == expected


def test_reproduces_the_docs_audio_sample_verbatim() -> None:
    """manage-files "Sample M3U8 file for audio" (individual-mode names, same tags)."""
    sample = """\
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-ALLOW-CACHE:YES
#EXT-X-TARGETDURATION:18
#EXT-X-DISCONTINUITY
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME=20190920125142289
#EXTINF:15.019000
sid713476478245_cnameagora__uid_s_123__uid_e_audio_20190920125142289.ts
#EXTINF:15.019000
sid713476478245_cnameagora__uid_s_123__uid_e_audio_20190920125157307.ts
#EXTINF:15.019000
sid713476478245_cnameagora__uid_s_123__uid_e_audio_20190920125212326.ts
#EXTINF:15.019000
sid713476478245_cnameagora__uid_s_123__uid_e_audio_20190920125227345.ts
#EXTINF:12.523000
sid713476478245_cnameagora__uid_s_123__uid_e_audio_20190920125242363.ts
#EXT-X-ENDLIST
"""
    segments = []
    for i, line in enumerate(sample.splitlines()):
        if line.startswith("#EXTINF:"):
            name = sample.splitlines()[i + 1]
            start = datetime.strptime(name[-20:-6], "%Y%m%d%H%M%S").replace(
                microsecond=int(name[-6:-3]) * 1000, tzinfo=UTC)
            events = (("AUDIO", start),) if not segments else ()
            segments.append(Segment(name, Fraction(line[8:]), start, track_events=events))
    assert render_playlist(segments, ended=True) == sample


def test_discontinuity_and_track_events_after_a_break() -> None:
    segments = three_segments()
    restart = segments[2].start
    segments[2] = Segment(segments[2].name, segments[2].duration, restart, discontinuity=True,
                          track_events=(("VIDEO", restart + timedelta(milliseconds=5)),))
    lines = render_playlist(segments, ended=False).splitlines()
    third = lines.index(segments[2].name)
    assert lines[third - 3:third] == [
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=20190920125212332",
        "#EXTINF:12.523000",
    ]
    assert lines.count("#EXT-X-DISCONTINUITY") == 2
    assert "#EXT-X-ENDLIST" not in lines
    parsed = m3u8.loads("\n".join(lines))
    assert [s.discontinuity for s in parsed.segments] == [True, False, True]


def test_first_segment_marked_discontinuous_gets_one_tag() -> None:
    segments = three_segments()
    segments[0] = Segment(segments[0].name, segments[0].duration, segments[0].start,
                          discontinuity=True)
    assert render_playlist(segments, ended=True).count("#EXT-X-DISCONTINUITY") == 1


def test_epoch_ms_tag_time() -> None:
    text = render_playlist(three_segments(tag_time="epoch_ms"), ended=True, tag_time="epoch_ms")
    ms = epoch_ms(T0)
    assert f"#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME={ms}\n" in text
    assert f"{SID}_{CNAME}_{ms}.ts\n" in text


def test_target_duration() -> None:
    one = [Segment("a.ts", Fraction("33.326"), T0)]
    assert "#EXT-X-TARGETDURATION:34\n" in render_playlist(one, ended=True)  # docs' video sample
    assert "#EXT-X-TARGETDURATION:18\n" in render_playlist([], ended=False)
    exact = [Segment("a.ts", Fraction(19), T0)]
    assert hls.target_duration(exact) == 19
    # a duration that rounds down to the microsecond does not raise the target
    assert hls.target_duration([Segment("a.ts", Fraction(19) + Fraction(1, 10**8), T0)]) == 19


def test_extinf_rounds_to_the_microsecond() -> None:
    assert hls.extinf_value(Fraction(2, 3)) == "0.666667"
    assert hls.extinf_value(Fraction(1801, 90000)) == "0.020011"
    assert hls.extinf_value(Fraction(15)) == "15.000000"


def test_segment_checks() -> None:
    with pytest.raises(TypeError, match="Fraction"):
        Segment("a.ts", 15.019, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="> 0"):
        Segment("a.ts", Fraction(0), T0)
    with pytest.raises(ValueError, match="TRACK_TYPE"):
        Segment("a.ts", Fraction(1), T0, track_events=(("audio", T0),))
    with pytest.raises(ValueError, match="naive"):
        Segment("a.ts", Fraction(1), datetime(2019, 1, 1))
    with pytest.raises(ValueError, match="name"):
        Segment("#a.ts", Fraction(1), T0)
    assert Segment("a.ts", 15, T0).duration == Fraction(15)  # type: ignore[arg-type]


# --- the independent parser ---------------------------------------------------------------

def test_m3u8_library_reads_our_playlist() -> None:
    segments = three_segments()
    parsed = m3u8.loads(render_playlist(segments, ended=True))
    assert [s.uri for s in parsed.segments] == [s.name for s in segments]
    assert [s.duration for s in parsed.segments] == [15.019, 15.019, 12.523]
    assert [s.title for s in parsed.segments] == ["", "", ""]
    assert parsed.target_duration == 18
    assert parsed.media_sequence == 0
    assert parsed.version == 3
    assert parsed.allow_cache == "yes"
    assert parsed.is_endlist
    assert not m3u8.loads(render_playlist(segments, ended=False)).is_endlist


def test_m3u8_strict_mode_needs_the_comma_and_a_hook_for_agora_tags() -> None:
    """The finding the module docstring reports, pinned so a parser upgrade shows up here."""
    plain = render_playlist(three_segments(), ended=True)
    with pytest.raises(ParseError):
        m3u8_parse(plain, strict=True)  # the Agora tag (first unknown line) is refused
    with pytest.raises(ParseError, match="EXTINF"):
        m3u8_parse(plain, strict=True, custom_tags_parser=agora_tags_parser)
    data = m3u8_parse(render_playlist(three_segments(), ended=True, correct_extinf=True),
                      strict=True, custom_tags_parser=agora_tags_parser)
    assert [s["duration"] for s in data["segments"]] == [15.019, 15.019, 12.523]
    assert data["agora"] == [
        (0, "#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME=20190920125142289"),
        (0, "#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=20190920125142289"),
    ]


URI_UNRESERVED = set(string.ascii_letters + string.digits + "-._~")


@st.composite
def segment_lists(draw: st.DrawFn) -> tuple[list[Segment], str]:
    tag_time = draw(st.sampled_from(["date17", "epoch_ms"]))
    cname = draw(st.text(st.sampled_from(sorted(CNAME_CHARS)), min_size=1, max_size=20))
    ms = draw(st.integers(0, 4_102_444_800_000))  # 1970 .. 2100
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    segments: list[Segment] = []
    for _ in range(draw(st.integers(0, 12))):
        duration = Fraction(draw(st.integers(1, 400 * 90_000)),
                            draw(st.sampled_from([1, 1000, 48_000, 90_000, 1_000_003])))
        kinds = draw(st.lists(st.sampled_from(["AUDIO", "VIDEO"]), max_size=2, unique=True))
        segments.append(Segment(ts_name("s" * 32, cname, start, tag_time=tag_time), duration,
                                start, discontinuity=draw(st.booleans()),
                                track_events=tuple((k, start) for k in kinds)))
        start += timedelta(milliseconds=math.ceil(duration * 1000))
    return segments, tag_time


@given(segment_lists(), st.booleans(), st.booleans())
@settings(max_examples=100, deadline=None)
def test_m3u8_library_round_trip(case: tuple[list[Segment], str], ended: bool,
                                 correct_extinf: bool) -> None:
    segments, tag_time = case
    text = render_playlist(segments, ended=ended, correct_extinf=correct_extinf,
                           tag_time=tag_time)
    parsed = m3u8.loads(text, custom_tags_parser=agora_tags_parser)
    # URIs are the names percent-encoded (RFC 3986); decoding gives the names back
    assert [unquote(s.uri) for s in parsed.segments] == [s.name for s in segments]
    assert all(set(s.uri) <= URI_UNRESERVED | {"%"} for s in parsed.segments)
    assert [round(s.duration * 10**6) for s in parsed.segments] == [
        round(s.duration * 10**6) for s in segments]
    assert [s.discontinuity for s in parsed.segments] == [
        i == 0 or s.discontinuity for i, s in enumerate(segments)]
    assert parsed.is_endlist is ended
    assert parsed.media_sequence == 0
    longest = max((s.duration for s in parsed.segments), default=0)
    assert parsed.target_duration == max(18, math.ceil(longest))
    assert all(round(s.duration) <= parsed.target_duration for s in parsed.segments)
    expected_events = [
        (i, f"#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE={k},"
            f"TIME={format_utc(t, tag_time=tag_time)}")
        for i, s in enumerate(segments) for k, t in s.track_events]
    assert parsed.data.get("agora", []) == expected_events
    assert text.endswith("\n") and "\r" not in text


# --- PlaylistWriter -----------------------------------------------------------------------

def test_writer_playlist_always_lists_exactly_the_added_segments(tmp_path: Path) -> None:
    path = tmp_path / "rec" / m3u8_name(SID, CNAME)
    writer = PlaylistWriter(path)
    assert not path.exists()  # Agora creates the M3U8 after the first segment
    segments = three_segments()
    for n, segment in enumerate(segments, 1):
        writer.add(segment)
        parsed = m3u8.load(str(path))
        assert [s.uri for s in parsed.segments] == [s.name for s in segments[:n]]
        assert not parsed.is_endlist
        assert path.read_text() == render_playlist(segments[:n], ended=False)
        assert writer.segments == tuple(segments[:n])
    writer.finish()
    writer.finish()  # idempotent
    assert path.read_text() == THREE_SEGMENTS_TEXT
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files
    with pytest.raises(RuntimeError, match="finished"):
        writer.add(Segment("late.ts", Fraction(1), T0))


def test_writer_correct_extinf_and_tag_time(tmp_path: Path) -> None:
    path = tmp_path / "p.m3u8"
    writer = PlaylistWriter(path, correct_extinf=True, tag_time="epoch_ms")
    for segment in three_segments(tag_time="epoch_ms"):
        writer.add(segment)
    writer.finish()
    assert path.read_text() == render_playlist(three_segments(tag_time="epoch_ms"), ended=True,
                                               correct_extinf=True, tag_time="epoch_ms")
    with pytest.raises(ValueError, match="tag_time"):
        PlaylistWriter(path, tag_time="iso")


def test_writer_finish_without_segments(tmp_path: Path) -> None:
    path = tmp_path / "p.m3u8"
    PlaylistWriter(path).finish()
    parsed = m3u8.load(str(path))
    assert parsed.segments == [] and parsed.is_endlist


def test_writer_refuses_duplicate_names(tmp_path: Path) -> None:
    writer = PlaylistWriter(tmp_path / "p.m3u8")
    writer.add(Segment("a.ts", Fraction(15), T0))
    with pytest.raises(ValueError, match="already listed"):
        writer.add(Segment("a.ts", Fraction(15), T0))
    assert len(writer.segments) == 1


def test_writer_overwrite_false_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "p.m3u8"
    path.write_text("user's file\n")
    with pytest.raises(OutputExistsError, match="exists"):
        PlaylistWriter(path, overwrite=False).add(Segment("a.ts", Fraction(15), T0))
    assert path.read_text() == "user's file\n"
    writer = PlaylistWriter(path)  # default: the caller has checked the folder
    writer.add(Segment("a.ts", Fraction(15), T0))
    assert m3u8.load(str(path)).segments[0].uri == "a.ts"


def test_writer_failed_write_leaves_the_previous_playlist(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.m3u8"
    writer = PlaylistWriter(path)
    first, second = three_segments()[:2]
    writer.add(first)
    before = path.read_text()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sinks.os, "fsync", broken_fsync)
    with pytest.raises(StorageError, match="No space left"):
        writer.add(second)
    assert path.read_text() == before
    assert writer.segments == (first,)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    monkeypatch.undo()
    writer.add(second)  # the same segment can be listed once writing works again
    assert [s.uri for s in m3u8.load(str(path)).segments] == [first.name, second.name]


def test_writer_concurrent_reader_always_sees_a_whole_playlist(tmp_path: Path) -> None:
    path = tmp_path / "p.m3u8"
    writer = PlaylistWriter(path)
    names = [f"seg{i:04d}.ts" for i in range(60)]
    seen: list[int] = []
    problems: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            parsed = m3u8.loads(text)
            uris = [s.uri for s in parsed.segments]
            if uris != names[:len(uris)] or not text.endswith("\n"):
                problems.append(text)
            seen.append(len(uris))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i, name in enumerate(names):
            writer.add(Segment(name, Fraction(15), T0 + timedelta(seconds=15 * i)))
        writer.finish()
    finally:
        done.set()
        thread.join()
    assert not problems
    assert seen and seen == sorted(seen)  # the list only grows
    assert len(m3u8.load(str(path)).segments) == len(names)


# --- serverResponse -----------------------------------------------------------------------

SLICE_START = datetime(2019, 7, 10, 2, 16, 11, 626_000, tzinfo=UTC)  # 1562724971626


def test_server_response_hls_only_is_a_string() -> None:
    key = prefix_key(["aaaa"], m3u8_name(SID, CNAME))
    assert server_response(m3u8_key=key, mp4_keys=[], slice_start=SLICE_START) == {
        "fileListMode": "string",
        "fileList": "aaaa/432efaf2144e051bb32fb490db89c462_httpClient463224.m3u8",
        "uploadingStatus": "uploaded",
    }


def test_server_response_with_mp4_is_json_m3u8_first() -> None:
    m3u8_key = prefix_key(["aaaa"], m3u8_name(SID, CNAME))
    mp4_key = prefix_key(["aaaa"], mp4_name(SID, CNAME, 0))
    entry = {"trackType": "audio_and_video", "uid": "0", "mixedAllUser": True,
             "isPlayable": True, "sliceStartTime": 1562724971626}
    assert server_response(m3u8_key=m3u8_key, mp4_keys=[mp4_key], slice_start=SLICE_START) == {
        "fileListMode": "json",
        "fileList": [
            {"fileName": "aaaa/432efaf2144e051bb32fb490db89c462_httpClient463224.m3u8", **entry},
            {"fileName": "aaaa/432efaf2144e051bb32fb490db89c462_httpClient463224_0.mp4", **entry},
        ],
        "uploadingStatus": "uploaded",
    }


def test_server_response_several_mp4_parts_and_track_types() -> None:
    later = SLICE_START + timedelta(hours=2)
    response = server_response(m3u8_key="m.m3u8", mp4_keys=["a_0.mp4", "a_1.mp4"],
                               slice_start=SLICE_START, mp4_slice_starts=[SLICE_START, later],
                               track_type=responses.track_type_of(0), uploading_status="backuped")
    files = response["fileList"]
    assert [f["fileName"] for f in files] == ["m.m3u8", "a_0.mp4", "a_1.mp4"]
    assert [f["sliceStartTime"] for f in files] == [1562724971626, 1562724971626,
                                                    1562724971626 + 7_200_000]
    assert {f["trackType"] for f in files} == {"audio"}
    assert response["uploadingStatus"] == "backuped"
    assert [responses.track_type_of(n) for n in (0, 1, 2)] == ["audio", "video", "audio_and_video"]


def test_server_response_checks() -> None:
    with pytest.raises(ValueError, match="mp4_slice_starts"):
        server_response(m3u8_key="m", mp4_keys=["a", "b"], slice_start=SLICE_START,
                        mp4_slice_starts=[SLICE_START])
    with pytest.raises(ValueError, match="track_type"):
        server_response(m3u8_key="m", mp4_keys=[], slice_start=SLICE_START, track_type="av")
    with pytest.raises(ValueError, match="naive"):
        server_response(m3u8_key="m", mp4_keys=[], slice_start=datetime(2019, 1, 1))
    with pytest.raises(ValueError, match="streamTypes"):
        responses.track_type_of(3)
