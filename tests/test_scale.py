"""Scale (issue 9): long recordings complete with flat memory and play end to end.

Slow: run with ``python -m pytest -q -m slow tests/test_scale.py``.  Each recording runs in a
subprocess that reports its own peak RSS (``VmHWM``); the playlist is then read by FFmpeg's
HLS demuxer over a loopback HTTP server with ``-xerror`` (no corrupt packet allowed).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading

import pytest

from .helpers import scenario_doc

RUN = """
import sys
from layoutkit.cli import main
code = main(sys.argv[1:])
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
print("PEAK_KIB", peak.split()[1], file=sys.stderr)
raise SystemExit(code)
"""


def _mix(tmp_path, doc, name):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    run = subprocess.run([sys.executable, "-c", RUN, "mix", str(path), "-o",
                          str(tmp_path / name), "--quiet"], capture_output=True, text=True,
                         timeout=3000)
    assert run.returncode == 0, run.stderr[-2000:]
    peak = int(re.search(r"PEAK_KIB (\d+)", run.stderr).group(1)) / 1024
    playlist = next((tmp_path / name).rglob("*.m3u8"))
    return playlist, peak


def _play_over_http(playlist):
    """Frames FFmpeg's HLS demuxer decodes from the playlist over loopback HTTP (-xerror)."""
    import imageio_ffmpeg

    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(playlist.parent))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{playlist.name}"
        run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror",
                              "-i", url, "-map", "0:v", "-f", "null", "-", "-progress",
                              "pipe:1", "-nostats"], capture_output=True, text=True,
                             timeout=1800)
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr[-2000:]
    return int(re.findall(r"frame=(\d+)", run.stdout)[-1])


def _big(duration):
    users = [{"uid": str(100 + i)} for i in range(17)]
    return scenario_doc(users, duration=duration, transcoding={
        "width": 1920, "height": 1080, "fps": 15, "bitrate": 2260, "mixedVideoLayout": 1})


@pytest.mark.slow
def test_ten_minutes_of_17_users_at_1080p_flat_memory(tmp_path):
    _, short_peak = _mix(tmp_path, _big(60), "one-minute")
    playlist, long_peak = _mix(tmp_path, _big(600), "ten-minutes")
    print(f"peak RSS: 1 min {short_peak:.0f} MiB, 10 min {long_peak:.0f} MiB")
    assert long_peak <= short_peak * 1.10 + 16
    assert _play_over_http(playlist) == 600 * 15


@pytest.mark.slow
def test_an_hour_of_churn_with_promotion(tmp_path):
    users = [{"uid": str(1 + i), "source": "testsrc" if i % 3 == 0 else f"#{i*12:02X}8040",
              "platform": ("native", "web3", "web4")[i % 3]} for i in range(18)]
    events, present = [], set(u["uid"] for u in users)
    t = 5
    while t < 3600 - 5:  # every 5 s one user leaves or joins again; an 18th moves in
        uid = str(1 + (t // 5) % 18)
        action = "leave" if uid in present else "join"
        (present.discard if action == "leave" else present.add)(uid)
        events.append({"t": t, "uid": uid, "action": action})
        t += 5
    doc = scenario_doc(users, events, duration=3600, transcoding={
        "width": 320, "height": 180, "fps": 15, "bitrate": 300, "mixedVideoLayout": 1})
    playlist, peak = _mix(tmp_path, doc, "churn")
    print(f"peak RSS: an hour of churn {peak:.0f} MiB")
    assert peak < 400
    assert _play_over_http(playlist) == 3600 * 15
