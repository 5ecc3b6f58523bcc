"""Every subcommand's --help explains every option and ends with examples that run."""

from __future__ import annotations

import contextlib
import io
import shlex

import pytest

from layoutkit.cli import EXAMPLES, build_parser, main
from layoutkit.demo import samples_dir

# the order the examples run in: each may use what an earlier one made
ORDER = ("samples", "testsrc", "validate", "layout", "preview", "mix", "upload", "compare",
         "ffmpeg", "profiles", "scenario")


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_subcommand_has_examples_and_every_option_a_help_text():
    subparsers = _subparsers()
    assert set(subparsers) == set(EXAMPLES)
    for name, sub in subparsers.items():
        text = sub.format_help()
        assert "examples:\n  layoutkit " + name in text, name
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings or action.dest}: no help"
        assert "contract section" not in text


def _run(line, monkeypatch, *, bundled=True):
    """Run one command line.

    ``bundled``: its ``samples/`` paths read the package's samples (False: as written, from
    the current folder).
    """
    if bundled:
        line = line.replace("samples/", f"{samples_dir()}/")
    argv = shlex.split(line)[1:]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow  # the 24 s sample scenario, whole
def test_the_examples_run(in_tmp, monkeypatch, s3_endpoint, raw):
    """As written, from an empty folder, after ``layoutkit samples -o .`` (the first one)."""
    raw.create_bucket(Bucket="my-bucket")
    for uid in ("1", "2"):  # the per-user files of the ffmpeg example
        assert main(["testsrc", "--uid", uid, "--duration", "1", "--size", "320x180",
                     "-o", f"u{uid}.mp4"], out=io.StringIO(), err=io.StringIO()) == 0
    ran = []
    for name in ORDER:
        for line in EXAMPLES[name]:
            code, out, err = _run(line, monkeypatch, bundled=False)
            assert code == 0, f"{line}\n{out}\n{err}"
            ran.append(name)
    assert (in_tmp / "samples" / "scenario-demo.json").is_file()
    assert (in_tmp / "elsewhere" / "samples" / "media" / "5005.mp4").is_file()
    assert (in_tmp / "1001.mp4").exists() and (in_tmp / "scenario.gif").exists()
    assert (in_tmp / "report.html").exists() and (in_tmp / "mixed.mp4").exists() is False
    # servers run till stopped; batch: tests/test_batch.py
    assert set(ran) == set(EXAMPLES) - {"design", "demo", "events", "batch", "serve"}


@pytest.mark.slow
def test_the_demo_examples_run(in_tmp, monkeypatch):
    for line in EXAMPLES["demo"]:
        code, out, err = _run(line, monkeypatch)
        assert code == 0, err
        assert "compare-report.html" in out


def test_profiles_lists_every_key_with_its_default():
    code, out, _ = _run("layoutkit profiles", None)
    assert code == 0
    for key in ("vertical_column_order", "after_stop", "mp4_rollover"):
        assert f"\n{key}: " in out
    assert "figure (default)" in out and "last_frame:" in out


@pytest.mark.parametrize("argv, message", [
    (["--gif", "-o", "x.mp4"], "a .mp4 file, but --gif makes GIF"),
    (["-o", "out"], "name the format with the extension"),
    (["--at", "3", "-o", "x.gif"], "a .gif file, but --at makes a PNG still"),
    (["-o", "frame.png"], "needs --at SECONDS"),
])
def test_scenario_preview_format_follows_the_extension(in_tmp, argv, message):
    code, _, err = _run("layoutkit preview samples/scenario-demo.json " + shlex.join(argv),
                        None)
    assert code == 2 and message in err, err
    assert list(in_tmp.iterdir()) == []


def test_a_request_preview_is_a_png(in_tmp):
    code, _, err = _run("layoutkit preview samples/start-floating.json -o x.gif", None)
    assert code == 2 and "a request preview is a still (.png)" in err
