"""Time the designer's render endpoint: a 1920x1080 canvas of 17 users, and a scenario frame.

For each layout mode, 20 distinct bodies (the colour changes, so no answer is cached) go
through ``POST /api/render`` of a real server on a free port, then the PNG is fetched, as the
page does.  Prints the server's own time (check + draw + PNG) and the CPU time it used, and
the whole round trip; on a shared machine compare CPU time, not wall time::

    python scripts/measure_designer.py
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layoutkit.design import DesignServer, create_app  # noqa: E402
from layoutkit.design.session import DEFAULT_BODY  # noqa: E402

RUNS = 20


def main() -> int:
    server = DesignServer(create_app(None)).start()

    def post(path: str, doc: dict) -> dict:
        request = urllib.request.Request(server.url + path, data=json.dumps(doc).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    def report(name: str, ms: list[float], cpu: list[float], wall: list[float]) -> None:
        print(f"{name}: server {min(ms):.0f} / {statistics.median(ms):.0f} ms (min / median), "
              f"CPU {min(cpu):.0f} / {statistics.median(cpu):.0f} ms, "
              f"round trip with the PNG {min(wall):.0f} / {statistics.median(wall):.0f} ms")

    try:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        body = copy.deepcopy(DEFAULT_BODY)
        tc = body["clientRequest"]["recordingConfig"]["transcodingConfig"]
        tc.update(width=1920, height=1080)
        for mode, label in ((1, "best fit"), (0, "floating"), (2, "vertical")):
            tc["mixedVideoLayout"] = mode
            ms, cpu, wall = [], [], []
            for i in range(RUNS):
                tc["backgroundColor"] = f"#{i * 7 + mode:06X}"
                c0, w0 = time.process_time(), time.perf_counter()
                answer = post("api/render", {"text": json.dumps(body), "users": 17})
                cpu.append((time.process_time() - c0) * 1000)
                with urllib.request.urlopen(f"{server.url}picture/{answer['picture']}.png") as r:
                    r.read()
                wall.append((time.perf_counter() - w0) * 1000)
                ms.append(answer["ms"])
            report(f"1080p {label}, 17 users", ms, cpu, wall)
        scenario = {"cname": "c", "duration": 10,
                    "users": [{"uid": str(i)} for i in range(1, 18)],
                    "start": {"cname": "c", "uid": "999", "clientRequest": {"recordingConfig": {
                        "transcodingConfig": {"width": 1920, "height": 1080,
                                              "mixedVideoLayout": 1}}}}}
        text = json.dumps(scenario)
        post("api/scenario", {"text": text})
        ms, cpu, wall = [], [], []
        for i in range(RUNS):
            c0, w0 = time.process_time(), time.perf_counter()
            answer = post("api/frame", {"text": text, "t": 1 + i / 15})
            cpu.append((time.process_time() - c0) * 1000)
            with urllib.request.urlopen(f"{server.url}picture/{answer['picture']}.png") as r:
                r.read()
            wall.append((time.perf_counter() - w0) * 1000)
            ms.append(answer["ms"])
        report("1080p scenario frame, 17 test streams", ms, cpu, wall)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
