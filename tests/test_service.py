"""The local Cloud Recording service (issue 21), ``layoutkit serve`` / ``lk.serve``.

REST paths, codes, real-time recording, uploads as files finish, signed callbacks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

import layoutkit as lk
from layoutkit.ncs.receiver import EventReceiver, signature_v2
from layoutkit.service import state
from layoutkit.service.notify import Notifier

APP = "0123456789abcdef0123456789abcdef"
CNAME, UID = "room1", "999"
CREDENTIALS = "customer:secret"
NCS_SECRET = "ncs-secret"

SCENARIO = {
    "cname": CNAME, "duration": 60,
    "users": [{"uid": "1"}, {"uid": "2", "source": "#FF8000"}],
    "start": {"cname": CNAME, "uid": UID, "clientRequest": {"recordingConfig": {}}},
}


def start_body(bucket="bucket", prefix=("rec", "one"), *, width=320, max_idle=30,
               files=("hls", "mp4"), cname=CNAME, uid=UID):
    return {"cname": cname, "uid": uid, "clientRequest": {
        "token": "t",
        "recordingConfig": {"channelType": 0, "maxIdleTime": max_idle, "transcodingConfig": {
            "width": width, "height": 180, "fps": 15, "bitrate": 200, "mixedVideoLayout": 1}},
        "recordingFileConfig": {"avFileType": list(files)},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": bucket, "accessKey": "testing",
                          "secretKey": "testing", "fileNamePrefix": list(prefix)}}}


def call(server, method, path, body=None, *, auth=CREDENTIALS, headers=None, raw=None):
    """(status, JSON answer) of one request to the service."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.url + path, data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    if auth:
        request.add_header("Authorization",
                           "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=12) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


BASE = f"/v1/apps/{APP}/cloud_recording"


def acquire(server, cname=CNAME, uid=UID, **client):
    status, answer = call(server, "POST", BASE + "/acquire",
                          {"cname": cname, "uid": uid, "clientRequest": client})
    assert status == 200, answer
    return answer["resourceId"]


def session_path(rid, sid, what):
    return f"{BASE}/resourceid/{rid}/sid/{sid}/mode/mix/{what}"


def start(server, rid, body):
    return call(server, "POST", f"{BASE}/resourceid/{rid}/mode/mix/start", body)


@pytest.fixture
def server(tmp_path):
    with lk.serve(SCENARIO, credentials=CREDENTIALS, folder=tmp_path / "svc") as running:
        yield running


# ------------------------------------------------------------------ the whole flow
@pytest.mark.slow  # the default run's end-to-end test: tests/test_service_agora_client.py
def test_flow_records_uploads_notifies_and_compares(s3_endpoint, bucket, raw, tmp_path):
    """A whole flow records, uploads, notifies and compares.

    acquire, start (and its retry), query while recording, updateLayout, stop: the bucket
    holds playlist, segments and MP4 under fileNamePrefix, compare of s3:// matches, the
    receiver got 40, 30, 42, 41, 31, 11 in order, signed.
    """
    events = tmp_path / "events.jsonl"
    with EventReceiver(events, secret=NCS_SECRET) as receiver, \
            lk.serve(SCENARIO, credentials=CREDENTIALS, s3_endpoint=s3_endpoint,
                     notify=receiver.url + "ncs", notify_secret=NCS_SECRET,
                     folder=tmp_path / "svc") as server:
        rid = acquire(server)
        body = start_body(bucket)
        status, started = start(server, rid, body)
        began = time.monotonic()
        assert status == 200 and set(started) == {"cname", "uid", "resourceId", "sid"}
        sid = started["sid"]
        assert start(server, rid, body) == (200, started)  # a retry starts nothing new
        status, answer = call(server, "GET", session_path(rid, sid, "query"))
        assert status == 200 and answer["serverResponse"]["status"] in (4, 5)
        assert answer["serverResponse"]["fileListMode"] == "json"
        time.sleep(1.0)
        status, answer = call(server, "POST", session_path(rid, sid, "updateLayout"),
                              {"cname": CNAME, "uid": UID, "clientRequest": {
                                  "mixedVideoLayout": 0, "backgroundColor": "#FF0000"}})
        assert status == 200 and answer["sid"] == sid
        time.sleep(max(0.0, 3.0 - (time.monotonic() - began)))
        asked = time.monotonic()
        status, stopped = call(server, "POST", session_path(rid, sid, "stop"),
                               {"cname": CNAME, "uid": UID, "clientRequest": {}})
        assert time.monotonic() - asked < 10
        assert status == 200, stopped
        recorded_s = time.monotonic() - began
        response = stopped["serverResponse"]
        assert response["uploadingStatus"] == "uploaded"
        names = [f["fileName"] for f in response["fileList"]]
        assert names == [f"rec/one/{sid}_{CNAME}.m3u8", f"rec/one/{sid}_{CNAME}_0.mp4"]
        # the stop after stop: the cloud's 49
        status, again = call(server, "POST", session_path(rid, sid, "stop"),
                             {"cname": CNAME, "uid": UID, "clientRequest": {}})
        assert (status, again["code"]) == (400, 49)
        assert call(server, "GET", session_path(rid, sid, "query"))[0] == 404
        scenario = server.scenario_of(sid)
        written = server.folder / "000" / "scenario.json"  # what the user compares with
        _wait_for(written, seconds=5)
    assert lk.load_scenario(written).sid == sid
    assert lk.load_scenario(written).events == scenario.events
    assert "testing" not in written.read_text()  # the storage keys are masked
    assert 2.9 <= float(scenario.duration) <= recorded_s + 0.3  # real time
    assert [e.action for e in scenario.events] == ["update_layout"]
    _assert_bucket_holds_the_recording(raw, bucket, sid)
    result = lk.compare(written, f"s3://{bucket}/rec/one")
    assert result.verdict == "match", [d.message for d in result.differences]
    _assert_notified_in_order(events, sid, names)


def _wait_for(path: Path, *, seconds: float) -> None:
    """Wait until ``path`` exists, at most ``seconds`` (the caller's asserts then tell)."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _assert_bucket_holds_the_recording(raw, bucket: str, sid: str) -> None:
    """Assert the bucket holds the playlist, the MP4 and segments under fileNamePrefix."""
    keys = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"rec/one/{sid}_{CNAME}.m3u8" in keys and f"rec/one/{sid}_{CNAME}_0.mp4" in keys
    assert any(k.startswith(f"rec/one/{sid}_{CNAME}_") and k.endswith(".ts") for k in keys)


def _assert_notified_in_order(events: Path, sid: str, names: list[str]) -> None:
    """Assert the receiver got 40, 30, 42, 41, 31, 11 for ``sid`` in order.

    The 31's file list is ``names`` in upload order (MP4 first, then the playlist).
    """
    bodies = [json.loads(line) for line in events.read_text().splitlines()]
    assert [b["eventType"] for b in bodies] == [40, 30, 42, 41, 31, 11]
    assert [b["payload"]["sequence"] for b in bodies] == list(range(6))
    assert {b["payload"]["sid"] for b in bodies} == {sid}
    assert bodies[3]["payload"]["details"]["leaveCode"] == 2
    uploaded = [f["fileName"] for f in bodies[4]["payload"]["details"]["fileList"]]
    assert uploaded == names[::-1]  # MP4 first, then the playlist


# ------------------------------------------------------------------ refusals
def test_invalid_body_gets_code_2_with_validates_reason(server):
    rid = acquire(server)
    status, answer = start(server, rid, start_body(width=5000))
    assert status == 400 and answer["code"] == 2
    assert "clientRequest.recordingConfig.transcodingConfig.width" in answer["reason"]
    assert "5000" in answer["reason"]


def test_credentials_missing_or_wrong_get_401(server):
    path = BASE + "/acquire"
    body = {"cname": CNAME, "uid": UID, "clientRequest": {}}
    status, answer = call(server, "POST", path, body, auth=None)
    assert (status, answer["code"], answer["message"]) == (401, 401, "Unauthorized")
    status, answer = call(server, "POST", path, body, auth="customer:wrong")
    assert (status, answer["reason"]) == (401, "Invalid authentication credentials")
    assert call(server, "POST", path, body)[0] == 200


def test_unknown_resource_or_sid_gets_404(server):
    rid = acquire(server)
    status, answer = call(server, "GET", session_path(rid, "0" * 32, "query"))
    assert (status, answer["code"], answer["reason"]) == (404, 404, "failed to find worker")
    status, answer = call(server, "POST", session_path("nope", "0" * 32, "stop"),
                          {"cname": CNAME, "uid": UID, "clientRequest": {}})
    assert status == 404
    assert call(server, "GET", BASE + "/nothing")[0] == 404


def test_not_json_gets_code_8(server):
    status, answer = call(server, "POST", BASE + "/acquire", raw=b"{not json")
    assert (status, answer["code"]) == (400, 8)


def test_a_web_page_or_another_host_is_refused(server):
    body = {"cname": CNAME, "uid": UID, "clientRequest": {}}
    status, _ = call(server, "POST", BASE + "/acquire", body,
                     headers={"Origin": "https://evil.example"})
    assert status == 403
    status, _ = call(server, "POST", BASE + "/acquire", body,
                     headers={"Host": f"evil.example:{server.port}"})
    assert status == 403


def test_start_for_another_task_or_too_late(server, monkeypatch):
    rid = acquire(server)
    status, answer = start(server, rid, start_body(uid="12345"))
    assert (status, answer["code"]) == (400, 432)
    monkeypatch.setattr(state, "RESOURCE_WINDOW_S", -1.0)  # the 5 minutes have passed
    status, answer = start(server, rid, start_body())
    assert (status, answer["code"]) == (400, 433)


def test_a_second_start_with_another_body_is_already_started(server):
    rid = acquire(server)
    status, first = start(server, rid, start_body(files=("hls",)))
    assert status == 200
    status, answer = start(server, rid, start_body(files=("hls", "mp4")))
    assert (status, answer["code"], answer["sid"]) == (201, 7, first["sid"])
    status, answer = call(server, "GET", session_path(rid, first["sid"], "query"))
    assert answer["serverResponse"]["fileListMode"] == "string"
    assert call(server, "POST", session_path(rid, first["sid"], "stop"),
                {"cname": CNAME, "uid": UID, "clientRequest": {}})[0] == 200


# ------------------------------------------------------------------ callbacks
class _Flaky(BaseHTTPRequestHandler):
    """Refuses the first ``fail`` posts with 500, then answers 200; keeps what it got."""

    got: ClassVar[list[tuple[bytes, dict[str, str]]]] = []
    fail = 2

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((body, dict(self.headers)))
        status = 500 if len(type(self).got) <= type(self).fail else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_callbacks_are_signed_and_resent_until_taken():
    _Flaky.got = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        notifier = Notifier(f"http://127.0.0.1:{httpd.server_port}/", "s3cr3t",
                            retry_waits=(0.05, 0.1, 0.2))
        notifier.send(40, cname="c", uid="9", sid="a" * 32, status=0)
        notifier.send(41, cname="c", uid="9", sid="a" * 32, leaveCode=2)
        assert notifier.drain(5)
        notifier.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(_Flaky.got) == 4  # two refusals, then each body once
    docs = [json.loads(body) for body, _ in _Flaky.got]
    assert [d["eventType"] for d in docs] == [40, 40, 40, 41]
    assert docs[0]["noticeId"] == docs[2]["noticeId"]
    assert docs[2]["notifyMs"] >= docs[0]["notifyMs"]
    for body, headers in _Flaky.got:
        assert headers["Agora-Signature-V2"] == signature_v2(body, "s3cr3t")
        assert headers["Agora-Signature"] == hmac.new(b"s3cr3t", body, hashlib.sha1).hexdigest()
    payload = docs[3]["payload"]
    assert set(payload) == {"cname", "uid", "sid", "sequence", "sendts", "serviceType",
                            "details"}
    assert payload["details"] == {"msgName": "recorder_leave", "leaveCode": 2}
    assert (payload["sequence"], payload["serviceType"], docs[3]["productId"]) == (1, 1, 3)
    assert "s3cr3t" not in repr(notifier)


def test_a_receiver_that_never_takes_gets_three_resends(capsys):
    _Flaky.got = []
    _Flaky.fail = 100
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        notifier = Notifier(f"http://127.0.0.1:{httpd.server_port}/", "s3cr3t",
                            retry_waits=(0.05, 0.1, 0.2))
        notifier.send(40, cname="c", uid="9", sid="a" * 32, status=0)
        assert notifier.drain(5)
        notifier.close()
    finally:
        _Flaky.fail = 2
        httpd.shutdown()
        httpd.server_close()
    assert len(_Flaky.got) == 4
    err = capsys.readouterr().err
    assert "not taken" in err and "s3cr3t" not in err


# ------------------------------------------------------------------ longer runs
@pytest.mark.slow
def test_idle_channel_ends_the_recording_by_itself(tmp_path):
    scenario = {**SCENARIO, "events": [{"t": 0.5, "action": "leave", "uid": "1"},
                                       {"t": 0.5, "action": "leave", "uid": "2"}]}
    events = tmp_path / "events.jsonl"
    with EventReceiver(events, secret=NCS_SECRET) as receiver, \
            lk.serve(scenario, credentials=CREDENTIALS, folder=tmp_path / "svc",
                     notify=receiver.url, notify_secret=NCS_SECRET) as server:
        rid = acquire(server)
        status, started = start(server, rid, start_body(max_idle=5))
        sid = started["sid"]
        time.sleep(4.0)
        assert call(server, "GET", session_path(rid, sid, "query"))[0] == 200
        time.sleep(2.5)  # idle since 0.5 s, maxIdleTime 5
        assert call(server, "GET", session_path(rid, sid, "query"))[0] == 404
        status, answer = call(server, "POST", session_path(rid, sid, "stop"),
                              {"cname": CNAME, "uid": UID, "clientRequest": {}})
        assert (status, answer["code"]) == (400, 49)
        assert server.scenario_of(sid).duration == 11 / 2
    bodies = [json.loads(line) for line in events.read_text().splitlines()]
    assert [b["eventType"] for b in bodies] == [40, 42, 41, 11]
    assert bodies[2]["payload"]["details"]["leaveCode"] == 4


@pytest.mark.slow
def test_two_recordings_at_once(s3_endpoint, bucket, raw, tmp_path):
    with lk.serve(SCENARIO, credentials=CREDENTIALS, s3_endpoint=s3_endpoint,
                  folder=tmp_path / "svc") as server:
        first, second = acquire(server), acquire(server, cname="room2", uid="998")
        s1 = start(server, first, start_body(bucket, ("a",)))[1]["sid"]
        s2 = start(server, second, start_body(bucket, ("b",), cname="room2", uid="998"))[1]
        assert s1 != s2["sid"]
        time.sleep(10.0)  # a 10 s recording takes 10 s
        a = call(server, "POST", session_path(first, s1, "stop"),
                 {"cname": CNAME, "uid": UID, "clientRequest": {}})
        b = call(server, "POST", session_path(second, s2["sid"], "stop"),
                 {"cname": "room2", "uid": "998", "clientRequest": {}})
        assert a[0] == b[0] == 200
        assert a[1]["serverResponse"]["uploadingStatus"] == "uploaded"
        scenarios = server.scenario_of(s1), server.scenario_of(s2["sid"])
    assert all(lk.compare(sc, f"s3://{bucket}/{p}").verdict == "match"
               for sc, p in zip(scenarios, "ab", strict=True))
    assert 10 <= float(scenarios[0].duration) <= 11


def test_an_image_outside_the_scenarios_folder_is_refused(server):
    rid = acquire(server)
    body = start_body()
    body["clientRequest"]["recordingConfig"]["transcodingConfig"]["backgroundImage"] = \
        "/etc/passwd.jpg"
    status, answer = start(server, rid, body)
    assert (status, answer["code"]) == (400, 2)
    assert "backgroundImage: the local service reads only image files in" in answer["reason"]


# ------------------------------------------------------------------ the command line
def test_layoutkit_serve_runs_until_ctrl_c_and_never_prints_its_secrets(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    env = {**os.environ, "LAYOUTKIT_SERVE_CREDENTIALS": CREDENTIALS,
           "LAYOUTKIT_NCS_SECRET": NCS_SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "layoutkit", "serve", "--scenario", str(scenario),
         "--port", "0", "--notify", "http://127.0.0.1:9/", "-o", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = process.stdout.readline()
        url = first.split(" at ", 1)[1].split(" ", 1)[0]

        class _At:
            pass

        at = _At()
        at.url = url
        status, answer = call(at, "POST", BASE + "/acquire",
                              {"cname": CNAME, "uid": UID, "clientRequest": {}})
        assert status == 200 and answer["resourceId"]
        assert call(at, "POST", BASE + "/acquire",
                    {"cname": CNAME, "uid": UID, "clientRequest": {}}, auth=None)[0] == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    text = first + out + err
    assert "Basic authorization required" in text and "stopped" in out
    assert "Traceback" not in err
    assert CREDENTIALS.split(":")[1] not in text and NCS_SECRET not in text


@pytest.mark.parametrize("argv, message", [
    (["--credentials", "nocolon"], "--credentials must be KEY:SECRET"),
    (["--notify", "http://127.0.0.1:9/"], "--notify needs --notify-secret"),
    (["--notify-secret", "S"], "--notify-secret needs --notify URL"),
])
def test_serve_usage_errors(tmp_path, monkeypatch, argv, message):
    import io

    from layoutkit.cli import main

    monkeypatch.delenv("LAYOUTKIT_NCS_SECRET", raising=False)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    err = io.StringIO()
    assert main(["serve", "--scenario", str(scenario), *argv], out=io.StringIO(), err=err) == 2
    assert message in err.getvalue()


def test_update_changes_the_subscriptions_from_its_arrival(server):
    rid = acquire(server)
    sid = start(server, rid, start_body(files=("hls",)))[1]["sid"]
    path = session_path(rid, sid, "update")
    status, answer = call(server, "POST", path, {"cname": CNAME, "uid": UID, "clientRequest": {
        "streamSubscribe": {"videoUidList": {"unSubscribeVideoUids": ["2"]}}}})
    assert (status, answer["sid"]) == (200, sid)
    config = server.service.registry.sessions()[0].recording.scenario.start.recording_config
    assert config.unsubscribe_video_uids == ("2",)
    status, answer = call(server, "POST", path, {"cname": CNAME, "uid": UID, "clientRequest": {
        "streamSubscribe": {"videoUidList": {"unSubscribeVideoUids": "2"}}}})
    assert (status, answer["code"]) == (400, 2)
    assert call(server, "POST", session_path(rid, sid, "stop"),
                {"cname": CNAME, "uid": UID, "clientRequest": {}})[0] == 200


def test_a_scenario_with_a_missing_source_is_refused_at_once(tmp_path):
    scenario = {**SCENARIO, "users": [{"uid": "1", "source": "missing.mp4"}]}
    with pytest.raises(lk.ScenarioError, match=r"missing\.mp4"):
        lk.serve(scenario, folder=tmp_path / "svc")


@pytest.mark.slow
def test_the_help_session_runs_as_written(s3_endpoint, raw, tmp_path):
    """``layoutkit serve --help``'s example session runs line by line as written.

    Ports and endpoint replaced; the ids the answers give kept in RID and SID, as the
    comments say.
    """
    import os
    import signal
    import socket
    import subprocess
    import sys

    from layoutkit.cli import EXAMPLES
    from layoutkit.demo import samples_dir

    raw.create_bucket(Bucket="recordings")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def fit(line):
        return (line.replace("samples/", f"{samples_dir()}/").replace("8088", str(port))
                .replace("http://127.0.0.1:9000", s3_endpoint))

    serve, *session = [EXAMPLES["serve"][0], *EXAMPLES["serve"][3:]]
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    argv = [sys.executable, "-m", "layoutkit", *fit(serve).split()[1:]]
    process = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    pick = "| python -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])'"
    script = []
    for line in map(fit, session):
        command = line.split("   #")[0].split("          #")[0]
        if "/acquire" in line:
            command = f"RID=$({command} {pick} resourceId)"
        elif "/start" in line:
            command = f"SID=$({command} {pick} sid); sleep 3"
        elif line.startswith("layoutkit compare"):
            command = "sleep 0; python -m " + command
        elif "/updateLayout" in line:
            command += "; sleep 2"
        script.append(command)
    try:
        process.stdout.readline()  # serving ...
        run = subprocess.run(["bash", "-e", "-c", "\n".join(script)], cwd=tmp_path, check=False,
                             capture_output=True, text=True, timeout=120, env=env)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    print(run.stdout[-600:])
    assert "match" in run.stdout and "differ" not in run.stdout


def test_a_second_task_with_the_same_cname_and_uid_is_a_conflict(server):
    first, second = acquire(server), acquire(server)
    status, started = start(server, first, start_body(files=("hls",)))
    assert status == 200
    status, answer = start(server, second, start_body(files=("hls",)))
    assert (status, answer["code"]) == (400, 53)
    other = acquire(server, uid="998")  # the same channel, another recorder uid: allowed
    status, third = start(server, other, start_body(files=("hls",), uid="998"))
    assert status == 200 and third["sid"] != started["sid"]
    assert call(server, "POST", session_path(other, third["sid"], "stop"),
                {"cname": CNAME, "uid": "998", "clientRequest": {}})[0] == 200
    status, answer = call(server, "POST", session_path(first, started["sid"], "stop"),
                          {"cname": CNAME, "uid": UID, "clientRequest": {"async_stop": True}})
    assert status == 200 and answer["serverResponse"]["uploadingStatus"] == "unknown"
    assert answer["serverResponse"]["fileListMode"] == "string"
