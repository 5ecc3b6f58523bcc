"""A local Cloud Recording service, for testing an integration offline.

It gives the cloud's REST API for mix mode, its files (recorded in real time from the
scenario's channel, uploaded to S3-compatible storage as they are finished) and its
notification callbacks.

``channel`` (pure: the channel as the calls change it) -> ``live`` (one recording in real
time) -> ``uploads`` (files to the bucket as they are finished), ``notify`` (signed
callbacks) -> ``session`` (one started recording and its answers) -> ``state`` (resources,
the cloud's error codes) -> ``routes`` (the six REST paths) -> ``server``
(:class:`ServiceServer`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import ServeOptions, Service, ServiceServer

__all__ = ["ServeOptions", "Service", "ServiceServer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
