"""``layoutkit design``: a local page to build a layout and see the exact recording.

:func:`create_app` is the Flask app (routes in :mod:`.server`), :class:`DesignServer` serves
it on 127.0.0.1; :mod:`.session` holds what the page asks of the package (validation with
``layoutkit validate``'s messages, pictures drawn by the package's own renderer, export with
six-decimal fractions).  The page itself is ``static/`` (plain JavaScript and CSS, package
data, no build step, no CDN).
"""

from __future__ import annotations

from .server import STATIC_DIR, DesignServer, create_app
from .session import DesignSession, check_text, export_text

__all__ = [
           "STATIC_DIR",
           "DesignServer",
           "DesignSession",
           "check_text",
           "create_app",
           "export_text",
]
