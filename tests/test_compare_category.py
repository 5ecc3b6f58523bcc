"""Findings by kind (issue 19, item 8): every difference has a category.

The categories (``files``, ``streams``, ``content``) are shown in the text, the JSON and the
report; ``content_only`` judges a re-packaged download on its streams and content; a single
file given by path keeps the name its user gave it.

The recordings are tiny (320x180, 4 s) and made by our recorder; the re-packaged download is
FFmpeg's own HLS muxer (``ffmpeg -c copy -f hls``, the imageio-ffmpeg binary), which writes
none of Agora's playlist tags and its own names.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import layoutkit as lk
from layoutkit.cli import main
from layoutkit.cloudfiles.parse import segment_uri_problem
from layoutkit.comparison import files, model, streams
from layoutkit.comparison.model import (
    CATEGORIES,
    KIND_CATEGORY,
    CompareResult,
    Difference,
    category_counts,
    category_of,
)

from .helpers import scenario_doc

ROOT = Path(__file__).resolve().parents[1] / "layoutkit"
SID = "00112233445566778899aabbccddeeff"
#: What FFmpeg's HLS muxer leaves out or names its own way, all in the ``files`` category.
REMUX_FILE_KINDS = {"bad_name", "missing_tag", "target_duration", "track_events"}


# --- one home for the rule ------------------------------------------------------------------
def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
        else None


def _call_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _returned(fn: ast.FunctionDef, *, first: bool) -> set[str]:
    """Return the string constants a function returns (``a if c else b`` too).

    With ``first``, the first element of a returned tuple.
    """
    out: set[str] = set()
    for node in ast.walk(fn):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        values = [node.value]
        if isinstance(node.value, ast.IfExp):
            values = [node.value.body, node.value.orelse]
        for v in values:
            if first and isinstance(v, ast.Tuple) and v.elts:
                v = v.elts[0]
            if _string(v) is not None:
                out.add(_string(v))
    return out


def _emitted(path: Path) -> set[str]:
    """Return every difference kind a module names where it makes a difference.

    That is: the first argument (or ``kind=``) of ``Difference(...)``, ``found.add(...)``,
    ``add(...)`` and ``_transition(...)``, what a ``..._kind`` function returns (not
    ``source_kind``), and the kind of a refusal (``_refusal`` / ``segment_uri_problem``:
    ``(kind, rule)``) that the file check reports.
    """
    kinds: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in ("Difference", "add",
                                                              "_transition"):
            kinds |= {s for s in [_string(node.args[0]) if node.args else None,
                                  *(_string(k.value) for k in node.keywords
                                    if k.arg == "kind")] if s}
        elif isinstance(node, ast.FunctionDef) and node.name.endswith("kind") \
                and node.name != "source_kind":  # a user's source kind: file, testsrc, ...
            kinds |= _returned(node, first=False)
        elif isinstance(node, ast.FunctionDef) and node.name in ("_refusal",
                                                                 "segment_uri_problem"):
            kinds |= _returned(node, first=True)
    return kinds


def test_every_kind_any_module_can_emit_has_a_category():
    modules = [*sorted((ROOT / "comparison").rglob("*.py")), ROOT / "cloudfiles" / "parse.py"]
    found = {kind: path.name for path in modules for kind in _emitted(path)}
    # the scan sees every family: file, stream, picture, timing and A/V kinds, and refusals
    assert {"bad_name", "missing_tag", "wrong_fps", "duration", "wrong_user", "missing_user",
            "late_transition", "av_offset", "outside_uri", "bad_uri", "special_file",
            "outside_link"} <= set(found)
    missing = {k: where for k, where in found.items() if k not in KIND_CATEGORY}
    assert not missing, f"kinds without a category in model.KIND_CATEGORY: {missing}"
    # and every listed kind is one a module really emits (no stale entries)
    assert set(KIND_CATEGORY) <= set(found), set(KIND_CATEGORY) - set(found)


def test_the_kind_lists_and_their_categories():
    assert files.KINDS is model.FILE_KINDS and streams.KINDS is model.STREAM_KINDS
    lists = (model.FILE_KINDS, model.STREAM_KINDS, model.CONTENT_KINDS)
    assert sum(len(k) for k in lists) == len(KIND_CATEGORY)  # disjoint, no repeats
    for category, kinds in zip(CATEGORIES, lists, strict=True):
        assert {KIND_CATEGORY[k] for k in kinds} == {category}
    # the refusals of URIs the file check reports are files
    assert category_of(segment_uri_problem("../x.ts")[0]) == "files"
    assert category_of(segment_uri_problem("x" * 5000 + ".ts")[0]) == "files"


def test_category_in_the_difference_and_the_json_document():
    diffs = (Difference("bad_name", "a"), Difference("wrong_resolution", "b"),
             Difference("wrong_user", "c"), Difference("wrong_user", "d"))
    assert [d.category for d in diffs] == ["files", "streams", "content", "content"]
    assert category_counts(diffs) == {"files": 1, "streams": 1, "content": 2}
    doc = CompareResult(verdict="differ", differences=diffs).to_json()
    assert [d["category"] for d in doc["differences"]] == ["files", "streams", "content",
                                                           "content"]
    assert doc["categories"] == {"files": 1, "streams": 1, "content": 2}
    assert doc["judged"] == ["files", "streams", "content"] and "not_judged" not in doc
    aside = CompareResult(verdict="match", judged=("streams", "content"),
                          not_judged=diffs[:1]).to_json()
    assert aside["categories"] == {"streams": 0, "content": 0}
    assert [d["kind"] for d in aside["not_judged"]] == ["bad_name"]


# --- recordings -----------------------------------------------------------------------------
def _doc(uids=("1", "2")) -> dict:
    return scenario_doc([{"uid": u} for u in uids], duration=4, sid=SID,
                        transcoding={"width": 320, "height": 180, "fps": 15, "bitrate": 200,
                                     "mixedVideoLayout": 1},
                        file_config={"avFileType": ["hls", "mp4"]})


def _remux_hls(mp4: Path, folder: Path) -> Path:
    """``ffmpeg -c copy -f hls``: the download re-packaged by FFmpeg's HLS muxer."""
    import imageio_ffmpeg

    folder.mkdir(parents=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp4),
                    "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
                    str(folder / "index.m3u8")], check=True, capture_output=True)
    return folder


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Make the scenario file, its recording, and copies of it as users re-package it.

    The copies: that recording re-muxed by FFmpeg into HLS, a copy of its MP4 and of its TS
    renamed by a user, and a re-muxed recording of the same scenario with the two users
    swapped.
    """
    root = tmp_path_factory.mktemp("category")
    doc = _doc()
    scenario = root / "scen.json"
    scenario.write_text(json.dumps(doc))
    lk.mix(doc, root / "rec")
    lk.mix(_doc(("2", "1")), root / "swapped")
    (mp4,) = (root / "rec").rglob("*.mp4")
    (ts,) = (root / "rec").rglob("*.ts")
    shutil.copy(mp4, root / "meeting.mp4")
    shutil.copy(ts, root / "meeting.ts")
    (bad_mp4,) = (root / "swapped").rglob("*.mp4")
    shutil.copy(bad_mp4, root / "swapped-meeting.mp4")
    return {"doc": doc, "scenario": scenario, "rec": root / "rec",
            "remux": _remux_hls(mp4, root / "remux"),
            "swapped_remux": _remux_hls(bad_mp4, root / "swapped-remux"),
            "mp4": root / "meeting.mp4", "ts": root / "meeting.ts",
            "swapped_mp4": root / "swapped-meeting.mp4"}


def _cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(["compare", *argv], out=out, err=err), out.getvalue()


def _summary(result) -> str:
    return "\n".join(f"{d.category} {d.kind}: {d.message}" for d in result.differences)


# --- (b) a re-packaged download -------------------------------------------------------------
def test_remuxed_download_differs_on_files_only(made):
    result = lk.compare(made["doc"], made["remux"])
    assert result.verdict == "differ"
    assert {d.kind for d in result.differences} >= REMUX_FILE_KINDS, _summary(result)
    assert {d.category for d in result.differences} == {"files"}, _summary(result)
    assert result.counts()["streams"] == result.counts()["content"] == 0
    assert result.counts()["files"] == len(result.differences) and not result.not_judged


def test_remuxed_download_matches_with_content_only(made):
    result = lk.compare(made["doc"], made["remux"], content_only=True)
    assert result.verdict == "match", _summary(result)
    assert result.differences == () and result.judged == ("streams", "content")
    assert {d.kind for d in result.not_judged} >= REMUX_FILE_KINDS
    assert {d.category for d in result.not_judged} == {"files"}
    assert result.offset_s == pytest.approx(0, abs=0.07)  # the content was really judged


def test_content_only_still_judges_the_content(made):
    result = lk.compare(made["doc"], made["swapped_remux"], content_only=True)
    assert result.verdict == "differ"
    assert result.differences and {d.category for d in result.differences} == {"content"}
    assert "wrong_user" in {d.kind for d in result.differences}, _summary(result)


def test_cli_content_only_verdict_line_json_and_groups(made):
    scen, remux = str(made["scenario"]), str(made["remux"])
    code, out = _cli(scen, remux)
    first = out.splitlines()[0]
    assert code == 1
    assert re.fullmatch(r"verdict: differ: \d+ files, 0 streams, 0 content "
                        r"\(offset \+0\.0\d\d s\)", first), first
    n = int(first.split(": ")[2].split()[0])
    assert f"\nfiles: {n}\n  " in out and "\nstreams:" not in out and "\ncontent:" not in out
    code, out = _cli(scen, remux, "--content-only")
    first = out.splitlines()[0]
    assert code == 0
    assert re.fullmatch(rf"verdict: match \(offset \+0\.0\d\d s; "
                        rf"files not judged, {n} differences\)", first), first
    assert f"\nfiles, not judged: {n}\n  " in out
    code, out = _cli(scen, remux, "--content-only", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "match" and doc["differences"] == []
    assert doc["categories"] == {"streams": 0, "content": 0}
    assert doc["judged"] == ["streams", "content"]
    assert {d["category"] for d in doc["not_judged"]} == {"files"} and len(doc["not_judged"]) == n
    code, out = _cli(scen, remux, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["categories"] == {"files": n, "streams": 0, "content": 0}
    assert {d["category"] for d in doc["differences"]} == {"files"}


# --- (c) a single file given by path --------------------------------------------------------
@pytest.mark.parametrize("which", ["mp4", "ts"])
def test_a_lone_file_renamed_by_its_user_matches(made, which):
    result = lk.compare(made["doc"], made[which])
    assert result.verdict == "match", _summary(result)
    assert result.judged == ("streams", "content")
    assert "bad_name" not in {d.kind for d in (*result.differences, *result.not_judged)}
    code, out = _cli(str(made["scenario"]), str(made[which]))
    assert code == 0, out
    assert out.startswith("verdict: match (offset +0.000 s; files not "
                          "judged, 0 differences)")


def test_a_lone_file_is_still_judged_on_streams_and_content(made):
    result = lk.compare(made["doc"], made["swapped_mp4"])
    assert result.verdict == "differ" and "wrong_user" in {d.kind for d in result.differences}
    wide = _doc()
    wide["start"]["clientRequest"]["recordingConfig"]["transcodingConfig"].update(
        width=640, height=360)
    result = lk.compare(wide, made["mp4"])
    assert result.verdict == "differ"
    [d] = [d for d in result.differences if d.kind == "wrong_resolution"]
    assert d.category == "streams" and result.counts()["streams"] >= 1


def test_a_cloud_folder_keeps_its_name_checks(made, tmp_path):
    """The user's name is only a lone file's: the same MP4 in a folder is the cloud's."""
    folder = tmp_path / "download"
    folder.mkdir()
    shutil.copy(made["mp4"], folder / "meeting.mp4")
    result = lk.compare(made["doc"], folder)
    assert result.verdict == "differ" and result.judged == CATEGORIES
    [d] = [d for d in result.differences if d.kind == "bad_name"]
    assert d.category == "files" and d.file == "meeting.mp4"


# --- the report -----------------------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(path: Path) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tags


def _counts(page: str) -> list[tuple[str, str]]:
    """(category, count text) of the verdict box, in page order."""
    return re.findall(r'<div class="category-count" data-category="(\w+)"><b>\w+</b>'
                      r'<span>([^<]*)</span>', page)


def test_report_tags_and_groups_by_category(made, tmp_path):
    result = lk.compare(made["doc"], made["remux"], report=tmp_path / "r.html")
    tags = _tags(tmp_path / "r.html")
    cards = [a for t, a in tags if "difference" in (a.get("class") or "").split()]
    assert len(cards) == len(result.differences)
    assert {a["data-category"] for a in cards} == {"files"}
    groups = [a["data-category"] for t, a in tags if a.get("class") == "summary-group"]
    assert groups == ["files"]
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    n = len(result.differences)
    assert _counts(page) == [("files", str(n)), ("streams", "0"), ("content", "0")]
    assert 'class="cat cat-files">files</span>' in page and 'id="not-judged"' not in page

    result = lk.compare(made["doc"], made["remux"], content_only=True,
                        report=tmp_path / "c.html")
    tags = _tags(tmp_path / "c.html")
    assert not [a for t, a in tags if "difference" in (a.get("class") or "").split()]
    aside = [a for t, a in tags if a.get("class") == "not-judged"]
    assert len(aside) == len(result.not_judged) and {a["data-category"] for a in aside} == \
        {"files"}
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert _counts(page) == [("files", "not judged"), ("streams", "0"), ("content", "0")]
    assert 'id="not-judged"' in page
    assert 'data-verdict="match"' in page
