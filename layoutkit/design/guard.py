"""Who may talk to the designer server: its own page, on its own address, and nothing else.

Three rules, checked before any route runs (:meth:`PageGuard.refusal`):

* **Host**: only ``127.0.0.1:PORT`` and ``localhost:PORT``.  A web page whose name is
  re-pointed at 127.0.0.1 (DNS rebinding) sends its own name and is refused, so it never
  becomes same-origin with the page.
* **Origin**: a request that changes something (any method but GET / HEAD / OPTIONS) from
  another origin is refused, and so is any API call a browser marks ``Sec-Fetch-Site:
  cross-site`` or ``same-site``.
* **Token**: every ``/api/`` and ``/picture/`` request carries the page's token (a random
  value made when the server starts and written into the page it serves), in the
  ``X-Layoutkit-Token`` header, or the ``token`` query parameter of a GET, or the ``token``
  field of the download form; compared in constant time.  Another page cannot read the
  designer's page, so it cannot know the token.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

__all__ = ["TOKEN_HEADER", "PageGuard"]

TOKEN_HEADER = "X-Layoutkit-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_GUARDED_PREFIXES = ("/api/", "/picture/")


@dataclass(frozen=True)
class PageGuard:
    """The page's token and the addresses the server answers on.

    Parameters
    ----------
    port : int or None
        The port the server listens on (None: not bound yet, e.g. Flask's test client,
        whose requests name ``localhost``).
    token : str
        The page's token (default: 32 random bytes, URL-safe).
    """

    port: int | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def hosts(self) -> frozenset[str]:
        """The ``Host`` values accepted.

        Examples
        --------
        >>> sorted(PageGuard(8765, "t").hosts)
        ['127.0.0.1:8765', 'localhost:8765']
        >>> sorted(PageGuard(80, "t").hosts)
        ['127.0.0.1', '127.0.0.1:80', 'localhost', 'localhost:80']
        """
        names = ("127.0.0.1", "localhost")
        if self.port is None:
            return frozenset(names)
        bare = names if self.port == 80 else ()
        return frozenset({*(f"{n}:{self.port}" for n in names), *bare})

    @property
    def origins(self) -> frozenset[str]:
        """The ``Origin`` values accepted (the page's own)."""
        return frozenset(f"http://{host}" for host in self.hosts)

    def host_refusal(self, host: str | None) -> str | None:
        """Why a request sent to ``host`` is refused (None: it is not).

        Examples
        --------
        >>> print(PageGuard(8765, "t").host_refusal("attacker.example:8765"))
        ... # doctest: +NORMALIZE_WHITESPACE
        Host attacker.example:8765 refused: the designer answers only requests addressed to
        127.0.0.1:8765 or localhost:8765 (a page under another name pointed at this machine is
        not its page)
        >>> PageGuard(8765, "t").host_refusal("localhost:8765") is None
        True
        """
        if (host or "").lower() in self.hosts:
            return None
        wanted = " or ".join(sorted(h for h in self.hosts if ":" in h) or sorted(self.hosts))
        return (f"Host {host or '(none)'} refused: the designer answers only requests "
                f"addressed to {wanted} (a page under another name pointed at this "
                "machine is not its page)")

    def origin_refusal(self, method: str, origin: str | None,
                       fetch_site: str | None) -> str | None:
        """Why a request from ``origin`` is refused (None: it is not)."""
        if fetch_site in ("cross-site", "same-site"):
            return (f"a {fetch_site} request refused: only the designer's own page may call "
                    "it")
        if method in _SAFE_METHODS or origin is None:
            return None
        if origin.lower() in self.origins:
            return None
        return (f"Origin {origin} refused: the designer accepts changes only from its own "
                f"page ({' or '.join(sorted(self.origins))})")

    def token_refusal(self, sent: str | None) -> str | None:
        """Why a request carrying ``sent`` as its token is refused (None: it is not)."""
        if sent is not None and hmac.compare_digest(sent.encode("utf-8", "replace"),
                                                    self.token.encode("utf-8")):
            return None
        what = "without" if not sent else "with a wrong"
        return (f"a request {what} {TOKEN_HEADER} refused: only the designer's own page "
                "may call it (reload the page if the server was restarted)")

    def refusal(self, *, method: str, path: str, host: str | None, origin: str | None,
                fetch_site: str | None, sent_token: str | None) -> str | None:
        """Return the first rule a request breaks (None: it is served)."""
        problem = self.host_refusal(host)
        guarded = path.startswith(_GUARDED_PREFIXES)
        if problem is None and guarded:
            problem = self.origin_refusal(method, origin, fetch_site)
        if problem is None and guarded:
            problem = self.token_refusal(sent_token)
        return problem
