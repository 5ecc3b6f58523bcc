"""The package's rooms keep their rules (checked on the source, like an API-surface test)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "layoutkit"
PURE = ("request", "scenario", "timeline.py", "layout", "compose", "signals", "cloudfiles",
        "profile.py", "enums.py", "errors.py")


@functools.cache
def _modules() -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of the package, parsed once for the tests of this file."""
    return tuple((path.relative_to(PACKAGE), ast.parse(path.read_text(), filename=str(path)))
                 for path in sorted(PACKAGE.rglob("*.py")))


def _imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_exactly_one_package_imports_av():
    importers = {rel.parts[0] if len(rel.parts) > 1 else rel.name
                 for rel, tree in _modules() if "av" in _imported(tree)}
    assert importers == {"io"}, importers


def test_pure_rooms_import_neither_av_nor_the_io_edge():
    for rel, tree in _modules():
        if rel.parts[0] not in PURE:
            continue
        assert not {"av", "boto3"} & _imported(tree), rel
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = (node.module or "").split(".")[0]
                assert target not in ("io", "record", "render", "sources", "inputs"), \
                    f"{rel} imports the edge ({node.module})"


def test_usage_error_is_raised_by_the_command_line_only():
    for rel, tree in _modules():
        raising = [node for node in ast.walk(tree) if isinstance(node, ast.Raise)
                   and node.exc is not None and "UsageError" in ast.unparse(node.exc)]
        if rel.parts[0] != "cli":
            assert not raising, f"{rel} raises UsageError (library code raises the matching " \
                                f"LayoutkitError; the CLI adds its flags)"


def test_library_messages_name_no_command_line_flag():
    for rel, tree in _modules():
        if rel.parts[0] == "cli":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                text = ast.unparse(node.exc)
                assert "--force" not in text and "pass --" not in text, f"{rel}: {text}"
