"""The public surface is typed (issue 22, item 4): what mypy infers from ``import layoutkit``.

A small script using the facade is checked by ``python -m mypy`` (the project's settings,
this tree's ``layoutkit`` first on the path); each ``reveal_type`` must name the real type,
never ``Any``.  The rest: the exported names, the lazy imports, the one version source.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import layoutkit as lk

ROOT = Path(__file__).resolve().parents[1]

#: An (H, W, 3) uint8 picture, however this numpy spells its shape and bit width.
UINT8_ARRAY = re.compile(
    r"numpy\.ndarray\[.*numpy\.dtype\[numpy\.unsignedinteger\[.*_8Bit\]\]\]$")

#: Snippet lines, each revealing one expression, and the type mypy must reveal for it
#: (its start, or a pattern).
REVEALS: dict[str, str | re.Pattern[str]] = {
    'lk.load_request("start.json", kind="start")': "layoutkit.request.model.StartRequest",
    'lk.load_request({}, kind="updateLayout")': "layoutkit.request.model.UpdateLayoutRequest",
    'lk.load_request("stop.json", kind="stop")': "layoutkit.request.model.StopRequest",
    'lk.load_request("any.json")': (
        "layoutkit.request.model.StartRequest | layoutkit.request.model.UpdateLayoutRequest"
        " | layoutkit.request.model.AcquireRequest | layoutkit.request.model.UpdateRequest"
        " | layoutkit.request.model.StopRequest"),
    "lk.preview(lk.load_request('start.json'), users=3)":
        UINT8_ARRAY,
    'lk.load_scenario("scenario.json")': "layoutkit.scenario.model.Scenario",
    'lk.frame_at("scenario.json", 1.0)':
        UINT8_ARRAY,
    'lk.mix("scenario.json", "out")': "layoutkit.record.pipeline.RecordingResult",
    'lk.mix("scenario.json", "out").duration': "fractions.Fraction",
    'lk.compare("scenario.json", "out")': "layoutkit.comparison.model.CompareResult",
    'lk.compare("scenario.json", "out").differences':
        re.compile(r"(builtins\.)?tuple\[layoutkit\.comparison\.model\.Difference, \.\.\.\]$"),
    'lk.batch("nightly.csv", "checked")': re.compile(r"layoutkit\.batches(\.\w+)*\.BatchResult$"),
    'lk.serve("scenario.json")': "layoutkit.service.server.ServiceServer",
    "lk.__version__": re.compile(r"(builtins\.)?str$"),
    "lk.RecordingResult": "def (",
    "lk.PreviewWarning": "def (",
    "lk.DamagedMediaWarning": "def (",
    "lk.ImageIgnoredWarning": "def (",
    "lk.RequestWarning": "def (",
}


def _revealed(tmp_path: Path) -> tuple[list[str], str]:
    """Mypy's revealed types, one per snippet line, in order; and its whole output."""
    body = "\n".join(f"reveal_type({expression})" for expression in REVEALS)
    snippet = tmp_path / "typing_snippet.py"
    snippet.write_text(f"import layoutkit as lk\n\n{body}\n", encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--no-error-summary", "--hide-error-context", "--show-absolute-path", str(snippet)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    found = re.findall(r'typing_snippet\.py:\d+: note: Revealed type is "(.*)"$',
                       done.stdout, flags=re.MULTILINE)
    return found, done.stdout + done.stderr


def test_facade_return_types_are_real_not_any(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    revealed, output = _revealed(tmp_path)
    assert len(revealed) == len(REVEALS), output
    assert " error:" not in output, output
    for (expression, expected), got in zip(REVEALS.items(), revealed, strict=True):
        assert got != "Any", f"{expression}: mypy sees Any"
        got = got.replace("?", "")
        ok = (expected.match(got) if isinstance(expected, re.Pattern)
              else got.startswith(expected))
        assert ok, f"{expression}: {got}"


def test_every_warning_class_and_result_type_is_exported() -> None:
    import layoutkit.annotate
    import layoutkit.io.decode
    import layoutkit.io.images
    import layoutkit.record.pipeline
    from layoutkit.comparison import model

    warning_classes = {
        cls for module in (lk.api, layoutkit.annotate, layoutkit.io.decode, layoutkit.io.images)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, Warning) and cls.__module__ == module.__name__}
    assert len(warning_classes) == 4
    for cls in warning_classes:
        assert cls.__name__ in lk.__all__ and getattr(lk, cls.__name__) is cls
    assert lk.RecordingResult is layoutkit.record.pipeline.RecordingResult
    assert (lk.CompareResult, lk.Difference) == (model.CompareResult, model.Difference)


def test_import_layoutkit_loads_no_heavy_module_for_the_new_names() -> None:
    heavy = ["layoutkit.record.pipeline", "layoutkit.annotate", "layoutkit.io.decode",
             "layoutkit.io.images", "layoutkit.comparison.model", "importlib.metadata", "av",
             "PIL.Image"]
    code = (f"import json, sys, layoutkit; print(json.dumps([m for m in {heavy!r} "
            "if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert json.loads(done.stdout) == []


def test_version_is_pyproject_version() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        declared = tomllib.load(file)["project"]["version"]
    assert lk.__version__ == declared
    from layoutkit import __version__

    assert __version__ == declared
    assert "__version__" in lk.__all__


# One home per rule (issue 22, item 5): the cloud's numbers, the PNG encoder, the JSON reader.

PACKAGE = ROOT / "layoutkit"
CLOUD_NUMBERS = {"SAMPLE_RATE": 48000, "SEGMENT_SECONDS": 15, "MIN_TARGET_DURATION": 18,
                 "MP4_MAX_BYTES": 2 * 1024**3,
                 "ROLLOVER_SECONDS": {"2h": 2 * 3600, "3h": 3 * 3600}}


def _modules() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py"))}


def _assigned_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _imported_modules(tree: ast.Module, package: str) -> set[str]:
    """Absolute names of the modules a module of ``package`` imports from."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1]
            found.add(".".join([*base, node.module or ""]) if node.level else node.module or "")
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_clouds_numbers_have_one_home() -> None:
    from layoutkit.cloudfiles import constants

    homes = {name: [path for path, tree in _modules().items() if name in _assigned_names(tree)]
             for name in CLOUD_NUMBERS}
    assert homes == {name: ["layoutkit/cloudfiles/constants.py"] for name in CLOUD_NUMBERS}
    assert {name: getattr(constants, name) for name in CLOUD_NUMBERS} == CLOUD_NUMBERS


def test_compare_takes_the_segment_rule_from_cloudfiles_not_the_recorder() -> None:
    comparison = {path: tree for path, tree in _modules().items()
                  if path.startswith("layoutkit/comparison/")}
    recorder = {path: sorted(m for m in _imported_modules(tree, "layoutkit.comparison")
                             if m.startswith("layoutkit.record"))
                for path, tree in comparison.items()}
    assert {path: found for path, found in recorder.items() if found} == {}
    users = [path for path, tree in comparison.items()
             if "layoutkit.cloudfiles.constants" in _imported_modules(tree, "layoutkit.comparison")]
    assert "layoutkit/comparison/files.py" in users


#: Modules that parse JSON near a file read but are not file readers (the designer's masking
#: and the NCS receiver parse text they were given); batches/ is left to its owner.
JSON_LEFT = {"layoutkit/design/masking.py", "layoutkit/ncs/receiver.py"}


def test_one_png_encoder() -> None:
    encoders = sorted(
        str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
        if any(mark in path.read_text(encoding="utf-8")
               for mark in ('format="PNG"', "format='PNG'", 'b"IHDR"', "imencode(\".png\"")))
    assert encoders == ["layoutkit/io/png.py"]


def test_written_png_is_pixel_exact_and_design_uses_the_same_encoder(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from layoutkit.design import session
    from layoutkit.io import png

    picture = lk.preview({"mixedVideoLayout": 1}, users=3, canvas_wh=(320, 180))
    png.write_png(picture, tmp_path / "p.png")
    with Image.open(tmp_path / "p.png") as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), picture)
    assert session.encode_png is png.encode_png
    with pytest.raises(lk.ShapeError):
        png.write_png(picture[:, :, 0], tmp_path / "gray.png")
    assert not (tmp_path / "gray.png").exists()


def test_stop_response_readers_share_the_hardened_json_reader(tmp_path: Path) -> None:
    """Compare's and upload's stop-response readers: one reader, NaN refused, the file named."""
    from layoutkit.comparison.read import _load_response
    from layoutkit.record.upload import mark_uploaded

    response = tmp_path / "serverResponse.json"
    response.write_text('{"serverResponse": {"fileList": [], "uploadingStatus": NaN}}')
    with pytest.raises(lk.MediaError, match=r"serverResponse\.json: the stop response is not "
                                            r"valid JSON \(malformed JSON at line 1"):
        _load_response(response)
    with pytest.raises(lk.StorageError, match=r"serverResponse\.json: the stop response is not "
                                              r"valid JSON"):
        mark_uploaded(tmp_path)
    texts = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
             for path in PACKAGE.rglob("*.py") if "batches" not in path.parts}
    readers = sorted(name for name, text in texts.items() if "json.loads(" in text
                     and ("read_text(" in text or "read_limited(" in text))
    assert set(readers) <= JSON_LEFT, readers
