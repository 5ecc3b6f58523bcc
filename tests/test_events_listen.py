"""``layoutkit events listen``: Agora's callbacks answered and appended to a file, whole."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from layoutkit.errors import StorageError
from layoutkit.ncs.receiver import EventLog, EventReceiver

WORKTREE = Path(__file__).resolve().parents[1]
SECRET = "ncs-secret-3f9a"


def sign(body: bytes, secret: str = SECRET) -> str:
    """Agora-Signature-V2, computed here independently of the receiver."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def notice(i: int, pad: int = 0) -> dict:
    return {"noticeId": f"n{i}", "productId": 1, "eventType": 103, "notifyMs": 1796560000000 + i,
            "payload": {"channelName": "room", "uid": 1000 + i, "clientSeq": i, "ts": 1796560000,
                        "platform": 7, "pad": "x" * pad}}


class Server:
    """``layoutkit events listen`` in its own process on 127.0.0.1 (a free port)."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.out = tmp_path / "events.jsonl"
        env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
        env.pop("LAYOUTKIT_NCS_SECRET", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "layoutkit", "events", "listen", "--port", "0",
             "-o", str(self.out), *args], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=30), "the server did not start"
        self.banner = self.proc.stdout.readline()
        self.url = self.banner.split("listening on ", 1)[1].split(" ", 1)[0]
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])

    def post(self, body: bytes, headers: dict | None = None, path: str = "/ncs") -> tuple:
        request = urllib.request.Request(self.url.rstrip("/") + path, body,
                                         {"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=10)
        return self.banner + out, err


@pytest.fixture
def server(tmp_path, request):
    args = getattr(request, "param", ("--secret", SECRET))
    running = Server(tmp_path, *args)
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
    running.proc.communicate(timeout=10)  # and close its pipes


def lines_of(path: Path) -> list[dict]:
    text = path.read_text()
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_signed_bodies_are_answered_200_and_appended_one_a_line(server):
    assert server.banner.startswith("listening on http://127.0.0.1:")
    assert "signatures checked (Agora-Signature-V2)" in server.banner
    sent = [notice(i) for i in range(5)]
    for doc in sent[:4]:
        body = json.dumps(doc).encode()
        assert server.post(body, {"Agora-Signature-V2": sign(body)}) == (
            200, {"ok": True, "message": "ok"})
    pretty = json.dumps(sent[4], indent=2).encode()  # newlines in the body: still one line
    assert server.post(pretty, {"Agora-Signature-V2": sign(pretty).upper()})[0] == 200
    assert lines_of(server.out) == sent
    out, err = server.stop()
    assert SECRET not in out + err and "POST /ncs 200" in err


def test_bad_or_missing_signatures_are_refused_and_nothing_is_written(server):
    body = json.dumps(notice(1)).encode()
    status, answer = server.post(body)
    assert status == 401 and "no Agora-Signature-V2" in answer["message"]
    assert server.post(body, {"Agora-Signature-V2": sign(body, "other")})[0] == 403
    assert server.post(body, {"Agora-Signature-V2": sign(body + b" ")})[0] == 403
    # the V1 header (HMAC-SHA1) alone does not do
    v1 = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert server.post(body, {"Agora-Signature": v1})[0] == 401
    assert server.out.read_text() == ""
    out, err = server.stop()
    assert SECRET not in out + err


def test_oversized_bodies_bad_json_and_other_methods_are_refused(server):
    # announced, not sent: the server answers from the headers without reading a byte of the
    # body (a client still sending 2 MiB may see the connection closed under it instead)
    big = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    big.putrequest("POST", "/ncs")
    big.putheader("Content-Type", "application/json")
    big.putheader("Content-Length", str(2 * 2**20))
    big.endheaders()
    answer = big.getresponse()
    assert answer.status == 413 and "at most 1048576 bytes" in json.loads(answer.read())["message"]
    big.close()
    for body in (b"{not json", b"[1, 2]", b'{"a": NaN}', b'{"a": ' * 100_000):
        assert server.post(body, {"Agora-Signature-V2": sign(body)})[0] == 400
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/ncs")
    assert conn.getresponse().status == 405
    conn.close()
    assert server.out.read_text() == ""


def test_callers_other_than_agoras_servers_are_refused(server):
    body = json.dumps(notice(1)).encode()
    headers = {"Agora-Signature-V2": sign(body)}
    assert server.post(body, {**headers, "Origin": "https://evil.example"})[0] == 403
    assert server.post(body, {**headers, "Sec-Fetch-Site": "cross-site"})[0] == 403
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/ncs", body, {**headers, "Host": f"evil.example:{server.port}"})
    answer = conn.getresponse()
    assert answer.status == 403 and "Host evil.example" in json.loads(answer.read())["message"]
    conn.close()
    assert server.out.read_text() == ""


@pytest.mark.parametrize("server", [("--public-name", "ncs.example.com")], indirect=True)
def test_without_a_secret_bodies_are_taken_and_a_public_name_is_answered(server):
    assert "signatures NOT checked" in server.banner
    body = json.dumps(notice(7)).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/", body, {"Host": "ncs.example.com", "Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()
    assert lines_of(server.out) == [notice(7)]


def test_concurrent_callbacks_are_serialized_into_whole_lines(server):
    sent = [notice(i, pad=20_000) for i in range(40)]

    answers = []

    def post(doc):
        body = json.dumps(doc).encode()
        answers.append(server.post(body, {"Agora-Signature-V2": sign(body)})[0])

    threads = [threading.Thread(target=post, args=(doc,)) for doc in sent]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200] * len(sent)
    got = lines_of(server.out)
    assert sorted(got, key=lambda d: d["noticeId"]) == sorted(sent, key=lambda d: d["noticeId"])


def test_a_kill_during_a_burst_leaves_every_answered_line_whole(server):
    stop = threading.Event()
    sent: list[dict] = []

    def burst(k):
        i = 0
        while not stop.is_set():
            doc = notice(k * 100_000 + i, pad=200_000)
            body = json.dumps(doc).encode()
            try:
                status, _ = server.post(body, {"Agora-Signature-V2": sign(body)})
            except OSError:  # the server is gone
                return
            if status == 200:
                sent.append(doc)
            i += 1

    threads = [threading.Thread(target=burst, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and server.out.stat().st_size < 3 * 2**20:
        time.sleep(0.01)
    server.proc.kill()  # SIGKILL, mid-burst
    server.proc.wait()
    stop.set()
    for t in threads:
        t.join(15)
    text = server.out.read_text()
    assert len(text) > 2**20
    whole, _, torn = text.rpartition("\n")
    # A SIGKILL during a write may leave that one line torn (the kernel stops copying a
    # long write at a fatal signal); it was never answered.  Every other line is whole.
    docs = [json.loads(line) for line in whole.splitlines()]
    by_id = {d["noticeId"]: d for d in sent}
    assert not any(f'"noticeId":"{i}"' in torn for i in by_id)
    log = EventLog(server.out)  # the next open ends a torn line, so the next line is whole
    assert log.repaired == bool(torn)
    log.append({"after": 1})
    log.close()
    assert server.out.read_text().splitlines()[-1] == '{"after":1}'
    assert all(len(d["payload"]["pad"]) == 200_000 for d in docs)
    ids = [d["noticeId"] for d in docs]
    assert len(set(ids)) == len(ids)
    assert set(by_id) <= set(ids), "a callback answered 200 is not in the file"
    assert len(set(ids) - set(by_id)) <= 4  # at most the ones in flight were not answered


def test_an_event_log_mends_a_torn_end_and_refuses_what_is_not_a_file(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n{"b": ')  # another tool's torn line
    log = EventLog(path)
    assert log.repaired
    log.append({"c": 3})
    log.close()
    assert path.read_text().splitlines()[-1] == '{"c":3}'
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(StorageError, match="fifo: cannot open for appending"):
        EventLog(fifo)  # no reader: refused at once, never waits
    with pytest.raises(StorageError, match="is not a regular file"):
        EventLog("/dev/null")


def test_the_receiver_in_a_thread_binds_127_0_0_1(tmp_path):
    with EventReceiver(tmp_path / "e.jsonl") as receiver:
        assert receiver.url.startswith("http://127.0.0.1:")
        body = json.dumps(notice(1)).encode()
        answer = urllib.request.urlopen(urllib.request.Request(receiver.url, body), timeout=10)
        assert answer.status == 200
    assert lines_of(tmp_path / "e.jsonl") == [notice(1)]
