"""The README: short and for users, its commands run as written.

Its first block is the two set-up commands, its other command block (the compare
walkthrough) runs as written, its commands and pictures exist.  The designer commands it
points to (docs/previews.md) serve their page as written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from layoutkit.cli import EXAMPLES
from tests.helpers import venv_cli_env

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PREVIEWS = (ROOT / "docs" / "previews.md").read_text()
COMPARE = (ROOT / "docs" / "compare.md").read_text()


def test_the_first_block_is_the_two_set_up_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == ["python -m pip install -e . && layoutkit demo",
                     "python -m pip install -e '.[test]' && python -m pytest -q"]


def test_every_picture_and_link_exists():
    for target in re.findall(r"\]\(((?:docs|samples)/[^)#]+)\)", README):
        assert (ROOT / target).exists(), target


def test_every_subcommand_is_in_the_commands_table():
    for name in EXAMPLES:
        assert f"`layoutkit {name}" in README, name


def test_the_readme_is_short_and_for_users():
    """The README is at most 150 lines; no history, no internal references.

    The profile's keys, the speed tables and the reference are in docs/, checked by
    tests/test_docs.py.
    """
    assert len(README.splitlines()) <= 150
    for pattern in (r"\bissue \d", r"\bcontract\b", r"\bspec\b", r"§", r"\bwas\b",
                    r"\bpytest-xdist\b|--dist\b|\bplugin"):
        assert not re.search(pattern, README, flags=re.IGNORECASE), pattern


def test_every_docs_page_the_readme_links_is_in_the_site():
    pages = set(re.findall(r"\]\(docs/([\w-]+)\.md\)", README))
    assert {"getting-started", "compare", "production", "service", "previews"} <= pages
    index = (ROOT / "docs" / "index.md").read_text()
    toctree = index[index.index("```{toctree}"):].split("```", 2)[1].split()
    assert pages <= set(toctree), sorted(pages - set(toctree))


# --- the README's command blocks, run as they are ------------------------------------------
def _bash_blocks() -> list[str]:
    """Every fenced ``bash`` block after the first (the set-up commands)."""
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)[1:]


def _block_after(heading: str, text: str = README) -> str:
    section = text[text.index(heading):]
    return section[section.index("```bash\n") + len("```bash\n"):].split("```", 1)[0]


def _run_dir(tmp_path: Path) -> Path:
    """Make a folder standing in for the clone: ``samples/`` is the package's samples."""
    (tmp_path / "samples").symlink_to(ROOT / "layoutkit" / "samples")
    return tmp_path


def test_every_bash_block_is_run_by_a_test():
    assert _bash_blocks() == [_block_after("## Checking a real cloud recording")]  # below
    # docs/compare.md shows the same walkthrough, so it runs as written too
    assert _block_after("## Step by step", COMPARE) == _bash_blocks()[0]


def test_the_compare_walkthrough_runs_as_written(tmp_path):
    import av

    block = _block_after("## Checking a real cloud recording")
    cwd = _run_dir(tmp_path)
    run = subprocess.run(["bash", "-e", "-c", block], cwd=cwd, capture_output=True, text=True,
                         timeout=300, env=venv_cli_env())  # this venv's layoutkit
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    out = run.stdout
    assert "samples/scenario-display-rules.json: valid scenario" in out
    assert "verdict: match (offset +0.000 s)" in out
    assert "after_stop = background" in out and "tag_time = date17" in out
    with av.open(str(cwd / "1001.mp4")) as container:  # the test stream is a real H.264 file
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) == 6 * 15
    stop = json.loads((cwd / "stop.json").read_text())
    assert [f["fileName"].rsplit(".", 1)[1] for f in stop["fileList"]] == ["m3u8", "mp4"]
    assert not (cwd / "downloaded" / "serverResponse.json").exists()
    report = (cwd / "report.html").read_text()
    assert report.startswith("<!DOCTYPE html>") and "verdict-match" in report


@pytest.mark.parametrize("line", [ln for ln in _block_after("## The layout designer", PREVIEWS)
                                  .splitlines() if ln.strip()])
def test_the_designer_commands_serve_their_page(tmp_path, line):
    command = shlex.split(line.split("#", 1)[0])
    assert command[:2] == ["layoutkit", "design"]
    # BROWSER=true: the browser the command opens is the program `true`
    env = venv_cli_env(dict(os.environ, BROWSER="true"))  # this venv's layoutkit
    proc = subprocess.Popen(command, cwd=_run_dir(tmp_path), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert url, first + proc.stderr.read()
        with urllib.request.urlopen(url.group(0), timeout=10) as page:
            html = page.read().decode()
            assert page.status == 200 and "<html" in html.lower()
        token = re.search(r'<meta name="layoutkit-token" content="([^"]+)">', html)[1]
        ask = urllib.request.Request(url.group(0) + "api/start",
                                     headers={"X-Layoutkit-Token": token})
        with urllib.request.urlopen(ask, timeout=10) as start:  # the page's own call
            body = json.loads(start.read())
        named = command[2:]
        assert bool(body["scenario"]) == any("scenario" in a for a in named)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
