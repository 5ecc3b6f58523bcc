"""The command line: exit codes, message lines, layout --json, usage errors, subprocess smoke."""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import av
import pytest

from layoutkit.cli import main
from layoutkit.demo import samples_dir


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def _write(tmp_path, doc, name="r.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_validate_ok_warns_and_prints_normalized_json(tmp_path):
    code, out, err = _run("validate", str(samples_dir() / "start-bestfit-seed.json"), "--json")
    assert code == 0
    body = json.loads(out)
    assert body["clientRequest"]["recordingConfig"]["transcodingConfig"]["fps"] == 15
    assert body["clientRequest"]["storageConfig"]["secretKey"] == "***"
    assert "warning: clientRequest.recordingConfig.subscribeUidGroup:" in err


def test_validate_reports_every_problem_one_per_line(tmp_path):
    doc = {"cname": "c", "uid": "1", "clientRequest": {
        "recordingConfig": {"transcodingConfig": {"width": 2000, "fps": 20, "mixedVideoLayout": 1,
                                                  "backgroundcolor": "#FFFFFF"}},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a",
                          "secretKey": "s"}}}
    path = _write(tmp_path, doc)
    code, out, err = _run("validate", path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert (f"{path}: code 2: clientRequest.recordingConfig.transcodingConfig.backgroundcolor: "
            "unknown key; did you mean 'backgroundColor'?") in lines
    assert (f"{path}: code 2: clientRequest.recordingConfig.transcodingConfig.width: must be in "
            "[1, 1920] (got 2000)") in lines
    assert any(line.startswith(f"{path}: warning: clientRequest.recordingConfig."
                               "transcodingConfig.fps") for line in lines)
    assert lines[-1] == f"{path}: 2 problems (Agora error code 2: invalid parameter)"


def test_validate_malformed_json_names_line_and_column(tmp_path):
    code, _, err = _run("validate", _write(tmp_path, '{\n  "cname": "x",\n  "uid": }'))
    assert code == 1
    assert "malformed JSON at line 3, column 10" in err


@pytest.mark.parametrize("argv", [["nosuch"], ["validate"], ["layout", "--mode", "grid"],
                                  ["layout", "--canvas", "12by3"],
                                  ["layout", "--profile", "floating_rendr=fit"]])
def test_usage_errors_exit_2_without_traceback(argv):
    code, _, err = _run(*argv)
    assert code == 2
    assert "Traceback" not in err and err.strip()


def test_profile_typo_gets_a_hint():
    code, _, err = _run("layout", "--profile", "floating_rendr=fit")
    assert code == 2 and "did you mean 'floating_render'?" in err


def test_missing_file_is_exit_1():
    code, _, err = _run("validate", "/no/such/file.json")
    assert code == 1 and "no such file" in err


def test_layout_json_shape_and_profile():
    code, out, _ = _run("layout", "--mode", "floating", "--users", "3", "--canvas", "360x640",
                        "--json", "--profile", "floating_render=fit")
    assert code == 0
    assert json.loads(out) == {"canvas": [360, 640], "regions": [
        {"uid": "1", "x": 0, "y": 0, "width": 360, "height": 640, "render_mode": 1,
         "alpha": 1.0, "z": 0},
        {"uid": "2", "x": 4, "y": 482, "width": 85, "height": 150, "render_mode": 1,
         "alpha": 1.0, "z": 1},
        {"uid": "3", "x": 93, "y": 482, "width": 85, "height": 150, "render_mode": 1,
         "alpha": 1.0, "z": 2}]}


def test_layout_of_a_custom_request_table():
    code, out, _ = _run("layout", str(samples_dir() / "start-custom.json"), "--users", "1,7")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("canvas 1280x720, mixedVideoLayout 3")
    assert len(lines) == 2 + 3  # header, column titles, one row per layoutConfig entry
    assert lines[-1].split()[1] == "-"  # the third region has nobody in it


def test_testsrc_cli_writes_a_playable_file(tmp_path):
    out_file = tmp_path / "t.mp4"
    code, _out, err = _run("testsrc", "--uid", "123", "--duration", "1", "-o", str(out_file))
    assert code == 0, err
    with av.open(str(out_file)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].sample_rate == 48000
    code, _, err = _run("testsrc", "--uid", "0", "-o", str(tmp_path / "u.mp4"))
    assert code == 2 and "--uid" in err


def test_python_dash_m_and_console_script():
    run = subprocess.run([sys.executable, "-m", "layoutkit", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("layoutkit ")
    run = subprocess.run([sys.executable, "-m", "layoutkit", "validate", "/nope.json"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr


def test_scenario_and_request_files_are_not_confused(tmp_path):
    code, _, err = _run("layout", str(samples_dir() / "scenario-demo.json"))
    assert code == 1 and "this is a scenario file" in err
    code, _, err = _run("mix", str(samples_dir() / "start-custom.json"), "-o", str(tmp_path / "o"))
    assert code == 1 and "this is a request body" in err
    assert not (tmp_path / "o").exists()


def test_validate_takes_a_scenario_too(tmp_path):
    code, out, err = _run("validate", str(samples_dir() / "scenario-demo.json"))
    assert code == 0, err
    assert out.strip().endswith("valid scenario (4 users, 8 events, 24 s)")
    doc = json.loads((samples_dir() / "scenario-demo.json").read_text())
    doc["events"][0]["uid"] = "3030"
    code, _, err = _run("validate", _write(tmp_path, doc))
    assert code == 1 and "code 2: events[0].uid:" in err


def test_warnings_are_printed_even_when_the_body_is_refused(tmp_path):
    body = {"mixedVideoLayout": 1, "maxResolutionUid": "3", "backgroundColour": "#000000"}
    path = _write(tmp_path, body)
    code, _, err = _run("validate", path, "--kind", "updateLayout")
    assert code == 1
    lines = err.splitlines()
    assert any(line.startswith(f"{path}: warning: maxResolutionUid") for line in lines), err
    assert any("backgroundColour: unknown key" in line for line in lines), err


def test_an_existing_output_is_refused_with_the_flag_named(tmp_path):
    out = tmp_path / "p.png"
    out.write_bytes(b"mine")
    request = str(samples_dir() / "start-bestfit-seed.json")
    code, _, err = _run("preview", request, "-o", str(out))
    assert code == 2 and "exists; pass --force to replace it" in err
    assert out.read_bytes() == b"mine"
    assert _run("preview", request, "-o", str(out), "--force")[0] == 0


def test_validate_and_preview_read_a_pipe_and_standard_input(tmp_path):
    """A file looked at twice (scenario or request?) is read once: pipes work as files do."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "start-bestfit.json"
    cli = f"{shlex.quote(sys.executable)} -m layoutkit"  # this venv's, not PATH's
    run = subprocess.run(["bash", "-c", f"{cli} validate <(cat '{sample}') && "
                                        f"{cli} preview <(cat '{sample}') -o p.png"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^/dev/fd/\d+: valid StartRequest$", run.stdout, flags=re.M), run.stdout
    assert (tmp_path / "p.png").stat().st_size > 1000
    run = subprocess.run([sys.executable, "-m", "layoutkit", "validate", "-"],
                         input=sample.read_text(),
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (0, "-: valid StartRequest\n"), run.stderr
    run = subprocess.run([sys.executable, "-m", "layoutkit", "validate", "-"],
                         input='{"clientRequest": {"x": 1}}',
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stderr.startswith("-: code 2: "), run.stderr
