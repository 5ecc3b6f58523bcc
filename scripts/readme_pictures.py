"""Make the README's pictures (docs/*.png) from the package itself, not by hand.

* ``docs/sheet-<mode>.png``: the contact sheet (1..17 users) of each bundled mode sample;
* ``docs/display-rules.png``: what a region shows when a native, a Web 3.x and a Web 4.x user
  mute or unpublish video (before and after 3.5 s), frames from ``lk.frame_at``;
* ``docs/compare-report.png``: the top of a compare report for a recording whose event came
  1 s late (headless Chromium; skipped with a message when it is not installed).

The designer page's screenshot is ``scripts/screenshot_designer.py``.

Run: ``python scripts/readme_pictures.py [--out docs]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import layoutkit as lk  # noqa: E402
from layoutkit.demo import samples_dir  # noqa: E402
from layoutkit.signals.testcard import label_font  # noqa: E402

MODES = {"floating": "start-floating.json", "bestfit": "start-bestfit.json",
         "vertical": "start-vertical.json", "custom": "start-custom.json"}


def _save(image: np.ndarray, path: Path, *, max_width: int = 960) -> None:
    picture = Image.fromarray(image)
    if picture.width > max_width:
        picture = picture.resize((max_width, round(picture.height * max_width / picture.width)),
                                 Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, optimize=True)
    print(f"wrote {path} ({picture.width}x{picture.height})")


def contact_sheets(out: Path) -> None:
    for mode, name in MODES.items():
        request = lk.load_request(samples_dir() / name)
        _save(lk.contact_sheet(request), out / f"sheet-{mode}.png")


def _rules_scenario(action: str) -> dict:
    users = [{"uid": "101", "platform": "native"}, {"uid": "202", "platform": "web3"},
             {"uid": "303", "platform": "web4"}]
    return {"cname": "rules", "duration": 8, "users": users,
            "events": [{"t": 2, "uid": u["uid"], "action": action} for u in users],
            "start": {"cname": "rules", "uid": "999", "clientRequest": {"recordingConfig": {
                "transcodingConfig": {"width": 480, "height": 270, "mixedVideoLayout": 1,
                                      "backgroundColor": "#2E4A62"}}}}}


def display_rules(out: Path) -> None:
    """Rows: mute_video, unpublish_video; columns: live, 1.5 s after, 4.5 s after."""
    times = (1.4, 3.5, 6.5)
    heads = ("live (t = 1.4 s)", "stopped 1.5 s ago", "stopped 4.5 s ago")
    rows = []
    for action in ("mute_video", "unpublish_video"):
        scenario = lk.load_scenario(_rules_scenario(action))
        rows.append((action, [lk.frame_at(scenario, t) for t in times]))
    h, w = rows[0][1][0].shape[:2]
    pad, label_w, head_h = 12, 150, 34
    sheet = Image.new("RGB", (label_w + len(times) * (w + pad) + pad,
                              head_h + len(rows) * (h + pad) + 40), (245, 245, 242))
    draw = ImageDraw.Draw(sheet)
    for c, text in enumerate(heads):
        draw.text((label_w + c * (w + pad) + w // 2, head_h // 2), text, fill=(40, 40, 40),
                  font=label_font(18), anchor="mm")
    for r, (action, frames) in enumerate(rows):
        y = head_h + r * (h + pad)
        draw.text((pad, y + h // 2), action, fill=(40, 40, 40), font=label_font(18),
                  anchor="lm")
        for c, frame in enumerate(frames):
            sheet.paste(Image.fromarray(frame), (label_w + c * (w + pad), y))
    draw.text((pad, sheet.height - 22), "cells: 101 native, 202 web3, 303 web4 (best fit); "
              "canvas #2E4A62; web3 mute = black, web3 unpublish = canvas colour, then the "
              "canvas background for all", fill=(70, 70, 70), font=label_font(14), anchor="lm")
    _save(np.asarray(sheet), out / "display-rules.png", max_width=1200)


def compare_report(out: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("skipped docs/compare-report.png: no chromium (apt-get install chromium)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        doc = json.loads((samples_dir() / "scenario-demo.json").read_text())
        lk.mix(lk.load_scenario(samples_dir() / "scenario-demo.json"), folder / "recording")
        late = json.loads(json.dumps(doc))
        late["events"][0]["t"] = doc["events"][0]["t"] + 1  # the scenario says 1 s later
        (folder / "late.json").write_text(json.dumps(late))
        scenario = lk.load_scenario(folder / "late.json", base_dir=samples_dir())
        lk.compare(scenario, folder / "recording", report=folder / "report.html")
        shot = folder / "report.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1280,1500",
                        f"--screenshot={shot}", (folder / "report.html").as_uri()],
                       check=True, capture_output=True, timeout=120)
        _save(np.asarray(Image.open(shot).convert("RGB")), out / "compare-report.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs"))
    out = Path(parser.parse_args().out)
    contact_sheets(out)
    display_rules(out)
    compare_report(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
