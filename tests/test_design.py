"""``layoutkit design``: the server's answers, and the page driven in real headless Chromium.

One server (in a thread, on a free port) and one browser per module.  Every picture the page
shows is fetched by its URL and compared with the package's own functions (``lk.preview``,
``lk.frame_at``); every message is compared with what ``layoutkit validate`` (or
``preview``) prints for the same document.  Screenshots go to tests/_failures/design-*.png.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.cli import main as cli_main
from layoutkit.design import DesignServer, check_text, create_app
from layoutkit.design.session import DEFAULT_BODY, DesignSession
from layoutkit.request.dump import masked
from layoutkit.request.parse import parse_request

from .browser import save_full_page_screenshot, start_browser
from .helpers import FAILURES, assert_frames_close

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
WINDOW = (1440, 1000)


# ---------------------------------------------------------------------- helpers
def _cli(*argv: str) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(argv), out=out, err=err)
    return code, [line for line in err.getvalue().splitlines() if line]


def _validate_lines(tmp_path: Path, text: str, name: str = "body.json", *,
                    path: Path | None = None) -> list[str]:
    """Return what ``layoutkit validate`` prints on stderr for this text (or the file ``path``).

    Without the file name it starts every line with and its final count line.
    """
    if path is None:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
    lines = _unnamed(_cli("validate", str(path))[1], path)
    return [line for line in lines if not line.endswith("(Agora error code 2: invalid parameter)")]


def _unnamed(lines: list[str], path: Path) -> list[str]:
    """``lines`` without the ``FILE: `` prefix the command line names the file with."""
    return [line.removeprefix(f"{path}: ") for line in lines]


def _get(url: str, token: str | None = None) -> bytes:
    headers = {} if token is None else {"X-Layoutkit-Token": token}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as response:
        return bytes(response.read())


def _page_token(url: str) -> str:
    """Return the token the designer writes into its page (what the page sends on every call)."""
    match = re.search(r'<meta name="layoutkit-token" content="([^"]+)">', _get(url).decode())
    assert match, "the page carries no token"
    return match.group(1)


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _holder(doc: dict) -> dict:
    return doc["clientRequest"]["recordingConfig"]["transcodingConfig"]


# ---------------------------------------------------------------------- without a browser
BAD_BODIES = [
    '{"uid": "999", "cname": "c", "clientRequest": {"recordingConfig": {"transcodingConfig":'
    ' {"mixedVideoLayuot": 1, "backgroundColor": "red", "width": 100000}}}}',
    '{"mixedVideoLayout": 3, "layoutConfig": [{"x_axis": 0.9, "y_axis": 0, "width": 0.3,'
    ' "height": 1.0000001}]}',
    '{"mixedVideoLayout": 1,}',
    '[1, 2]',
]


@pytest.mark.parametrize("name", ["start-custom.json", "start-bestfit-seed.json",
                                  "update-layout-bestfit.json", "scenario-demo.json"])
def test_messages_of_the_samples_are_validates(tmp_path, name):
    text = (SAMPLES / name).read_text(encoding="utf-8")
    checked = check_text(text, base_dir=SAMPLES)
    assert checked.ok
    assert [m.text for m in checked.messages] == _validate_lines(tmp_path, text,
                                                                 path=SAMPLES / name)


@pytest.mark.parametrize("text", BAD_BODIES)
def test_messages_of_bad_bodies_are_validates(tmp_path, text):
    checked = check_text(text)
    assert not checked.ok and checked.messages
    assert [m.text for m in checked.messages] == _validate_lines(tmp_path, text)


@pytest.fixture(scope="module")
def client():
    app = create_app(None, base_dir=SAMPLES)
    client = app.test_client()
    client.environ_base["HTTP_X_LAYOUTKIT_TOKEN"] = app.config["DESIGN_GUARD"].token
    yield client
    app.config["DESIGN_SESSION"].close()
    app.config["DESIGN_UPLOADS"].cleanup()


def test_render_answer_is_lk_preview_with_its_regions(client):
    body = {"mixedVideoLayout": 2, "maxResolutionUid": "3", "backgroundColor": "#336699"}
    answer = client.post("/api/render", json={"text": json.dumps(body), "users": 5,
                                              "canvas": [640, 360]}).get_json()
    assert answer["ok"] and answer["messages"] == [] and answer["canvas"] == [640, 360]
    picture = _png(client.get(f"/picture/{answer['picture']}.png").data)
    expected = lk.preview(lk.load_request(body), users=5, canvas_wh=(640, 360))
    assert_frames_close(picture, expected, max_mean_abs=0, name="design-api-render")
    regions = lk.compute_regions(lk.load_request(body).layout, [str(i) for i in range(1, 6)],
                                 canvas_wh=(640, 360))
    assert [[r["x"], r["y"], r["w"], r["h"]] for r in answer["regions"]] == regions.rects.tolist()
    assert [r["uid"] for r in answer["regions"]] == list(regions.uids)


def test_server_errors_are_json_messages_never_tracebacks(client, monkeypatch):
    answers = [
        client.post("/api/render", data="not json", content_type="text/plain"),
        client.post("/api/render", json={"text": "{}", "users": 18}),
        client.post("/api/render", json={"text": "{}", "users": ["1", "x y"]}),
        client.post("/api/frame", json={"text": "{}", "t": "soon"}),
        client.get("/picture/000000-nothing.png"),
        client.get("/api/nothing"),
    ]
    session = client.application.config["DESIGN_SESSION"]
    monkeypatch.setattr(session, "render_request", lambda *a, **k: 1 / 0)
    answers.append(client.post("/api/render", json={"text": "{}", "users": 2}))
    texts = []
    for response in answers:
        doc = response.get_json()
        assert response.status_code >= 400 and doc["ok"] is False, response.data
        texts += [m["text"] for m in doc["messages"]]
    assert not any("Traceback" in t or 'File "' in t for t in texts), texts
    assert "users: the count must be 1..17 (got 18)" in texts
    assert any(t.startswith("users: 'x y': ") for t in texts)
    assert "t must be a number of seconds (got 'soon')" in texts
    assert texts[-1] == "internal error: ZeroDivisionError: division by zero (please report it)"


def test_export_rounds_fractions_to_six_decimals_and_validates(client):
    body = json.loads(json.dumps(DEFAULT_BODY))
    _holder(body).update(mixedVideoLayout=3, layoutConfig=[
        {"x_axis": 1 / 3, "y_axis": 0.1, "width": 1 / 3, "height": 0.5, "alpha": 2 / 3}])
    answer = client.post("/api/export", json={"text": json.dumps(body)}).get_json()
    assert answer["ok"] and answer["messages"] == []
    region = _holder(json.loads(answer["text"]))["layoutConfig"][0]
    assert region == {"x_axis": 0.333333, "y_axis": 0.1, "width": 0.333333, "height": 0.5,
                      "alpha": 0.666667}
    parse_request(json.loads(answer["text"]))  # the exported body validates


def _render_1080p_17(session: DesignSession, colour: int) -> dict:
    body = json.loads(json.dumps(DEFAULT_BODY))
    _holder(body).update(width=1920, height=1080, backgroundColor=f"#0000{colour:02X}")
    answer = session.render_request(json.dumps(body), users=[str(i) for i in range(1, 18)])
    assert answer["ok"], answer["messages"]
    return answer


def test_a_render_seen_before_comes_back_at_once(tmp_path):
    session = DesignSession(base_dir=SAMPLES, upload_dir=tmp_path)
    answer = _render_1080p_17(session, 1)
    assert len(answer["regions"]) == 17 and answer["canvas"] == [1920, 1080]
    assert "cached" not in _render_1080p_17(session, 2)
    again = _render_1080p_17(session, 1)
    assert again["cached"] and again["picture"] == answer["picture"]  # undo / redo
    assert session.picture(again["picture"]) == session.picture(answer["picture"])


@pytest.mark.slow
def test_render_of_1080p_with_17_users_takes_under_100_ms(tmp_path):
    """The render endpoint's work for a 1080p best-fit canvas of 17 users takes under 100 ms.

    The work is check, draw, PNG; timed, so it runs with the slow tests (a loaded machine
    would fail it).
    """
    session = DesignSession(base_dir=SAMPLES, upload_dir=tmp_path)
    times = [_render_1080p_17(session, i)["ms"] for i in range(10)]
    assert min(times) < 100, times


def test_uploads_are_checked_like_the_cloud(client, tmp_path):
    from PIL import Image

    png, jpg = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (64, 36), (10, 200, 30)).save(png, format="PNG")
    Image.new("RGB", (64, 36), (10, 200, 30)).save(jpg, format="JPEG")
    ok = client.post("/api/upload", data={"file": (io.BytesIO(jpg.getvalue()), "good.jpg")},
                     content_type="multipart/form-data").get_json()
    assert ok["ok"] and ok["messages"] == [] and ok["path"].endswith("good.jpg")
    bad = client.post("/api/upload", data={"file": (io.BytesIO(png.getvalue()), "logo.png")},
                      content_type="multipart/form-data").get_json()
    assert not bad["ok"]
    assert [m["text"] for m in bad["messages"]] == [
        f"warning: image {bad['path']}: PNG is not JPG or BMP; ignored, as the cloud does"]
    big = jpg.getvalue() + b"\0" * (6 * 1024 * 1024)
    response = client.post("/api/upload", data={"file": (io.BytesIO(big), "big.jpg")},
                           content_type="multipart/form-data")
    large = response.get_json()  # refused, not kept: preview's message, with the file's name
    assert response.status_code == 413 and not large["ok"] and large["path"] is None
    assert [m["text"] for m in large["messages"]] == [
        "warning: image big.jpg: larger than 6 MB; ignored, as the cloud does"]


def test_cli_design_prints_the_url_and_stops_cleanly_on_ctrl_c():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "layoutkit", "design",
                             str(SAMPLES / "start-custom.json"), "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + proc.stderr.read()
        start = json.loads(_get(match.group(0) + "api/start", _page_token(match.group(0))))
        assert start["name"].endswith("start-custom.json") and not start["scenario"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_cli_design_refuses_a_missing_file():
    code, lines = _cli("design", "no-such.json", "--no-browser")
    assert code == 2 and lines == ["no-such.json: no such file"]


# ---------------------------------------------------------------------- in the browser
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve the page on a copy of the samples (the folder the page may name files in)."""
    import shutil

    folder = tmp_path_factory.mktemp("design") / "samples"
    shutil.copytree(SAMPLES, folder)
    srv = DesignServer(create_app(None, base_dir=folder)).start()
    srv.folder = folder
    srv.token = srv.app.config["DESIGN_GUARD"].token
    yield srv
    srv.shutdown()


@pytest.fixture(scope="module")
def page(server):
    driver = start_browser(window=WINDOW)
    try:
        driver.get(server.url)
        _wait_idle(driver, -1)
        yield driver
    finally:
        driver.quit()


#: Milliseconds a pointer move takes (Selenium's default is 250 ms per move; the page only
#: needs the pointer events, not their pace).
POINTER_MS = 20

IDLE = """
const img = document.getElementById('picture');
const loaded = !img.dataset.token || (img.complete && img.naturalWidth > 0);
return (!S.inFlight && !S.pending && document.body.dataset.done === String(S.seq)
        && loaded) ? S.seq : null;
"""


def _wait_idle(driver, after: int, timeout: float = 20) -> int:
    """Wait until the page has answered every edit made after sequence number ``after``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        seq = driver.execute_script(IDLE)
        if seq is not None and seq > after:
            return int(seq)
        time.sleep(0.03)
    save_full_page_screenshot(driver, FAILURES / "design-timeout.png")
    pytest.fail("the designer page did not answer in time (screenshot design-timeout.png)")


def _seq(driver) -> int:
    return int(driver.execute_script("return S.seq"))


def _import(driver, text: str) -> None:
    """Put ``text`` in the JSON panel and press Import, as a user who pasted it."""
    before = _seq(driver)
    driver.execute_script("document.getElementById('json').value = arguments[0]", text)
    driver.find_element("id", "import").click()
    _wait_idle(driver, before)


def _messages(driver) -> list[str]:
    return [e.text for e in driver.find_elements("css selector", "#messages .msg.error, "
                                                                 "#messages .msg.warning")]


def _body(driver) -> dict:
    return json.loads(driver.find_element("id", "json").get_attribute("value"))


def _shown_picture(driver, server) -> np.ndarray:
    token = driver.find_element("id", "picture").get_attribute("data-token")
    return _png(_get(f"{server.url}picture/{token}.png", server.token))


def _change(driver, element_id: str, value: str) -> None:
    """Type a value into a field and leave it (a real change event)."""
    from selenium.webdriver.common.keys import Keys

    before = _seq(driver)
    field = driver.find_element("id", element_id)
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(value, Keys.TAB)
    _wait_idle(driver, before)


def _screenshot(driver, name: str) -> None:
    save_full_page_screenshot(driver, FAILURES / f"design-{name}.png")


def test_change_mode_and_user_count(page, server):
    from selenium.webdriver.support.ui import Select

    _import(page, json.dumps(DEFAULT_BODY, indent=2))
    before = _seq(page)
    Select(page.find_element("id", "layout-mode")).select_by_value("2")
    _wait_idle(page, before)
    _change(page, "max-uid", "3")
    _change(page, "users-count", "5")
    body = _body(page)
    assert _holder(body)["mixedVideoLayout"] == 2 and _holder(body)["maxResolutionUid"] == "3"
    assert len(page.find_elements("css selector", "#overlay .region")) == 5
    expected = lk.preview(lk.load_request(body), users=5)
    assert_frames_close(_shown_picture(page, server), expected, max_mean_abs=0,
                        name="design-mode-users")
    labels = [t.text for t in page.find_elements("css selector", "#overlay .region text")]
    regions = lk.compute_regions(lk.load_request(body).layout, [str(i) for i in range(1, 6)],
                                 canvas_wh=(1280, 720))
    for i, (x, y, w, h) in enumerate(regions.rects.tolist()):  # SVG text collapses spaces
        mode = "fit" if regions.render_modes[i] else "crop"
        size = f"{w}\N{MULTIPLICATION SIGN}{h}"
        assert labels[2 * i:2 * i + 2] == [f"#{i} uid {regions.uids[i]}", f"{x},{y} {size} {mode}"]
    assert page.find_element("id", "json-status").text == "valid"
    _screenshot(page, "mode-users")


def _region_box(page, index: int):
    return page.find_element("css selector", f"#overlay .region[data-index='{index}'] rect.box")


def _scale(page) -> float:
    """Canvas pixels per screen pixel of the shown picture."""
    return page.execute_script("return S.canvas[0] / document.getElementById('picture')"
                               ".getBoundingClientRect().width")


def _six_decimals(text: str) -> bool:
    numbers = re.findall(r'"(?:x_axis|y_axis|width|height|alpha)": (-?[0-9.e-]+)', text)
    return bool(numbers) and all(len(n.partition(".")[2]) <= 6 and "e" not in n
                                 for n in numbers)


def test_drag_and_resize_a_custom_region(page, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _import(page, (SAMPLES / "start-custom.json").read_text(encoding="utf-8"))
    _change(page, "users-count", "3")
    old = _holder(_body(page))["layoutConfig"][1]
    k = _scale(page)
    grid = 20

    before = _seq(page)
    (ActionChains(page, duration=POINTER_MS).move_to_element(_region_box(page, 1)).click_and_hold()
     .move_by_offset(30, -20).move_by_offset(30, -20).release().perform())
    _wait_idle(page, before)
    moved = _holder(_body(page))["layoutConfig"][1]
    assert moved["width"] == old["width"] and moved["height"] == old["height"]
    dx = (moved["x_axis"] - old["x_axis"]) * 1280
    dy = (moved["y_axis"] - old["y_axis"]) * 720
    assert abs(dx - 60 * k) <= grid and abs(dy + 40 * k) <= grid, (dx, dy, k)
    assert round(moved["x_axis"] * 1280) % grid == 0  # snapped to the grid

    before = _seq(page)
    handle = page.find_element("css selector", "#overlay .region[data-index='1'] .handle.se")
    (ActionChains(page, duration=POINTER_MS).move_to_element(handle).click_and_hold()
     .move_by_offset(25, 15).move_by_offset(25, 15).release().perform())
    _wait_idle(page, before)
    resized = _holder(_body(page))["layoutConfig"][1]
    assert resized["x_axis"] == moved["x_axis"] and resized["y_axis"] == moved["y_axis"]
    assert abs((resized["width"] - moved["width"]) * 1280 - 50 * k) <= grid
    assert abs((resized["height"] - moved["height"]) * 720 - 30 * k) <= grid

    text = page.find_element("id", "json").get_attribute("value")
    assert _six_decimals(text)
    exported = json.loads(_get_export(server, text))
    assert exported == masked(json.loads(text))  # the page never gets secrets back
    model, problems = parse_request(exported)
    assert problems == []
    expected = lk.preview(model, users=3)
    assert_frames_close(_shown_picture(page, server), expected, max_mean_abs=0,
                        name="design-drag-resize")
    _screenshot(page, "drag-resize")

    # keyboard: Shift+Right nudges 10 px; undo takes it back, redo again
    before = _seq(page)
    page.find_element("tag name", "body").send_keys(Keys.SHIFT, Keys.ARROW_RIGHT)
    _wait_idle(page, before)
    nudged = _holder(_body(page))["layoutConfig"][1]
    assert round(nudged["x_axis"] * 1280) == round(resized["x_axis"] * 1280) + 10
    before = _seq(page)
    page.find_element("tag name", "body").send_keys(Keys.CONTROL, "z")
    _wait_idle(page, before)
    assert _holder(_body(page))["layoutConfig"][1] == resized
    before = _seq(page)
    page.find_element("tag name", "body").send_keys(Keys.CONTROL, Keys.SHIFT, "z")
    _wait_idle(page, before)
    assert _holder(_body(page))["layoutConfig"][1] == nudged


def _get_export(server, text: str) -> str:
    request = urllib.request.Request(f"{server.url}api/export", method="POST",
                                     data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Layoutkit-Token": server.token})
    answer = json.loads(urllib.request.urlopen(request, timeout=20).read())
    assert answer["ok"] and answer["messages"] == [], answer
    return str(answer["text"])


def test_a_region_dragged_off_the_canvas_shows_validates_message(page, server, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    _import(page, (SAMPLES / "start-custom.json").read_text(encoding="utf-8"))
    k = _scale(page)
    before = _seq(page)
    (ActionChains(page, duration=POINTER_MS).move_to_element(_region_box(page, 2)).click_and_hold()
     .move_by_offset(round(300 / k), 0).release().perform())
    _wait_idle(page, before)
    text = page.find_element("id", "json").get_attribute("value")
    expected = _validate_lines(tmp_path, text)
    assert expected and any("layoutConfig[2]: x_axis + width must be <= 1" in e for e in expected)
    assert _messages(page) == expected
    assert "bad" in page.find_element("id", "json-status").get_attribute("class")
    assert "off" in page.find_element(
        "css selector", "#overlay .region[data-index='2']").get_attribute("class")
    _screenshot(page, "off-canvas")


def test_an_invalid_body_pasted_shows_validates_messages(page, tmp_path):
    for text in BAD_BODIES[:3]:
        _import(page, text)
        assert _messages(page) == _validate_lines(tmp_path, text), text
        assert "Traceback" not in page.find_element("id", "messages").text
    _screenshot(page, "invalid-body")


def test_an_image_that_is_not_jpg_shows_the_clouds_message(page, server, tmp_path):
    from PIL import Image

    _import(page, json.dumps(DEFAULT_BODY, indent=2))
    png = server.folder / "logo.png"  # the page may name files of its folder only
    Image.new("RGB", (64, 36), (200, 30, 30)).save(png)
    # a path typed in the canvas image field: the message `layoutkit preview` prints
    _change(page, "bg-image", str(png))
    body = _body(page)
    assert _holder(body)["backgroundImage"] == str(png)
    request = tmp_path / "start.json"
    request.write_text(json.dumps(body), encoding="utf-8")
    code, lines = _cli("preview", str(request), "-o", str(tmp_path / "p.png"))
    lines = _unnamed(lines, request)
    assert code == 0 and lines and _messages(page) == lines
    # an upload: the same check, on the uploaded copy
    before = _seq(page)
    page.find_element("id", "bg-upload").send_keys(str(png))
    _wait_idle(page, before)
    shown = _messages(page)
    uploaded = _holder(_body(page))["backgroundImage"]
    assert uploaded != str(png) and uploaded.endswith("logo.png")
    request.write_text(json.dumps(_body(page)), encoding="utf-8")
    code, lines = _cli("preview", str(request), "-o", str(tmp_path / "p2.png"))
    lines = _unnamed(lines, request)
    assert code == 0 and shown == lines
    assert (f"warning: image {uploaded}: PNG is not JPG or BMP; ignored, as the cloud does"
            in shown)
    _screenshot(page, "not-jpg")


def test_scrub_a_scenario(page, server):
    from selenium.webdriver.common.keys import Keys

    path = SAMPLES / "scenario-demo.json"
    _import(page, path.read_text(encoding="utf-8"))
    assert page.find_element("id", "mode-badge").text == "scenario"
    scenario = lk.load_scenario(path)
    assert len(page.find_elements("css selector", "#marks .mark")) == len(scenario.events)
    before = _seq(page)
    page.execute_script("const s = document.getElementById('scrub'); s.value = arguments[0];"
                        "s.dispatchEvent(new Event('input'))", 10.4)
    _wait_idle(page, before)
    before = _seq(page)
    page.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)  # one frame on
    _wait_idle(page, before)
    t = float(page.execute_script("return S.t"))
    assert t == pytest.approx(10.4 + 1 / 15)
    assert_frames_close(_shown_picture(page, server), lk.frame_at(scenario, t, flash=False),
                        max_mean_abs=0,
                        name="design-scenario")
    from layoutkit.render import SceneRenderer

    with SceneRenderer(scenario) as renderer:
        from fractions import Fraction

        scene = renderer.rendered_frame(Fraction(repr(t))).scene
    platforms = {u.uid: u.platform for u in scenario.users}
    rows = [[c.text for c in row.find_elements("tag name", "td")]
            for row in page.find_elements("css selector", "#states tbody tr")]
    shown = {row[1]: (row[2], row[3]) for row in rows}
    for view in scene.views:
        assert shown[view.uid] == (platforms[view.uid], view.state.value)
    assert {v.state.value for v in scene.views} >= {"live", "last_frame"}
    _screenshot(page, "scenario")


def test_snap_reorder_alpha_fit_and_a_uid_list(page, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    _import(page, (SAMPLES / "start-custom.json").read_text(encoding="utf-8"))
    page.find_element("id", "snap-grid").click()  # grid off: only the edges snap
    original = _holder(_body(page))["layoutConfig"]
    k = _scale(page)
    # region 2 (x 870 px) dragged left to 4 px right of region 1's right edge (410 px)
    before = _seq(page)
    (ActionChains(page, duration=POINTER_MS).move_to_element(_region_box(page, 2)).click_and_hold()
     .move_by_offset(round((410 + 4 - 870) / k), 0).release().perform())
    _wait_idle(page, before)
    snapped = _holder(_body(page))["layoutConfig"][2]
    assert round(snapped["x_axis"] * 1280) == 410, snapped  # 26 + 384: the shared edge
    assert snapped["y_axis"] == original[2]["y_axis"]
    before = _seq(page)
    page.find_element("id", "lower-region").click()  # paint order: 2 goes under 1
    _wait_idle(page, before)
    regions = _holder(_body(page))["layoutConfig"]
    assert regions[1] == snapped and regions[2] == original[1]
    _change(page, "insp-alpha-n", "0.5")
    before = _seq(page)
    Select(page.find_element("id", "insp-mode")).select_by_value("0")
    _wait_idle(page, before)
    _change(page, "users-list", "1001,2002,3003")
    body = _body(page)
    region = _holder(body)["layoutConfig"][1]
    assert region["alpha"] == 0.5 and region["render_mode"] == 0
    uids = lk.compute_regions(lk.load_request(body).layout, ["1001", "2002", "3003"],
                              canvas_wh=(1280, 720)).uids
    assert uids == (None, "1001", "2002")  # region 0 names uid 1, who is not there
    labels = [e.text for e in page.find_elements("css selector", "#overlay .region text")]
    assert labels[0::2] == ["#0 uid 1 absent", "#1 uid 1001", "#2 uid 2002"]
    expected = lk.preview(lk.load_request(body), users=["1001", "2002", "3003"])
    assert_frames_close(_shown_picture(page, server), expected, max_mean_abs=0,
                        name="design-reorder")
    page.find_element("id", "snap-grid").click()
    _screenshot(page, "reorder")
