"""Issue 22, item 6: the first minutes of a new user (flash, samples, scenario defaults,
swapped compare arguments, designer fields, labels, sentinels, demo, benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.helpers import scenario_doc

ROOT = Path(__file__).resolve().parents[1]


def _cli(*argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m layoutkit ARGV`` with this interpreter, in ``cwd``, this checkout first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "layoutkit", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _white_share(path: Path) -> float:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return float((rgb > 225).all(axis=-1).mean())


# --- stills never land on the white flash -------------------------------------------------
def test_still_at_a_whole_second_hides_the_flash_unless_kept(tmp_path):
    doc = scenario_doc([{"uid": "1"}, {"uid": "2"}], [], duration=3,
                       transcoding={"width": 320, "height": 180, "mixedVideoLayout": 1})
    (tmp_path / "s.json").write_text(json.dumps(doc))
    run = _cli("preview", "s.json", "--at", "1", "-o", "calm.png", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _white_share(tmp_path / "calm.png") < 0.3  # the card has some white
    run = _cli("preview", "s.json", "--at", "1", "--keep-flash", "-o", "flash.png",
               cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _white_share(tmp_path / "flash.png") > 0.5


def test_frame_at_keeps_the_recorders_flash_and_hides_it_on_request():
    import layoutkit as lk

    doc = scenario_doc([{"uid": "1"}], [], duration=3,
                       transcoding={"width": 320, "height": 180, "mixedVideoLayout": 1})
    white = (lk.frame_at(doc, 2.0) > 225).all(axis=-1).mean()
    calm = (lk.frame_at(doc, 2.0, flash=False) > 225).all(axis=-1).mean()
    assert white > 0.5 and calm < 0.3
