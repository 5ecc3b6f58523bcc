"""``layoutkit batch`` / ``lk.batch``: a manifest of rows checked on a real Dask cluster.

The recordings are made once per module by our recorder (test streams, 320x180, 2 s).  The
default run checks a manifest on a local cluster of 2 worker processes (the verdicts in
``summary.csv`` and ``summary.json``, the index in headless Chromium, a second run that
skips every row); the slow tests start a real ``dask scheduler`` and ``dask worker`` as
subprocesses on 127.0.0.1 and kill a worker in the middle of a row.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import layoutkit as lk
from layoutkit.cli import main
from layoutkit.errors import ManifestError

from .browser import open_file

ROOT = Path(__file__).resolve().parent.parent
#: The verdict each row of the manifest must get (by its line in the manifest).
EXPECTED = {2: "match", 3: "match", 4: "differ", 5: "error"}


def _scenario(users: list[str]) -> dict[str, Any]:
    return {"cname": "c", "duration": 2, "users": [{"uid": u} for u in users],
            "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {
                "transcodingConfig": {"width": 320, "height": 180, "mixedVideoLayout": 1}}}}}


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Make a folder of recordings, scenarios and ``m.csv`` naming them.

    Two recordings, their scenarios, a scenario with a user the recording lacks, an invalid
    scenario, and ``m.csv`` naming them (lines 2..5, see EXPECTED).
    """
    folder = tmp_path_factory.mktemp("batch")
    for name, users in (("a", ["1", "2"]), ("b", ["1"])):
        (folder / f"{name}.json").write_text(json.dumps(_scenario(users)))
        lk.mix(folder / f"{name}.json", folder / "recordings" / name)
    (folder / "three.json").write_text(json.dumps(_scenario(["1", "2", "3"])))
    (folder / "bad.json").write_text(json.dumps({"cname": 5}))
    (folder / "m.csv").write_text("recording,scenario\n"
                                  "recordings/a,a.json\n"
                                  "recordings/b,b.json\n"
                                  "recordings/a,three.json\n"
                                  "recordings/b,bad.json\n")
    return folder


def _batch(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["batch", *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _summary(out_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    doc = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    return table, doc["rows"]


def _check_verdicts(out_dir: Path) -> None:
    table, listed = _summary(out_dir)
    assert {int(r["row"]): r["verdict"] for r in table} == EXPECTED
    assert {r["row"]: r["verdict"] for r in listed} == EXPECTED
    by_row = {r["row"]: r for r in listed}
    assert by_row[4]["differences"] >= 1 and "wrong_user" in by_row[4]["kinds"]
    assert by_row[5]["error"] and "bad.json" in by_row[5]["error"]
    assert by_row[2]["differences"] == 0 and by_row[2]["error"] is None
    for r in listed:  # every row's reports exist, inside the folder, whole
        for key in ("report_html", "report_json"):
            path = (out_dir / r[key]).resolve()
            assert path.is_file() and out_dir.resolve() in path.parents, r
        assert json.loads((out_dir / r["report_json"]).read_text())["batch"]["verdict"] == \
            r["verdict"]
    assert not [p for p in out_dir.rglob("*") if p.name.endswith(".part")]


@pytest.fixture(scope="module")
def checked(rows: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """Check the manifest once on a local cluster of 2 workers: (OUTDIR, exit code, out)."""
    out_dir = tmp_path_factory.mktemp("checked")
    code, out, err = _batch(str(rows / "m.csv"), "-o", str(out_dir), "--workers", "2")
    assert not err.strip() or "warning" in err, err
    return out_dir, code, out


def test_a_local_cluster_gives_each_row_its_verdict(checked: tuple[Path, int, str]) -> None:
    out_dir, code, out = checked
    assert code == 1  # a row differs
    _check_verdicts(out_dir)
    assert "4 rows: 2 match, 1 differ, 1 error" in out
    assert "row 4 (recordings/a): differ: " in out


def test_a_second_run_skips_every_unchanged_row(checked: tuple[Path, int, str],
                                                rows: Path) -> None:
    out_dir, _, _ = checked
    start = time.perf_counter()
    code, out, _ = _batch(str(rows / "m.csv"), "-o", str(out_dir), "--workers", "2")
    assert code == 1
    assert "4 unchanged since the last run, not checked again" in out
    assert time.perf_counter() - start < 5  # no cluster was started
    _check_verdicts(out_dir)
    assert all(r["skipped"] for r in _summary(out_dir)[1])


def test_the_index_lists_every_row_and_sorts_by_a_click(checked: tuple[Path, int, str],
                                                        browser: Any) -> None:
    from selenium.webdriver.common.by import By

    out_dir, _, _ = checked
    open_file(browser, out_dir / "index.html")

    def column(n: int) -> list[str]:
        return [tr.find_elements(By.TAG_NAME, "td")[n].text
                for tr in browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")]

    assert column(0) == ["2", "3", "4", "5"]
    links = browser.find_elements(By.CSS_SELECTOR, "#rows tbody a")
    assert len(links) == 8
    for link in links:
        target = Path(link.get_attribute("href").removeprefix("file://"))
        assert target.is_file() and out_dir.resolve() in target.resolve().parents
    heading = browser.find_elements(By.CSS_SELECTOR, "#rows th")[4]  # differences
    assert heading.text.startswith("differences")
    heading.click()
    assert column(4)[-1] != "0" and column(0)[-1] == "4"  # ascending: the differing row last
    heading.click()
    assert column(0)[0] == "4"  # descending: first
    browser.find_elements(By.CSS_SELECTOR, "#rows th")[3].click()  # verdict, a-z
    assert column(3) == ["differ", "error", "match", "match"]


def _manifest(folder: Path, text: str) -> Path:
    path = folder / "m.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("value", ["../elsewhere", "/etc", "x/../../elsewhere", "up"])
def test_a_path_leaving_the_manifest_folder_is_refused_naming_row_and_column(
        tmp_path: Path, value: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.symlink("/etc", folder / "up")
    path = _manifest(folder, f"recording,scenario\nrec,s.json\nrec,{value}\n")
    with pytest.raises(ManifestError, match=r"row 3, column scenario: .* leads outside "
                                            r"the manifest's folder"):
        lk.batch(path, tmp_path / "out")
    code, _, err = _batch(str(path), "-o", str(tmp_path / "out2"))
    assert code == 1 and "m.csv: row 3, column scenario: " in err
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_a_manifest_without_the_columns_is_refused(tmp_path: Path) -> None:
    path = _manifest(tmp_path, "file,scenario\nrec,s.json\n")
    with pytest.raises(ManifestError, match=r"row 1 \(the header\) has no column recording"):
        lk.batch(path, tmp_path / "out")


def test_a_manifest_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "m.csv")
    code, _, err = _batch(str(tmp_path / "m.csv"), "-o", str(tmp_path / "out"))
    assert code == 1 and "is a FIFO (named pipe), not a regular file" in err


# --- a real Dask scheduler and worker, started here ------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    exe = shutil.which("dask")
    if exe is None:
        pytest.skip("the dask command is not installed")
    return subprocess.Popen([exe, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.fixture
def scheduler() -> Iterator[str]:
    """Start a ``dask scheduler`` and a ``dask worker`` (2 processes, 1 thread each).

    Both on 127.0.0.1; a row may be given to a worker twice (allowed-failures 1).
    """
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                   env=env)]
    try:
        procs.append(_dask("worker", address, "--host", "127.0.0.1", "--nworkers", "2",
                           "--nthreads", "1", "--no-dashboard", env=env))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_a_running_scheduler_gives_the_same_verdicts_and_force_checks_again(
        rows: Path, tmp_path: Path, scheduler: str) -> None:
    code, out, _ = _batch(str(rows / "m.csv"), "-o", str(tmp_path), "--scheduler", scheduler)
    assert code == 1, out
    _check_verdicts(tmp_path)
    assert not any(r["skipped"] for r in _summary(tmp_path)[1])
    code, out, _ = _batch(str(rows / "m.csv"), "-o", str(tmp_path), "--scheduler", scheduler,
                          "--force")
    assert code == 1 and "unchanged" not in out
    _check_verdicts(tmp_path)
    assert not any(r["skipped"] for r in _summary(tmp_path)[1])
    (rows / "ok.csv").write_text("recording,scenario\nrecordings/a,a.json\nrecordings/b,b.json\n")
    code, out, _ = _batch(str(rows / "ok.csv"), "-o", str(tmp_path / "ok"), "--scheduler",
                          scheduler)
    assert code == 0 and "2 rows: 2 match, 0 differ, 0 error" in out


def _kill_in_row(address: str, line: int, marker: Path, *, always: bool = False) -> None:
    """Register a worker plugin on the cluster that kills the worker of manifest row ``line``.

    The worker that starts running the row dies at once (``os._exit``), once (until
    ``marker`` exists) or ``always``; ``marker`` gets a line per death.  The class is
    local, so it travels by value.
    """
    from distributed import Client
    from distributed.diagnostics.plugin import WorkerPlugin

    from layoutkit.batches.run import KEY_PREFIX

    prefix, path = f"{KEY_PREFIX}{line}-", str(marker)

    class KillInRow(WorkerPlugin):
        def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
            if finish != "executing" or not str(key).startswith(prefix):
                return
            if always or not os.path.exists(path):
                with open(path, "a") as f:
                    f.write("died\n")
                os._exit(1)

    with Client(address, timeout="60s") as client:
        client.register_plugin(KillInRow(), name="kill-in-row")


@pytest.mark.slow
def test_a_worker_killed_in_a_row_is_retried_and_the_row_completes(
        rows: Path, tmp_path: Path, scheduler: str) -> None:
    marker = tmp_path / "died"
    _kill_in_row(scheduler, 2, marker)
    code, _out, _ = _batch(str(rows / "m.csv"), "-o", str(tmp_path / "out"), "--scheduler",
                           scheduler)
    assert marker.read_text() == "died\n"  # the worker did die in row 2
    assert code == 1
    _check_verdicts(tmp_path / "out")  # row 2 still matched, on the restarted worker


@pytest.mark.slow
def test_a_row_whose_worker_dies_every_time_is_that_rows_error(
        rows: Path, tmp_path: Path, scheduler: str) -> None:
    marker = tmp_path / "died"
    _kill_in_row(scheduler, 3, marker, always=True)
    code, out, _ = _batch(str(rows / "m.csv"), "-o", str(tmp_path / "out"), "--scheduler",
                          scheduler)
    assert code == 1
    assert marker.read_text().count("died") == 2  # the first run and one retry
    _, listed = _summary(tmp_path / "out")
    by_row = {r["row"]: r for r in listed}
    assert by_row[3]["verdict"] == "error" and "died" in by_row[3]["error"]
    assert {r["row"]: r["verdict"] for r in listed if r["row"] != 3} == \
        {k: v for k, v in EXPECTED.items() if k != 3}
    assert "row 3 (recordings/b): error: the worker running this row died" in out


def test_workers_with_a_scheduler_is_a_usage_error(rows: Path, tmp_path: Path) -> None:
    code, _, err = _batch(str(rows / "m.csv"), "-o", str(tmp_path), "--workers", "2",
                          "--scheduler", "tcp://127.0.0.1:8786")
    assert code == 2 and "--workers sizes the local cluster" in err
    code, _, err = _batch(str(rows / "m.csv"), "-o", str(tmp_path), "--workers", "0")
    assert code == 2 and "--workers: must be a whole number >= 1" in err


@pytest.mark.slow
@pytest.mark.parametrize("always", [False, True])
def test_on_a_local_cluster_a_killed_worker_is_retried(
        rows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, always: bool) -> None:
    """A killed worker's row is retried on a new worker, or reported after the retries.

    tests/batch_kill_preload.py kills the worker that starts row 3: once (the row still
    matches, on a new worker) or every time (after the local cluster's 2 retries, the row's
    error; the rows the other worker ran are not blamed).
    """
    import dask
    import distributed  # noqa: F401 - its defaults in dask.config before the set below

    marker = tmp_path / "died"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LAYOUTKIT_TEST_KILL_ROW", "3")
    monkeypatch.setenv("LAYOUTKIT_TEST_KILL_MARKER", str(marker))
    if always:
        monkeypatch.setenv("LAYOUTKIT_TEST_KILL_ALWAYS", "1")
    with dask.config.set({"distributed.worker.preload": ["tests.batch_kill_preload"]}):
        result = lk.batch(rows / "m.csv", tmp_path / "out", workers=2)
    verdicts = {r.row: r.verdict for r in result.rows}
    if always:
        assert marker.read_text() == "died\n" * 3  # the first run and 2 retries
        assert verdicts == {**EXPECTED, 3: "error"}
        assert "died each time it ran it" in str(result.rows[1].error)
    else:
        assert marker.read_text() == "died\n"
        assert verdicts == EXPECTED
        _check_verdicts(tmp_path / "out")
