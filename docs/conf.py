"""Sphinx configuration of layoutkit's documentation site.

Build it with ``python -m sphinx -W -n docs docs/_build`` from the repository's root: ``-W``
makes every warning an error and ``-n`` (nitpicky) makes every reference that does not
resolve a warning, so a broken link or a renamed function fails the build.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's layoutkit, also when another copy is installed

import layoutkit  # noqa: E402 -- after the path above

project = "layoutkit"
author = "the layoutkit authors"
copyright = "2026, the layoutkit authors"
release = layoutkit.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: `(label)=` targets, ```{directive}``` blocks, and heading anchors for in-page links.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API pages: numpydoc renders the docstrings' sections; autodoc takes them from the code.
autodoc_member_order = "bysource"
# Signatures show defaults as written (``profile=DEFAULT_PROFILE``), not their long repr.
autodoc_preserve_defaults = True
# Types are in the numpydoc "Parameters" / "Returns" sections; the signatures' annotations
# would link to NumPy's and the standard library's types, which need intersphinx (a network
# fetch at build time), so signatures are shown without them.
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"layoutkit {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "Agora Cloud Recording's mix mode, on your laptop"}

