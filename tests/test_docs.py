"""The documentation site (docs/, Sphinx + MyST + numpydoc): kept true to the code.

* the package map (docs/architecture.md) names every module of ``layoutkit`` and no module
  that does not exist;
* the behaviour-profile page names every key and value of ``PROFILE_CHOICES``;
* the cloud's-behaviour page keeps the anchors code comments link to;
* ``python -m sphinx -W -n docs OUT`` builds with no warning and no broken reference, and the
  built index page shows its picture and table of contents in a real browser.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import layoutkit
from layoutkit.profile import PROFILE_CHOICES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MAP_PAGE = DOCS / "architecture.md"
#: Anchors of docs/cloud.md that code comments link to (``cloud.html#<anchor>``): renaming
#: one breaks those links, so it is a deliberate change of this list.
CLOUD_ANCHORS = (
    "cloud", "cloud-sources", "cloud-layout", "cloud-layout-floating", "cloud-layout-bestfit",
    "cloud-layout-vertical", "cloud-layout-custom", "cloud-join-order", "cloud-render-modes",
    "cloud-transcoding", "cloud-recording-config", "cloud-max-idle", "cloud-display-rules",
    "cloud-backgrounds", "cloud-files", "cloud-file-names", "cloud-playlist", "cloud-segments",
    "cloud-file-list", "cloud-storage", "cloud-update-layout", "cloud-endpoints",
    "cloud-output-codec", "cloud-conflicts", "cloud-open-questions", "cloud-real-artefacts",
    "cloud-notifications",
)


def package_modules() -> list[str]:
    """``layoutkit`` and every module and package under it."""
    found = pkgutil.walk_packages(layoutkit.__path__, "layoutkit.")
    return ["layoutkit", *sorted(m.name for m in found)]


def mapped_modules(text: str) -> list[str]:
    """Return the modules the package map declares (its ``{py:module}`` directives)."""
    return re.findall(r"^```\{py:module\} (\S+)$", text, flags=re.MULTILINE)


def test_package_map_names_every_module() -> None:
    mapped = mapped_modules(MAP_PAGE.read_text(encoding="utf-8"))
    missing = [name for name in package_modules() if name not in mapped]
    assert not missing, (f"{MAP_PAGE.relative_to(ROOT)}: add a line for each new module "
                         f"(its docstring's first sentence): {missing}")


def test_package_map_names_only_existing_modules() -> None:
    mapped = mapped_modules(MAP_PAGE.read_text(encoding="utf-8"))
    assert len(mapped) == len(set(mapped)), "a module is listed twice"
    stale = [name for name in mapped if importlib.util.find_spec(name) is None]
    assert not stale, f"{MAP_PAGE.relative_to(ROOT)} lists modules that are gone: {stale}"


def test_profile_page_names_every_key_and_value() -> None:
    text = (DOCS / "profile.md").read_text(encoding="utf-8")
    rows = {m[1]: m[0] for m in re.finditer(r"^\| `(\w+)` \|.*$", text, flags=re.MULTILINE)}
    assert set(rows) == set(PROFILE_CHOICES)
    for key, values in PROFILE_CHOICES.items():
        for value in values:
            assert f"`{value}`:" in rows[key], f"profile.md: {key}={value} is not explained"


def test_cloud_page_keeps_its_anchors() -> None:
    text = (DOCS / "cloud.md").read_text(encoding="utf-8")
    labels = re.findall(r"^\(([\w-]+)\)=$", text, flags=re.MULTILINE)
    assert sorted(labels) == sorted(CLOUD_ANCHORS)


def api_targets(name: str) -> set[str]:
    """Return the ids under which the API page may document ``layoutkit.<name>``.

    That name, or the object's home (``lk.CompareResult`` is
    ``layoutkit.comparison.model.CompareResult``).
    """
    targets = {f"layoutkit.{name}"}
    value = getattr(layoutkit, name)
    if hasattr(value, "__qualname__"):
        targets.add(f"{value.__module__}.{value.__qualname__}")
    return targets


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site by the one command, strict (-W -n), into a temporary folder."""
    for module in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(module, reason="python -m pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("docs-build")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-E",
                           "-d", str(out / ".doctrees"), str(DOCS), str(out / "html")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return out / "html"


def test_sphinx_build_is_strict_and_complete(built_site: Path) -> None:
    pages = {p.stem for p in DOCS.glob("*.md")}
    built = {p.stem for p in built_site.glob("*.html")}
    assert pages <= built, f"pages not built: {sorted(pages - built)}"
    api = (built_site / "api.html").read_text(encoding="utf-8")
    undocumented = [name for name in layoutkit.__all__
                    if not any(f'id="{target}"' in api for target in api_targets(name))]
    assert not undocumented, f"docs/api.md: document these public names: {undocumented}"
    cloud = (built_site / "cloud.html").read_text(encoding="utf-8")
    for anchor in CLOUD_ANCHORS[1:]:
        assert f'id="{anchor}"' in cloud, f"cloud.html has no #{anchor}"


def test_built_index_in_a_browser(built_site: Path, browser: Any) -> None:
    browser.get((built_site / "index.html").as_uri())
    assert browser.title.startswith("layoutkit")
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
    assert sizes and all(done and width > 0 for done, width in sizes), sizes
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('.toctree-wrapper a'))"
        ".map(a => a.getAttribute('href'));")
    for page in ("getting-started.html", "cloud.html", "architecture.html", "api.html"):
        assert page in links, links
