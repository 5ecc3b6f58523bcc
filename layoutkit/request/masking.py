"""Secrets in request bodies: which keys hold one, and how a problem shows such a value.

The value of ``secretKey``, ``accessKey``, ``token``, ``secret`` or ``stsToken`` is never
printed, whatever its type: a problem says what kind of JSON value it got (``an array``,
``a number``, ...) instead (:func:`hide_secret`), and ``to_json`` masks it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MASK", "SECRET_KEYS", "hide_secret", "is_secret_path", "json_kind"]

MASK = "***"
SECRET_KEYS = frozenset({"secretKey", "accessKey", "token", "secret", "stsToken"})

_PARTS = re.compile(r"[.\[\]]")


def is_secret_path(path: str) -> bool:
    """Whether the JSON path goes through a secret key.

    Examples
    --------
    >>> is_secret_path("clientRequest.storageConfig.secretKey"), is_secret_path("token")
    (True, True)
    >>> is_secret_path("clientRequest.storageConfig.bucket")
    False
    """
    return any(part in SECRET_KEYS for part in _PARTS.split(path))


_JSON_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),  # before int: a bool is an int
    ((int, float), "a number"),
    (str, "a string"),
    (type(None), "null"),
    ((list, tuple), "an array"),
    (dict, "an object"),
)
"""Python types of decoded JSON and their names in messages, the first match wins."""


def json_kind(value: Any) -> str:
    """Name the kind of a JSON value, as messages do (never the value itself).

    Examples
    --------
    >>> [json_kind(v) for v in (["k"], {"k": 1}, 7, 1.5, True, None, "k")]
    ['an array', 'an object', 'a number', 'a number', 'a boolean', 'null', 'a string']
    """
    return next((kind for types, kind in _JSON_KINDS if isinstance(value, types)), "a value")


def hide_secret(path: str, rule: str, value: Any, hint: str | None, *,
                missing: Any) -> tuple[str, Any, str | None]:
    """Return ``(rule, value, hint)`` of a problem at ``path``, hiding the value of a secret.

    For a secret the rule says the kind of value got, and the value (``missing``: not shown)
    and the hint (it may quote the value) are dropped; anything else is returned as given.

    Examples
    --------
    >>> hide_secret("storageConfig.secretKey", "must be a string", ["s3cr3t"], None,
    ...             missing=None)
    ("must be a string (got an array; a secret's value is never shown)", None, None)
    """
    if value is missing or not is_secret_path(path):
        return rule, value, hint
    return f"{rule} (got {json_kind(value)}; a secret's value is never shown)", missing, None
