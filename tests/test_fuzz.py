"""Fuzzing (issue 9): every outcome is a result or a LayoutkitError with a path.

The request parser, the scenario parser, the JSON text reader, the command line
(``layoutkit.cli.main`` with generated argv, run inside a temporary folder) and the
playlist, file-name and stop-response parsers ``compare`` uses.  A few hundred examples each
in the default run; 10,000 each in the slow run (``-m slow``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from layoutkit.cli import main
from layoutkit.cloudfiles.parse import (
    parse_m3u8_name,
    parse_mp4_name,
    parse_name,
    parse_playlist,
    parse_stop_response,
    parse_time,
    parse_ts_name,
)
from layoutkit.errors import MediaError, RequestError
from layoutkit.request.jsontext import load_json_document
from layoutkit.request.parse import parse_request
from layoutkit.scenario import parse_scenario
from tests.helpers import scenario_doc

SAMPLES = Path(__file__).parent.parent / "samples"
FAST, SLOW = 100, 10_000


def _settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None, derandomize=n == FAST,
                    suppress_health_check=list(HealthCheck))


def _twice(check: Any, strategy: st.SearchStrategy) -> tuple[Any, Any]:
    """Return the check as a default-run test (FAST examples) and a slow one (SLOW examples)."""
    fast = _settings(FAST)(given(strategy)(check))
    slow = pytest.mark.slow(_settings(SLOW)(given(strategy)(check)))
    return fast, slow


# --- values ---------------------------------------------------------------------------------
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", " ", "\ud800", "a\udfffb", "#FF0000", "#fff", "640x360", "1e9", "NaN", "../x",
     "pipe:0", "12:30:00.mp4", "http://127.0.0.1:9/x.mp4", "\x00", "\ufeff", "0", "-1",
     "testsrc", "tone", "hls", "mp4", "1001", "4294967296"])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-10, 5000)
            | st.floats(allow_nan=True, allow_infinity=True) | _TEXT
            | st.sampled_from([10**4000, -0.0, 1e308, 2**32, 2**32 - 1, 0.1, 3999]))
JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=12)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys / indexes) into a JSON value."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def mutated(draw: Any, seeds: list[Any]) -> Any:
    """Draw a seed document with a few of its values replaced, removed or added."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(_TEXT)] = draw(JSON)
        else:
            parent.append(draw(JSON))
    return doc


REQUEST_SEEDS = [json.loads(p.read_text()) for p in sorted(SAMPLES.glob("*.json"))
                 if not p.name.startswith("scenario")]
SCENARIO_SEEDS = [json.loads((SAMPLES / "scenario-demo.json").read_text()),
                  scenario_doc([{"uid": "1", "join": 2}, {"uid": "2", "source": "#00FF00"}],
                               [{"t": 3, "uid": "1", "action": "mute_video"},
                                {"t": 4, "action": "update_layout",
                                 "body": {"mixedVideoLayout": 2, "maxResolutionUid": "2"}}],
                               duration=10, transcoding={"width": 320, "height": 180})]


def _assert_has_paths(exc: RequestError) -> None:
    assert exc.problems, "an error without problems"
    for problem in (*exc.problems, *exc.warnings):
        assert isinstance(problem.path, str) and problem.rule
        str(problem).encode("utf-8")  # printable


# --- the parsers ------------------------------------------------------------------------------
def _check_request(doc: Any, kind: str | None) -> None:
    try:
        model, warnings = parse_request(doc, kind=kind)
    except RequestError as exc:
        _assert_has_paths(exc)
        return
    assert model is not None and all(w.severity == "warning" for w in warnings)


def _check_request_pair(pair: tuple[Any, str | None]) -> None:
    _check_request(*pair)


test_request_parser, test_request_parser_slow = _twice(
    _check_request_pair, st.tuples(mutated(REQUEST_SEEDS) | JSON,
                                   st.sampled_from([None, "start", "updateLayout", "acquire",
                                                    "update", "stop", "clientRequest"])))


def _check_scenario(doc: Any) -> None:
    try:
        scenario = parse_scenario(doc)
    except RequestError as exc:
        _assert_has_paths(exc)
        return
    assert scenario.duration > 0 and scenario.users


test_scenario_parser, test_scenario_parser_slow = _twice(
    _check_scenario, mutated(SCENARIO_SEEDS) | JSON)


def _check_json_text(text: str) -> None:
    try:
        load_json_document(text, source="doc.json")
    except RequestError as exc:
        _assert_has_paths(exc)
        assert exc.problems[0].rule.startswith("malformed JSON at line ")


_JSON_TEXT = (st.text(max_size=60) | JSON.map(lambda v: json.dumps(v, allow_nan=True))
              | mutated(SCENARIO_SEEDS).map(json.dumps).flatmap(
                  lambda text: st.integers(0, len(text)).map(lambda i: text[:i] + text[i + 1:]))
              | st.sampled_from(["\ufeff{}", '{"a": 1, "a": 2}', "[" * 5000, "1" * 5000]))
test_json_text, test_json_text_slow = _twice(_check_json_text, _JSON_TEXT)


PLAYLIST = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:18
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO_AND_VIDEO,TIMESTAMP=1562724971626
#EXTINF:15.000
0123456789abcdef0123456789abcdef_room_20190710021611626.ts
#EXTINF:9.5,
0123456789abcdef0123456789abcdef_room_20190710021626626.ts
#EXT-X-ENDLIST
"""


@st.composite
def playlists(draw: Any) -> str:
    lines = PLAYLIST.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["replace", "remove", "insert", "cut"]))
        if action == "replace":
            lines[i] = draw(_TEXT | st.sampled_from(["#EXTINF:nan", "#EXTINF:-1",
                                                    "#EXTINF:1e999", "#EXT-X-STREAM-INF:",
                                                    "#EXT-X-AGORA-TRACK-EVENT:=,=",
                                                    "x_y_99999999999999999.ts"]))
        elif action == "remove":
            del lines[i]
        elif action == "insert":
            lines.insert(i, draw(_TEXT))
        else:
            lines[i] = lines[i][:draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines)


def _check_playlist(text: str) -> None:
    try:
        parse_playlist(text, source="rec/x.m3u8")
    except MediaError as exc:
        assert str(exc).startswith("rec/x.m3u8: "), str(exc)


test_playlist_parser, test_playlist_parser_slow = _twice(_check_playlist,
                                                         playlists() | st.text(max_size=80))

_NAME_PART = st.text(st.characters(codec="utf-8"), max_size=20)
_NAMES = (st.tuples(_NAME_PART, st.sampled_from(["_", "__", "_room_"]), _NAME_PART,
                    st.sampled_from([".m3u8", ".ts", ".mp4", "_0.mp4", "_².mp4", "__1.ts",
                                     "_20190710021611626.ts", "_99991399999999999.ts",
                                     "_1562724971626.ts", ""])).map("".join)
          | _NAME_PART)


def _check_names(args: tuple[str, str | None, str | None]) -> None:
    name, sid, cname = args
    for parser in (parse_m3u8_name, parse_ts_name, parse_mp4_name, parse_name):
        parsed = parser(name, sid=sid, cname=cname)
        assert parsed is None or parsed.name
    parse_time(name.rpartition("_")[2].partition(".")[0])


test_name_parsers, test_name_parsers_slow = _twice(
    _check_names, st.tuples(_NAMES, st.none() | _NAME_PART, st.none() | _NAME_PART))

STOP = {"serverResponse": {"fileListMode": "json", "fileList": [
    {"fileName": "a/b_room.m3u8", "trackType": "audio_and_video", "uid": "0",
     "mixedAllUser": True, "isPlayable": True, "sliceStartTime": 1562724971626}],
    "uploadingStatus": "uploaded"}, "resourceId": "r", "sid": "s"}


def _check_stop(doc: Any) -> None:
    try:
        parse_stop_response(doc, source="stop.json")
    except MediaError as exc:
        assert str(exc).startswith("stop.json: "), str(exc)


test_stop_response_parser, test_stop_response_parser_slow = _twice(
    _check_stop, mutated([STOP, STOP["serverResponse"]]) | JSON)


# --- the command line -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Make a work folder three levels inside a temporary root, with inputs of every kind."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    work = root / "a" / "b" / "work"
    work.mkdir(parents=True)
    tiny = scenario_doc([{"uid": "1", "source": "#FF0000", "audio": "silence"},
                         {"uid": "2", "join": 0.2}],
                        [{"t": 0.2, "uid": "1", "action": "mute_video"}], duration=0.4,
                        transcoding={"width": 64, "height": 64, "fps": 5})
    (work / "s.json").write_text(json.dumps(tiny))
    (work / "r.json").write_text((SAMPLES / "start-bestfit-seed.json").read_text())
    (work / "bad.json").write_text('{"cname": "x", "cname": ')
    (work / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(tiny).encode())
    (work / "file").write_text("not a folder")
    (work / "folder").mkdir()
    os.symlink(work / "missing", work / "dangling")
    os.mkfifo(work / "fifo")
    return work


_COMMANDS = ["validate", "layout", "preview", "mix", "compare", "testsrc", "demo"]
_WORDS = ["s.json", "r.json", "bad.json", "bom.json", "file", "folder", "dangling", "fifo",
          "missing.json", "out", "out.png", "o.gif", "o.mp4", "../up.png", "rec", "-o",
          "--output", "--force", "--json", "--quiet", "--sheet", "--gif", "--mp4", "--at",
          "--users", "--canvas", "--source-size", "--mode", "--kind", "--profile", "--uid",
          "--duration", "--size", "--fps", "--bitrate", "--upload", "--report", "--infer",
          "--max-resolution-uid", "--server-response", "--version", "0", "0.1", "nan",
          "-1", "1e9", "inf", "3", "17", "1,2,2", "1001", "64x64", "0x0", "100000x100000",
          "7x5", "bestfit", "vertical", "custom", "start", "stop", "vertical_column_order=x",
          "after_stop=last", "s3://", "s3://bucket/p", "http://127.0.0.1:9/x", "pipe:0",
          "12:30:00.mp4", "\ud800", "", "--", "-"]
_TOKEN = st.sampled_from(_WORDS) | st.text(st.characters(codec="utf-8",
                                                         exclude_characters="/\x00"),
                                           max_size=8)
ARGV = st.tuples(st.sampled_from(_COMMANDS), st.lists(_TOKEN, max_size=7)).map(
    lambda t: [t[0], *t[1]])


def _check_cli(folder: Path, argv: list[str]) -> None:
    if argv[0] == "demo" and "-o" not in argv and "--output" not in argv:
        argv = [*argv, "-o", "file"]  # the whole demo is not a fuzz case; its refusal is
    if argv[0] == "testsrc" and "--duration" not in argv:
        argv = [*argv, "--duration", "0.2"]
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.suppress(SystemExit):  # --help exits (0) as argparse does
            code = main(argv, out=out, err=err)
            assert code in (0, 1, 2), code
    finally:
        os.chdir(before)
    assert "internal error" not in err.getvalue(), (argv, err.getvalue())
    assert "Traceback" not in err.getvalue()


def _cli_test(n: int) -> Any:
    @_settings(n)
    @given(argv=ARGV)
    @example(argv=["validate", "s.json"])
    @example(argv=["validate", "fifo"])  # a FIFO nobody writes: empty, not a wait
    @example(argv=["validate", "-"])  # standard input that cannot be read (pytest's)
    @example(argv=["validate", "bom.json", "--json"])
    @example(argv=["preview", "s.json", "--at", "0.1", "-o", "out.png", "--force"])
    @example(argv=["preview", "s.json", "--gif", "-o", "o.gif", "--force"])
    @example(argv=["preview", "r.json", "--sheet", "-o", "../up.png", "--force"])
    @example(argv=["mix", "s.json", "-o", "rec", "--force", "--quiet"])
    @example(argv=["compare", "s.json", "rec"])
    @example(argv=["testsrc", "--uid", "1", "--size", "64x64", "-o", "o.mp4", "--force"])
    def test(cli_folder: Path, argv: list[str]) -> None:
        _check_cli(cli_folder, argv)
        root = cli_folder.parent.parent.parent
        outside = {p.name for p in root.parent.iterdir()} - _outside_at_start
        assert not outside, f"written outside the temporary root: {outside}"
    return test


_outside_at_start: set[str] = set()


@pytest.fixture(scope="module", autouse=True)
def _record_outside(cli_folder: Path) -> None:
    _outside_at_start.update(p.name for p in cli_folder.parent.parent.parent.parent.iterdir())


test_cli = _cli_test(FAST)
test_cli_slow = pytest.mark.slow(_cli_test(SLOW))
