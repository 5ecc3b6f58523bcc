"""The compare HTML report: rendered from realistic results, opened in headless Chromium.

The results are made here (the analysis is not under test): a ``match`` one and a ``differ``
one with differences of several kinds, whose evidence frames are drawn by the package's own
renderer from a small scenario; the "recorded" frames are modified copies (two tiles swapped,
a transition drawn late, a region black, an upscaled frame), with a little noise and a level
shift as a re-encode would add.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from layoutkit.comparison.heatmap import difference_heatmap, difference_stats
from layoutkit.comparison.model import CompareResult, Difference, Evidence, Interval, RegionTrack
from layoutkit.comparison.report import render_report, write_report
from layoutkit.errors import OutputExistsError
from layoutkit.render import SceneRenderer
from layoutkit.scenario import parse_scenario

from .browser import open_file, save_full_page_screenshot
from .helpers import FAILURES

W, H = 640, 360
CELLS = [(0, 0, 320, 180), (320, 0, 320, 180), (0, 180, 320, 180), (320, 180, 320, 180)]
UIDS = ["1001", "2002", "3003", "4004"]
GREEN, RED, GREY = (0x17, 0x80, 0x3D), (0xC4, 0x2B, 0x1C), (0x5F, 0x66, 0x70)


def _scenario(mute_at: float):
    start = {"cname": "report", "uid": "999", "clientRequest": {"recordingConfig": {
        "transcodingConfig": {"width": W, "height": H, "fps": 15, "bitrate": 500,
                              "mixedVideoLayout": 1, "backgroundColor": "#1E2A38"}}}}
    return parse_scenario({
        "cname": "report", "start": start, "duration": 12,
        "users": [{"uid": u, "platform": "native", "source": "testsrc"} for u in UIDS],
        "events": [{"t": mute_at, "uid": "3003", "action": "mute_video"},
                   {"t": 9, "uid": "4004", "action": "leave"}]})


def _reencoded(rgb: np.ndarray, seed: int) -> np.ndarray:
    """Imitate what a low-bitrate re-encode does to a frame, roughly: noise and a level shift."""
    rng = np.random.default_rng(seed)
    noisy = rgb.astype(np.int16) + 3 + rng.integers(-4, 5, rgb.shape, dtype=np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _swap(rgb: np.ndarray, a: int, b: int) -> np.ndarray:
    out = rgb.copy()
    (xa, ya, w, h), (xb, yb, _, _) = CELLS[a], CELLS[b]
    out[ya:ya + h, xa:xa + w], out[yb:yb + h, xb:xb + w] = (rgb[yb:yb + h, xb:xb + w],
                                                            rgb[ya:ya + h, xa:xa + w])
    return out


@pytest.fixture(scope="module")
def frames():
    """Draw expected and 'recorded' frames for the differ result with the renderer."""
    with SceneRenderer(_scenario(6)) as expected, SceneRenderer(_scenario(6.47)) as late:
        at3 = expected.rendered_frame(Fraction(32, 10)).rgb()
        at62 = expected.rendered_frame(Fraction(62, 10)).rgb()
        late62 = late.rendered_frame(Fraction(62, 10)).rgb()
        at95 = expected.rendered_frame(Fraction(95, 10)).rgb()
    black = at95.copy()
    x, y, w, h = CELLS[3]
    black[y:y + h, x:x + w] = 0
    big = np.asarray(Image.fromarray(at3).resize((2 * W, 2 * H), Image.Resampling.BILINEAR))
    return {"swap": (at3, _reencoded(_swap(at3, 1, 2), 1)),
            "late": (at62, _reencoded(late62, 2)),
            "black": (at95, _reencoded(black, 3)),
            "big": (at3, _reencoded(big, 4))}


def _expected_tracks() -> list[list[Interval]]:
    return [[Interval(0, 12, "1001", "live")],
            [Interval(0, 12, "2002", "live")],
            [Interval(0, 6, "3003", "live"), Interval(6, 9.5, "3003", "last_frame"),
             Interval(9.5, 12, None, "canvas_background")],
            [Interval(0, 9, "4004", "live"), Interval(9, 12, None, "empty")]]


def _facts() -> tuple[dict, dict]:
    segs = [{"name": f"0123abcd_report_2026112509300{i}000.ts", "extinf": 15.0 if i < 2 else 4.2,
             "decodable": True} for i in range(3)]
    files = {"playlist": "0123abcd_report.m3u8", "target_duration": 18,
             "segments": segs, "mp4": ["0123abcd_report_0.mp4"],
             "server_response": {"fileListMode": "json", "uploadingStatus": "uploaded",
                                 "fileList": [{"fileName": "0123abcd_report.m3u8",
                                               "trackType": "audio_and_video",
                                               "sliceStartTime": 1764063000000}]}}
    streams = {"video": {"codec": "h264", "width": W, "height": H, "fps": 15.0,
                         "bitrate_kbps": 512.3},
               "audio": {"codec": "aac", "sample_rate": 48000, "channels": 1,
                         "bitrate_kbps": 47.9},
               "duration_s": 12.04}
    return files, streams


def match_result() -> CompareResult:
    files, streams = _facts()
    tracks = tuple(RegionTrack(i, CELLS[i], tuple(ivs), tuple(ivs))
                   for i, ivs in enumerate(_expected_tracks()))
    return CompareResult(verdict="match", offset_s=2.345, files=files, streams=streams,
                         tracks=tracks,
                         infer={"after_stop": "undetermined", "tag_time": "segment_start"})


def differ_result(frames) -> CompareResult:
    files, streams = _facts()
    exp = _expected_tracks()
    obs = [[Interval(0, 3, "1001", "live"), Interval(3, 12, "1001", "live")],
           [Interval(0, 3, "2002", "live"), Interval(3, 12, "3003", "live")],
           [Interval(0, 3, "3003", "live"), Interval(3, 6.47, "2002", "live"),
            Interval(6.47, 9.97, "2002", "last_frame"),
            Interval(9.97, 12, None, "canvas_background")],
           [Interval(0, 9, "4004", "live"), Interval(9, 12, None, "black")]]
    tracks = tuple(RegionTrack(i, CELLS[i], tuple(exp[i]), tuple(obs[i])) for i in range(4))
    diffs = (
        Difference("wrong_user", "region 1 shows uid 3003, expected uid 2002 (from 3.00 s)",
                   uid="2002", t=3.0, expected="2002", observed="3003", region=1),
        Difference("late_transition", "uid 3003: live → last frame at 6.47 s, expected 6.00 s",
                   uid="3003", t=6.0, expected=6.0, observed=6.47, region=2),
        Difference("wrong_state", "uid 4004 left: region 3 shows black, expected the canvas "
                   "background", uid="4004", t=9.0, expected="empty", observed="black",
                   region=3),
        Difference("missing_segment", "0123abcd_report_20261125093015000.ts is listed in the "
                   "playlist but missing", t=None,
                   file="0123abcd_report_20261125093015000.ts"),
        Difference("wrong_resolution", "video is 1280x720, expected 640x360",
                   expected=[W, H], observed=[2 * W, 2 * H], file="0123abcd_report_0.mp4",
                   t=3.0),
    )
    ev = (Evidence(0, 3.2, *frames["swap"]), Evidence(1, 6.2, *frames["late"]),
          Evidence(2, 9.5, *frames["black"]), Evidence(4, 3.2, *frames["big"]))
    return CompareResult(verdict="differ", offset_s=1.733, differences=diffs, files=files,
                         streams=streams, tracks=tracks, evidence=ev,
                         infer={"after_stop": "undetermined",
                                "vertical_column_order": "left_to_right"})


def error_result() -> CompareResult:
    return CompareResult(verdict="error", error="recording/: no playlist, TS or MP4 found")


# --- the HTML text ------------------------------------------------------------------------
def test_report_is_self_contained(frames):
    html = render_report(differ_result(frames), title="compare", scenario_name="s.json",
                         recording_name="rec/")
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    srcs = re.findall(r'src="([^"]*)"', html)
    assert len(srcs) == 12  # 4 evidences x (expected, recorded, difference)
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert html.count('class="difference"') == 5


def test_special_characters_are_escaped():
    nasty = '<script>alert("x")</script> & <b>bold</b> \'q\''
    result = CompareResult(verdict="differ", differences=(
        Difference("wrong_user", nasty, uid="<u&1>", expected={"a": "<x>"},
                   file="a&b<c>.ts"),), files={"<k>": "v & w"})
    html = render_report(result, title="t <i>&</i>", scenario_name="<s>.json")
    assert "<script" not in html and "<b>bold" not in html and "<i>&</i>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;u&amp;1&gt;" in html and "a&amp;b&lt;c&gt;.ts" in html
    assert "&lt;k&gt;" in html and "v &amp; w" in html and "&lt;s&gt;.json" in html


def test_evidence_is_capped_and_the_rest_listed(frames):
    exp, obs = frames["swap"]
    diffs = tuple(Difference("wrong_user", f"difference {i}", t=float(i % 12), region=i % 4)
                  for i in range(20))
    ev = tuple(Evidence(i, float(i % 12), exp, obs) for i in range(20))
    result = CompareResult(verdict="differ", differences=diffs, evidence=ev,
                           tracks=match_result().tracks)
    html = render_report(result, title="cap", max_evidence=12)
    assert html.count("<img ") == 36
    assert html.count('class="difference"') == 20
    assert "the other 8 are listed without" in html
    assert html.count("<article") == 12 and html.count("<tr class=\"difference\"") == 8
    capped = render_report(result, title="cap", max_evidence=2, max_entries=5)
    assert capped.count("<img ") == 6 and capped.count('class="difference"') == 5
    assert "and 15 more differences" in capped


def test_heat_map_shows_where_frames_differ(frames):
    exp, obs = frames["swap"]
    heat = difference_heatmap(exp, obs, max_width=480)
    assert heat.shape == (270, 480, 3)
    lum = heat.astype(int).sum(axis=2)
    # swapped tiles (regions 1 and 2) are bright, the untouched ones (0 and 3) dark
    assert lum[:135, 240:].mean() > 3 * lum[:135, :240].mean()
    assert lum[135:, :240].mean() > 3 * lum[135:, 240:].mean()
    same = difference_stats(exp, exp)
    assert same.max_abs == 0 and same.psnr_text() == "∞"
    noisy = difference_stats(*frames["late"])  # noise + a late transition in one region
    assert 0 < noisy.mean_abs < 40 and 10 < noisy.psnr_db < 40


def test_write_report_is_atomic_and_never_replaces(tmp_path):
    dest = tmp_path / "report.html"
    write_report(match_result(), dest, title="first")
    assert "first" in dest.read_text()
    with pytest.raises(OutputExistsError, match="exists"):
        write_report(match_result(), dest, title="second")
    assert "first" in dest.read_text()
    write_report(match_result(), dest, title="second", overwrite=True)
    assert "second" in dest.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


# --- in a real browser ----------------------------------------------------------------------
def _shot_dir() -> Path:
    FAILURES.mkdir(exist_ok=True)
    return FAILURES


def _banner_colour(browser, shot: Path) -> tuple[int, int, int]:
    rect = browser.execute_script(
        "const r = document.getElementById('verdict').getBoundingClientRect();"
        "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height,"
        " window.devicePixelRatio];")
    left, top, width, height, dpr = rect
    img = np.asarray(Image.open(shot).convert("RGB"))
    x, y = int((left + 12) * dpr), int((top + height / 2) * dpr)
    assert width > 900 and height > 90, rect  # a big banner across the page
    return tuple(int(v) for v in img[y, x])  # type: ignore[return-value]


def _close(rgb, want, tol=6) -> bool:
    return max(abs(a - b) for a, b in zip(rgb, want, strict=True)) <= tol


def _not_blank(shot: Path) -> np.ndarray:
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[1] >= 1200 and img.shape[0] > 600
    assert img.std() > 20 and len(np.unique(img.reshape(-1, 3)[::97], axis=0)) > 50
    return img


def _dom(browser) -> dict:
    return browser.execute_script("""
      const imgs = [...document.images];
      return {
        verdict: document.querySelector('#verdict .word').textContent.trim(),
        headline: document.querySelector('#verdict .headline').textContent.trim(),
        offset: document.getElementById('offset').textContent.trim(),
        entries: [...document.querySelectorAll('.difference')].map(
            a => [a.dataset.kind, a.querySelector('.message').textContent.trim(),
                  a.querySelectorAll('img').length]),
        images: imgs.length,
        loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
        widths: imgs.map(i => i.getBoundingClientRect().width),
        rows: document.querySelectorAll('svg.timeline g.region-row').length,
        markers: document.querySelectorAll('svg.timeline a.marker').length,
        bars: document.querySelectorAll('svg.timeline g.bar').length,
        svgWidth: document.querySelector('svg.timeline') ?
            document.querySelector('svg.timeline').getBoundingClientRect().width : 0,
        labels: [...document.querySelectorAll('svg.timeline text.uid')].map(t => t.textContent),
        external: performance.getEntriesByType('resource').map(e => e.name)
            .filter(n => !n.startsWith('data:') && !n.startsWith('file:')),
        scrollWidth: document.documentElement.scrollWidth,
      };""")


def test_differ_report_in_browser(browser, frames, tmp_path):
    path = write_report(differ_result(frames), tmp_path / "differ.html",
                        title="compare: report.json vs recording/",
                        scenario_name="report.json", recording_name="recording/")
    open_file(browser, path)
    dom = _dom(browser)
    assert dom["verdict"] == "DIFFER"
    assert "5 ways" in dom["headline"] and dom["offset"] == "+1.733 s"
    assert [e[0] for e in dom["entries"]] == ["wrong_user", "late_transition", "wrong_state",
                                              "missing_segment", "wrong_resolution"]
    assert [e[2] for e in dom["entries"]] == [3, 3, 3, 0, 3]
    assert dom["images"] == 12 and dom["loaded"] == 12
    assert all(300 < w <= 480 for w in dom["widths"]), dom["widths"]  # three side by side
    assert dom["rows"] == 4 and dom["markers"] == 4 and dom["bars"] == 17
    assert dom["svgWidth"] > 1000 and "3003" in dom["labels"]
    assert dom["external"] == [] and dom["scrollWidth"] <= 1280
    shot = save_full_page_screenshot(browser, _shot_dir() / "compare_report_differ.png")
    _not_blank(shot)
    assert _close(_banner_colour(browser, shot), RED)


def test_match_report_in_browser(browser, tmp_path):
    path = write_report(match_result(), tmp_path / "match.html", title="compare: clean",
                        scenario_name="report.json", recording_name="recording/")
    open_file(browser, path)
    dom = _dom(browser)
    assert dom["verdict"] == "MATCH" and dom["entries"] == [] and dom["images"] == 0
    assert dom["rows"] == 4 and dom["markers"] == 0 and dom["offset"] == "+2.345 s"
    shot = save_full_page_screenshot(browser, _shot_dir() / "compare_report_match.png")
    _not_blank(shot)
    assert _close(_banner_colour(browser, shot), GREEN)


def test_error_report_in_browser(browser, tmp_path):
    path = write_report(error_result(), tmp_path / "error.html", title="compare: broken")
    open_file(browser, path)
    text = browser.execute_script("return document.getElementById('verdict').innerText")
    assert "ERROR" in text and "no playlist, TS or MP4 found" in text
    shot = save_full_page_screenshot(browser, _shot_dir() / "compare_report_error.png")
    assert _close(_banner_colour(browser, shot), GREY)


# --- the timeline's geometry and the browser helper ---------------------------------------
def test_timeline_plot_rows_ticks_and_markers():
    from layoutkit.comparison.timeline_plot import plot_timeline

    tracks = match_result().tracks
    diffs = [Difference("late_transition", "m", t=6.0, region=2),
             Difference("late_transition", "close to the previous", t=6.05, region=2),
             Difference("missing_segment", "no time")]
    plot = plot_timeline(tracks, diffs)
    assert [r.region for r in plot.rows] == [0, 1, 2, 3]
    assert [t.label for t in plot.ticks] == [str(s) for s in range(13)]
    assert plot.ticks[0].x == plot.plot_x0 and plot.ticks[-1].x == plot.plot_x1
    a, b = plot.markers
    assert (a.number, a.compact, b.number, b.compact) == (1, False, 2, True)
    row2 = plot.rows[2]
    assert row2.y - 4 == a.y0 and a.y1 == row2.y + row2.height + 4
    assert a.x == pytest.approx(plot.plot_x0 + (plot.plot_x1 - plot.plot_x0) / 2)
    states = [s for s, _, _ in plot.legend]
    assert states == ["live", "last_frame", "canvas_background", "empty"]
    many = plot_timeline(tracks, [Difference("x", "m", t=i / 5, region=0) for i in range(50)])
    assert len(many.markers) == 50 and all(m.compact for m in many.markers)


def test_timeline_markers_sit_on_the_track_of_their_layout():
    """Timeline markers sit on the track of their layout.

    After an update_layout region 2 has two tracks; a difference marks the one whose stretch
    of time holds it (the report once marked the later layout's row).
    """
    from layoutkit.comparison.model import Interval, RegionTrack
    from layoutkit.comparison.timeline_plot import plot_timeline

    def track(region, start, end, rect):
        shown = (Interval(start, end, "7", "live"),)
        return RegionTrack(region, rect, shown, shown)

    tracks = [track(2, 0.0, 16.0, (0, 180, 320, 180)), track(2, 16.0, 24.0, (166, 271, 150, 85))]
    plot = plot_timeline(tracks, [Difference("missing_user", "m", t=6.0, region=2),
                                  Difference("wrong_state", "m", t=20.0, region=2)])
    first, second = plot.rows
    early, late = plot.markers
    assert (early.y0, late.y0) == (first.y - 4, second.y - 4)


def test_browser_fixture_skips_with_the_install_hint(monkeypatch):
    from . import browser as helper

    monkeypatch.setattr(helper, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium chromium-driver"):
        helper.start_browser()
