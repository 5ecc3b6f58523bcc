"""The opened file's secrets: the page sees them masked, a download puts them back.

The keys ``validate --json`` masks (:data:`~layoutkit.request.dump.SECRET_KEYS`:
``accessKey``, ``secretKey``, ``token``, ``secret``) never reach the page with their values:
:func:`masked_text` replaces each value by ``"***"`` and keeps the rest of the text byte for
byte (duplicate keys, ``15.0``: what validate judges), and :func:`restored` puts the real
values back, on the server, where the page's document still carries the mask at the same
JSON path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..request.dump import MASK, SECRET_KEYS, masked

__all__ = ["JsonPath", "masked_text", "restored", "secrets_of"]

#: A JSON path as keys and indices, e.g. ``("clientRequest", "storageConfig", "secretKey")``.
JsonPath = tuple[str | int, ...]

_SECRET_VALUE = re.compile(
    r'("(?:' + "|".join(re.escape(k) for k in sorted(SECRET_KEYS)) + r')"\s*:\s*)'
    r'"(?:[^"\\]|\\.)*"')


def secrets_of(value: Any, at: JsonPath = ()) -> dict[JsonPath, str]:
    """Every string under a secret key, by JSON path.

    Examples
    --------
    >>> secrets_of({"a": [{"secretKey": "s"}], "token": 5, "accessKey": "k"})
    {('a', 0, 'secretKey'): 's', ('accessKey',): 'k'}
    """
    found: dict[JsonPath, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS and isinstance(item, str):
                found[(*at, key)] = item
            else:
                found.update(secrets_of(item, (*at, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.update(secrets_of(item, (*at, i)))
    return found


def masked_text(text: str) -> tuple[str, dict[JsonPath, str]]:
    r"""Mask every secret value of a text; return the text and the secrets by JSON path.

    The rest of the text is kept as it is; when the text cannot be masked in place (a key
    written with escapes, ...) it is written again from the decoded document.  A text
    that is not JSON is masked in place (best effort) and gives no secrets to restore.

    Examples
    --------
    >>> text, secrets = masked_text('{"storageConfig": {"secretKey": "s3\\"x",  "bucket": 1.0}}')
    >>> print(text)
    {"storageConfig": {"secretKey": "***",  "bucket": 1.0}}
    >>> secrets
    {('storageConfig', 'secretKey'): 's3"x'}
    """
    quick = _SECRET_VALUE.sub(lambda m: m.group(1) + json.dumps(MASK), text)
    try:
        doc = json.loads(text)
    except ValueError:
        return quick, {}
    secrets = secrets_of(doc)
    try:
        same = json.loads(quick) == masked(doc)
    except ValueError:
        same = False
    if not same:
        quick = json.dumps(masked(doc), indent=2, ensure_ascii=False)
    return quick, secrets


def restored(value: Any, secrets: dict[JsonPath, str], at: JsonPath = ()) -> Any:
    """Return a copy of ``value`` with the masked secrets put back.

    Each ``"***"`` under a secret key is replaced by the secret found at the same JSON path
    (kept as ``"***"`` where none was).

    Examples
    --------
    >>> restored({"s": {"secretKey": "***", "accessKey": "new"}}, {("s", "secretKey"): "real"})
    {'s': {'secretKey': 'real', 'accessKey': 'new'}}
    """
    if isinstance(value, dict):
        return {k: (secrets.get((*at, k), v) if k in SECRET_KEYS and v == MASK
                    else restored(v, secrets, (*at, k))) for k, v in value.items()}
    if isinstance(value, list):
        return [restored(v, secrets, (*at, i)) for i, v in enumerate(value)]
    return value
