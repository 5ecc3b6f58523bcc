"""``layoutkit design`` as a trust boundary (issue 18, items 5, 6, 7 and 11).

Any web page the user visits can send requests to 127.0.0.1, and one whose name is
re-pointed at 127.0.0.1 (DNS rebinding) is same-origin with the designer unless the server
checks the Host.  These tests play that page: a forged Host on a real server, other
origins and missing tokens through Flask's client, paths out of the opened folder, http
images, numbers out of the cloud's limits, uploads that fill the disk, and SIGTERM.
"""

from __future__ import annotations

import http.client
import http.server
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from layoutkit.design import DesignServer, create_app
from layoutkit.design.session import DEFAULT_BODY
from layoutkit.errors import format_value

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
ACCESS = "AKIAIOSFODNN7EXAMPLE"


def _start_body(**layout: object) -> dict:
    body = json.loads(json.dumps(DEFAULT_BODY))
    body["clientRequest"]["recordingConfig"]["transcodingConfig"].update(layout)
    body["clientRequest"]["storageConfig"].update(accessKey=ACCESS, secretKey=SECRET)
    return body


def _jpg(path: Path, colour: tuple[int, int, int] = (250, 10, 10), size=(64, 36)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="JPEG", quality=95)
    return path


@pytest.fixture
def opened(tmp_path):
    """Write a start body with real-looking keys, in its own folder; a JPG beside the folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "start.json"
    # written by hand: a duplicate-free body whose text the page should keep as it is
    path.write_text(json.dumps(_start_body(), indent=4), encoding="utf-8")
    _jpg(tmp_path / "outside" / "private.jpg")
    return path


@pytest.fixture
def app(opened):
    app = create_app(opened)
    yield app
    app.config["DESIGN_SESSION"].close()
    app.config["DESIGN_UPLOADS"].cleanup()


def _token(app) -> str:
    guard = app.config.get("DESIGN_GUARD")  # (none before issue 18: every test then fails
    return "" if guard is None else guard.token  # on its own assertion, not here)


@pytest.fixture
def client(app):
    """Return the page's own client: its token on every request."""
    client = app.test_client()
    client.environ_base["HTTP_X_LAYOUTKIT_TOKEN"] = _token(app)
    return client


def _texts(response) -> list[str]:
    return [m["text"] for m in response.get_json()["messages"]]


# ---------------------------------------------------------------------- 5. DNS rebinding
def _raw_get(port: int, path: str, *, host: str, token: str | None = None) -> tuple[int, bytes]:
    """GET with a forged Host header, as a rebound page's browser sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        headers = {"Host": host}
        if token is not None:
            headers["X-Layoutkit-Token"] = token
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_rebound_host_gets_neither_the_page_nor_the_keys_from_a_real_server(opened):
    with DesignServer(create_app(opened)) as server:
        token = _token(server.app)
        for path in ("/", "/api/start", "/static/designer.js"):
            status, data = _raw_get(server.port, path, host=f"attacker.example:{server.port}",
                                    token=token)
            assert status == 403, (path, status, data[:200])
            assert SECRET.encode() not in data and token.encode() not in data
            message = json.loads(data)["messages"][0]["text"]
            assert message.startswith(f"Host attacker.example:{server.port} refused: "
                                      f"the designer answers only requests addressed to "
                                      f"127.0.0.1:{server.port} or localhost:{server.port}")
        # its own names still work, and the page it serves carries the token
        for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
            status, data = _raw_get(server.port, "/", host=host)
            assert status == 200 and token.encode() in data
        status, data = _raw_get(server.port, "/api/start", host=f"127.0.0.1:{server.port}",
                                token=token)
        assert status == 200
        assert SECRET.encode() not in data and ACCESS.encode() not in data  # masked


def test_api_calls_need_the_pages_token_host_and_origin(app):
    token = _token(app)
    plain = app.test_client()
    body = {"text": json.dumps(_start_body()), "users": 2}
    cases = {
        "no token": plain.post("/api/render", json=body),
        "wrong token": plain.post("/api/render", json=body,
                                  headers={"X-Layoutkit-Token": token[:-2] + "xx"}),
        "token, other origin": plain.post("/api/render", json=body, headers={
            "X-Layoutkit-Token": token, "Origin": "http://attacker.example"}),
        "token, cross-site fetch": plain.post("/api/render", json=body, headers={
            "X-Layoutkit-Token": token, "Sec-Fetch-Site": "cross-site"}),
        "token, other host": plain.post("/api/render", json=body, headers={
            "X-Layoutkit-Token": token, "Host": "attacker.example"}),
        "start without token": plain.get("/api/start"),
        "picture without token": plain.get("/picture/000001-0000000000.png"),
    }
    for name, response in cases.items():
        assert response.status_code == 403, name
        text = response.get_json()["messages"][0]["text"]
        assert "refused" in text and SECRET not in response.get_data(as_text=True), name
    assert "X-Layoutkit-Token" in cases["no token"].get_json()["messages"][0]["text"]
    assert "Origin http://attacker.example refused" in \
        cases["token, other origin"].get_json()["messages"][0]["text"]
    ok = plain.post("/api/render", json=body, headers={
        "X-Layoutkit-Token": token, "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200 and ok.get_json()["ok"]
    picture = plain.get(f"/picture/{ok.get_json()['picture']}.png?token={token}")
    assert picture.status_code == 200 and picture.data.startswith(b"\x89PNG")


def test_the_page_gets_the_keys_masked_and_the_download_puts_them_back(client, opened):
    start = client.get("/api/start").get_json()
    assert SECRET not in start["text"] and ACCESS not in start["text"]
    storage = json.loads(start["text"])["clientRequest"]["storageConfig"]
    assert storage["secretKey"] == "***" and storage["accessKey"] == "***"
    # the rest of the text is the file's own, byte for byte
    original = opened.read_text(encoding="utf-8")
    assert start["text"] == original.replace(SECRET, "***").replace(ACCESS, "***")
    exported = client.post("/api/export", json={"text": start["text"]}).get_json()
    assert exported["ok"] and SECRET not in exported["text"]
    download = client.post("/api/download", data={"text": exported["text"],
                                                  "name": "start.json"})
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="start.json"'
    assert json.loads(download.data) == json.loads(original)  # the real keys, on the server
    # a key the page typed itself is kept as typed
    typed = json.loads(start["text"])
    typed["clientRequest"]["storageConfig"]["secretKey"] = "typed-in-the-page"
    again = client.post("/api/download", data={"text": json.dumps(typed)})
    assert json.loads(again.data)["clientRequest"]["storageConfig"] == {
        **json.loads(original)["clientRequest"]["storageConfig"], "secretKey": "typed-in-the-page"}
    # the download form, too, needs the token
    assert client.application.test_client().post(
        "/api/download", data={"text": start["text"]}).status_code == 403


def _opened_paths(action) -> list[str]:
    """Every path ``open``ed (Python's audit event) while ``action`` runs."""
    seen: list[str] = []
    active = True

    def hook(event: str, args: tuple) -> None:
        if active and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
            seen.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)
    try:
        action()
    finally:
        active = False
    return seen


def test_images_outside_the_opened_folder_are_refused_unopened(client, tmp_path):
    outside = tmp_path / "outside" / "private.jpg"
    (tmp_path / "project" / "link.jpg").symlink_to(outside)
    answers = {}

    def ask() -> None:
        for name, location in (("absolute", str(outside)), ("dotdot", "../outside/private.jpg"),
                               ("file url", outside.as_uri()), ("link out", "link.jpg"),
                               ("missing", str(tmp_path / "outside" / "nothing.jpg"))):
            body = _start_body(backgroundImage=location)
            answers[name] = (location, client.post("/api/render", json={
                "text": json.dumps(body), "users": 1}))

    opened = _opened_paths(ask)
    assert not any("private.jpg" in p or "nothing.jpg" in p for p in opened), opened
    path = "clientRequest.recordingConfig.transcodingConfig.backgroundImage"
    rule = (f"the designer reads only files in {tmp_path / 'project'} (the opened file's folder)"
            " or in its upload folder")
    for name, (location, response) in answers.items():
        doc = response.get_json()
        assert not doc["ok"] and "picture" not in doc, name
        # the same words whether the file exists or not: only the value differs
        assert _texts(response) == [f"{path}: {rule} (got {format_value(location)})"], name


def test_a_scenario_source_outside_the_folder_is_refused_before_any_probe(client, tmp_path):
    import shutil

    video = tmp_path / "outside" / "clip.mp4"
    shutil.copy(SAMPLES / "media" / "5005.mp4", video)
    scenario = json.loads((SAMPLES / "scenario-video-files.json").read_text(encoding="utf-8"))
    scenario["users"][0]["source"] = str(video)
    response = client.post("/api/scenario", json={"text": json.dumps(scenario)})
    doc = response.get_json()
    assert not doc["ok"]
    assert _texts(response) == [
        f"users[0].source: the designer reads only files in {tmp_path / 'project'} (the opened "
        f"file's folder) or in its upload folder (got {format_value(str(video))})"]


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        data = io.BytesIO()
        from PIL import Image

        Image.new("RGB", (32, 18), (0, 255, 0)).save(data, format="JPEG")
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        self.wfile.write(data.getvalue())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def image_site():
    _CountingHandler.hits = []
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_port}"
    site.shutdown()
    site.server_close()


def test_http_images_are_not_fetched_unless_allowed(client, opened, image_site):
    url = f"{image_site}/bg.jpg"
    body = json.dumps(_start_body(backgroundImage=url))
    response = client.post("/api/render", json={"text": body, "users": 1})
    doc = response.get_json()
    assert doc["ok"] and _CountingHandler.hits == []
    assert _texts(response) == [
        "warning: clientRequest.recordingConfig.transcodingConfig.backgroundImage: not fetched: "
        "the designer reads nothing from the network (the cloud downloads it); drawn without it"
        f" (got {format_value(url)})"]
    # nor in a scenario: its frames are drawn without it
    scenario = json.loads((SAMPLES / "scenario-demo.json").read_text(encoding="utf-8"))
    scenario["start"]["clientRequest"]["recordingConfig"]["transcodingConfig"][
        "backgroundImage"] = url
    info = client.post("/api/scenario", json={"text": json.dumps(scenario)})
    frame = client.post("/api/frame", json={"text": json.dumps(scenario), "t": 1.0})
    assert info.get_json()["ok"] and frame.get_json()["ok"] and _CountingHandler.hits == []
    assert _texts(info)[-1].startswith("warning: start.clientRequest.recordingConfig."
                                       "transcodingConfig.backgroundImage: not fetched: ")
    # started with --allow-network, the picture is downloaded and drawn
    app = create_app(opened, allow_network=True)
    try:
        allowed = app.test_client()
        allowed.environ_base["HTTP_X_LAYOUTKIT_TOKEN"] = _token(app)
        doc = allowed.post("/api/render", json={"text": body, "users": 1}).get_json()
        assert doc["ok"] and doc["messages"] == [] and _CountingHandler.hits == ["/bg.jpg"]
    finally:
        app.config["DESIGN_SESSION"].close()
        app.config["DESIGN_UPLOADS"].cleanup()


# ---------------------------------------------------------------------- 6. unbounded work
def test_numbers_the_page_sends_are_checked_with_the_clouds_limits(client):
    update = json.dumps({"mixedVideoLayout": 1})
    cases = [
        ([-4, 360], "code 2: canvas.width: must be in [1, 1920] (got -4)"),
        (["wide", 360], 'code 2: canvas.width: must be a number (got "wide")'),
        ([1920, 1920], "code 2: canvas: area 1920x1920 exceeds 1920x1080 (3686400 > 2073600 "
                       "pixels)"),
        ([640], "code 2: canvas: must be null or [width, height] (got [640])"),
        ([30000, 30000], "code 2: canvas.width: must be in [1, 1920] (got 30000)"),
    ]
    for canvas, message in cases:
        started = time.perf_counter()
        response = client.post("/api/render", json={"text": update, "users": 2,
                                                    "canvas": canvas})
        assert response.status_code == 400, (canvas, response.status_code)
        assert message in _texts(response), (canvas, _texts(response))
        assert time.perf_counter() - started < 5
    many = client.post("/api/render", json={"text": update,
                                            "users": [str(i) for i in range(1, 1001)]})
    assert many.status_code == 400
    assert _texts(many)[0].startswith("users: give a count 1..17 or a list of 1..17 uids (got")
    scenario = (SAMPLES / "scenario-demo.json").read_text(encoding="utf-8")
    for t in ("Infinity", "NaN", "1e400"):
        raw = f'{{"text": {json.dumps(scenario)}, "t": {t}}}'
        response = client.post("/api/frame", data=raw, content_type="application/json")
        assert response.status_code == 400, (t, response.status_code)
        assert _texts(response)[0].startswith("t must be a number of seconds"), t


def test_a_scenario_frame_draws_at_most_17_full_hd_sources(client):
    """17 test sources of 4096x4096 took 8 s and 3 GB a frame; refused before drawing."""
    scenario = json.loads((SAMPLES / "scenario-demo.json").read_text(encoding="utf-8"))
    scenario["users"] = [{"uid": str(1000 + i), "size": "4096x4096"} for i in range(17)]
    scenario["events"] = []
    started = time.perf_counter()
    for route, extra in (("/api/scenario", {}), ("/api/frame", {"t": 1.0})):
        doc = client.post(route, json={"text": json.dumps(scenario), **extra}).get_json()
        assert not doc["ok"] and "picture" not in doc
        assert [m["text"] for m in doc["messages"]][-1] == (
            "users: the 17 largest video users' size together is 285.2 million pixels; the "
            "designer draws at most 35.3 million (17 users of 1920x1080) a frame: give smaller "
            "sizes")
    assert time.perf_counter() - started < 3
    scenario["users"] = [{"uid": str(1000 + i), "size": "1920x1080"} for i in range(17)]
    assert client.post("/api/scenario", json={"text": json.dumps(scenario)}).get_json()["ok"]


def test_a_json_body_is_at_most_2_mib(client):
    text = json.dumps({"mixedVideoLayout": 1, "pad": "x" * (3 * 1024 * 1024)})
    response = client.post("/api/render", json={"text": text, "users": 2})
    assert response.status_code == 413
    assert _texts(response)[0].startswith("413 Request Entity Too Large")


# ---------------------------------------------------------------------- 7. disk fill
def _upload(client, data: bytes, name: str, **headers: str):
    return client.post("/api/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=headers)


def _kept(app) -> list[Path]:
    folder = Path(app.config["DESIGN_UPLOADS"].name)
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_cross_origin_upload_is_refused_and_keeps_nothing(app, client):
    jpg = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (8, 8)).save(jpg, format="JPEG")
    # a form another page posts: a "simple" request, no custom header, its own Origin
    plain = app.test_client()
    for headers in ({"Origin": "http://attacker.example"},
                    {"Origin": "http://attacker.example", "X-Layoutkit-Token": _token(app)},
                    {}):
        response = _upload(plain, jpg.getvalue(), "x.jpg", **headers)
        assert response.status_code == 403, headers
    assert _kept(app) == []
    assert _upload(client, jpg.getvalue(), "x.jpg").get_json()["ok"]
    assert [p.name for p in _kept(app)] == ["x.jpg"]


MAX_UPLOAD_FILES = 64  # layoutkit.design.session.MAX_UPLOAD_FILES


def test_the_upload_folder_keeps_at_most_64_files(app, client):
    answers = [_upload(client, b"not a picture %d" % i, f"n{i}.jpg") for i in range(70)]
    assert [a.status_code for a in answers[:MAX_UPLOAD_FILES]] == [200] * MAX_UPLOAD_FILES
    assert {a.status_code for a in answers[MAX_UPLOAD_FILES:]} == {507}
    assert _texts(answers[-1]) == [
        f"upload refused: the upload folder keeps at most {MAX_UPLOAD_FILES} files and 64 MiB"
        f" (it holds {MAX_UPLOAD_FILES} files, 0.0 MiB); restart layoutkit design to empty it"]
    assert len(_kept(app)) == MAX_UPLOAD_FILES
    again = _upload(client, b"not a picture 0", "n0.jpg")  # the same file: already kept
    assert again.status_code == 200


def test_the_upload_folder_keeps_at_most_64_mib(app, client):
    from layoutkit.io.images import MAX_IMAGE_BYTES

    sizes = []
    for i in range(12):  # 12 uploads of the largest size the cloud takes (6 MiB)
        data = bytes([i]) * MAX_IMAGE_BYTES
        sizes.append(_upload(client, data, f"big{i}.bmp").status_code)
    assert sizes == [200] * 10 + [507] * 2
    assert sum(p.stat().st_size for p in _kept(app)) <= 64 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_removes_the_upload_folder_as_ctrl_c_does(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(temp))
    proc = subprocess.Popen([sys.executable, "-m", "layoutkit", "design", "--no-browser",
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line + proc.stderr.read()
        page = urllib_get(f"http://127.0.0.1:{port}/")
        match = re.search(r'name="layoutkit-token" content="([^"]+)"', page)
        token = match.group(1) if match else ""
        _multipart_upload(port, token, b"\xff\xd8 not really a jpeg", "kept.jpg")
        folders = list(temp.glob("layoutkit-design-*"))
        assert len(folders) == 1 and list(folders[0].rglob("kept.jpg"))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert list(temp.iterdir()) == []


def urllib_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=20) as response:
        return response.read().decode()


def _multipart_upload(port: int, token: str, data: bytes, name: str) -> dict:
    boundary = "layoutkit-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("POST", "/api/upload", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Layoutkit-Token": token})
        response = connection.getresponse()
        return json.loads(response.read())
    finally:
        connection.close()


# ---------------------------------------------------------------------- 11. the file's name
def test_an_unreadable_upload_is_named_by_its_file_not_a_bytesio(client):
    response = _upload(client, b"\xff\xd8 this is not a picture", "holiday.jpg")
    doc = response.get_json()
    assert not doc["ok"]
    assert _texts(response) == [f"warning: image {doc['path']}: not a readable image (no "
                                "picture format recognised); ignored"]
    assert doc["path"].endswith("holiday.jpg") and "BytesIO" not in _texts(response)[0]


def test_the_preview_of_an_allowed_image_still_draws_it(client, opened):
    _jpg(opened.parent / "images" / "bg.jpg", (0, 0, 250), size=(1280, 720))
    body = json.dumps(_start_body(backgroundImage="images/bg.jpg", mixedVideoLayout=3,
                                  layoutConfig=[{"x_axis": 0.5, "y_axis": 0.5, "width": 0.5,
                                                 "height": 0.5}]))
    doc = client.post("/api/render", json={"text": body, "users": 1}).get_json()
    assert doc["ok"] and doc["messages"] == []
    from PIL import Image

    data = client.get(f"/picture/{doc['picture']}.png").data
    picture = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert picture[5, 5, 2] > 200 and picture[5, 5, 0] < 40  # the blue picture, drawn


# ---------------------------------------------------------------------- the page itself
def test_the_page_holds_masked_keys_and_its_download_has_the_real_ones(opened, tmp_path):
    """The page holds masked keys and its download has the real ones.

    Real headless Chromium: the page opens the file (token on every call), its JSON panel
    shows "***", and Download (a form post the browser saves) writes the real keys.
    """
    from .browser import save_full_page_screenshot, start_browser
    from .helpers import FAILURES

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with DesignServer(create_app(opened)) as server:
        driver = start_browser(window=(1440, 1000))
        try:
            driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                   {"behavior": "allow", "downloadPath": str(downloads)})
            driver.get(server.url)
            end = time.monotonic() + 20
            while time.monotonic() < end and driver.execute_script(
                    "return document.body.dataset.state") != "ok":
                time.sleep(0.05)
            shown = driver.find_element("id", "json").get_attribute("value")
            assert SECRET not in shown and ACCESS not in shown and '"***"' in shown
            driver.find_element("id", "download").click()
            while time.monotonic() < end and not list(downloads.glob("*.json")):
                time.sleep(0.05)
            save_full_page_screenshot(driver, FAILURES / "trust-design-download.png")
            saved = list(downloads.glob("*.json"))
            assert [p.name for p in saved] == ["start.json"]
            assert json.loads(saved[0].read_text(encoding="utf-8")) == json.loads(
                opened.read_text(encoding="utf-8"))
            assert driver.current_url == server.url  # the page stayed
        finally:
            driver.quit()


def test_a_link_out_of_the_folder_is_refused_without_looking_outside(tmp_path, monkeypatch):
    """A link out of the folder is refused without looking outside.

    The designer follows links only inside its folders (the rule compare follows): nothing
    below the outside target is looked up (``os.path.realpath`` did).
    """
    import os

    from layoutkit.design.files import FileRoots

    base, outside, uploads = tmp_path / "base", tmp_path / "secret", tmp_path / "up"
    for folder in (base, outside, uploads):
        folder.mkdir()
    (outside / "key.jpg").write_bytes(b"x")
    os.symlink(outside, base / "link")
    (base / "inner").mkdir()
    os.symlink("inner", base / "ok")
    looked: list[str] = []
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: (looked.append(os.fspath(p)),
                                                          real_lstat(p, *a, **k))[1])
    roots = FileRoots(base, uploads)
    assert not roots.inside("link/key.jpg")
    assert not roots.inside("link/../secret/key.jpg")
    assert roots.inside("ok/a.jpg")
    assert not [p for p in looked if p.startswith(str(outside))], looked
