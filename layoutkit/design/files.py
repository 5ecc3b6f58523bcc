"""Which files the designer page may make the server read.

The page names images (``backgroundImage``, ``defaultUserBackgroundImage``, ``image_url``)
and, in a scenario, video and audio sources (``users[i].source`` / ``audio``).  The server
reads only files in the opened file's folder (or the current folder when none was opened)
and in its upload folder, and nothing from the network: any other path, a ``..`` escape or a
symbolic link out of those folders is refused before anything is opened or even looked up
(the answer is the same whether the path exists or not), and an http(s) image is not
fetched (a note says so) unless the server was started with network reads allowed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import format_value
from ..io.images import resolve_location
from ..io.limited import resolve_inside
from ..request.checks import join_path

__all__ = ["IMAGE_KEYS", "FileRoots", "Refusal", "named_locations"]

#: Keys whose string value is an image location, wherever they are in a body or scenario.
IMAGE_KEYS = frozenset({"backgroundImage", "defaultUserBackgroundImage", "image_url"})
#: Scenario user keys naming a file, with the words that are not files.
_USER_FILES = {"source": ("testsrc", "unknown"), "audio": ("tone", "silence", "unknown")}


def named_locations(doc: Any, *, scenario: bool, at: str = "") -> Iterator[tuple[str, str, str]]:
    """``(json path, "image" | "source", location)`` of every file or URL the document names.

    Examples
    --------
    >>> doc = {"users": [{"uid": "1", "source": "a.mp4"}, {"uid": "2", "source": "#FF0000"}],
    ...        "start": {"backgroundImage": "b.jpg"}}
    >>> list(named_locations(doc, scenario=True))
    [('start.backgroundImage', 'image', 'b.jpg'), ('users[0].source', 'source', 'a.mp4')]
    """
    yield from _images(doc, at)
    users = doc.get("users") if scenario and isinstance(doc, dict) else None
    for i, user in enumerate(users if isinstance(users, list) else []):
        if not isinstance(user, dict):
            continue
        for key, words in _USER_FILES.items():
            value = user.get(key)
            if isinstance(value, str) and value and value not in words \
                    and not value.startswith("#"):
                yield join_path(f"{join_path(at, 'users')}[{i}]", key), "source", value


def _images(value: Any, at: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            path = join_path(at, key)
            if key in IMAGE_KEYS and isinstance(item, str) and item:
                yield path, "image", item
            else:
                yield from _images(item, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _images(item, f"{at}[{i}]")


@dataclass(frozen=True)
class Refusal:
    """A location the designer does not read.

    ``severity`` is ``"error"`` (refused) or ``"warning"`` (an image drawn without it).
    """

    path: str
    rule: str
    value: str
    severity: str = "error"

    def __str__(self) -> str:
        """Return ``[warning: ]PATH: RULE (got VALUE)``."""
        head = "warning: " if self.severity == "warning" else ""
        return f"{head}{self.path or '<root>'}: {self.rule} (got {format_value(self.value)})"


def _is_url(location: str) -> bool:
    return "://" in location and not location.startswith("file:")


def _within(root: Path, target: str) -> bool:
    """Tell whether ``target`` (an absolute path as written) lies in ``root``.

    Its links are followed, each looked up only inside ``root``
    (:func:`~layoutkit.io.limited.resolve_inside`, the rule compare follows for a recording's
    files): a ``..`` above ``root`` or a link out of it is outside, and nothing outside is
    looked at.
    """
    top = os.path.abspath(root).rstrip("/") + "/"
    if not target.startswith(top):
        return False
    return not resolve_inside(os.path.realpath(top), target[len(top):]).outside


@dataclass(frozen=True)
class FileRoots:
    """The folders the page may name files in, and whether http(s) images are fetched.

    Parameters
    ----------
    base_dir : Path
        The opened file's folder (relative paths resolve against it).
    upload_dir : Path
        Where the page's uploads are kept.
    allow_network : bool
        Fetch http(s) images (``layoutkit design --allow-network``).
    """

    base_dir: Path
    upload_dir: Path
    allow_network: bool = False

    def inside(self, location: str) -> bool:
        """Tell whether a local path or ``file://`` URL is in one of the folders.

        Symbolic links are followed inside the folders only; nothing is opened.

        Examples
        --------
        >>> roots = FileRoots(Path("/srv/lk"), Path("/tmp/up"))
        >>> roots.inside("a/b.jpg"), roots.inside("../x.jpg"), roots.inside("/etc/passwd")
        (True, False, False)
        """
        target = resolve_location(location, base_dir=Path(os.path.abspath(self.base_dir)))
        return any(_within(root, target) for root in (self.base_dir, self.upload_dir))

    def refusal(self, path: str, kind: str, location: str) -> Refusal | None:
        """Why the page may not have the server read ``location`` (None: it may)."""
        if _is_url(location):
            if kind == "image" and location.startswith(("http://", "https://")):
                if self.allow_network:
                    return None
                return Refusal(path, "not fetched: the designer reads nothing from the network "
                                     "(the cloud downloads it); drawn without it", location,
                               "warning")
            return Refusal(path, f"a {kind} is a local file for the designer (it opens no URL)",
                           location)
        if self.inside(location):
            return None
        return Refusal(path, f"the designer reads only files in {self.base_dir} (the opened "
                             f"file's folder) or in its upload folder", location)

    def refusals(self, doc: Any, *, scenario: bool) -> list[Refusal]:
        """Every location of ``doc`` the server will not read, in document order."""
        found = (self.refusal(*named) for named in named_locations(doc, scenario=scenario))
        return [r for r in found if r is not None]
