"""S3-compatible storage: upload a recording the way the cloud stores it, and read one back.

``layoutkit mix SCENARIO -o DIR --upload s3://bucket[/prefix]`` writes its files under ``DIR``
and then puts each of them under ``prefix/<its path relative to DIR>`` in the bucket, so the
keys match what Agora Cloud Recording would have written under ``fileNamePrefix``.
``compare`` reads an ``s3://`` recording back with :func:`download_tree`.

boto3 is imported lazily (inside the functions), so ``import layoutkit`` stays light and boto3
is only needed by the commands that talk to S3.

Where the settings come from (first found wins)
-----------------------------------------------
* endpoint: the ``endpoint_url`` argument, then ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``
  (unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true``), then ``extensionParams.endpoint`` of
  the ``storageConfig`` (only :func:`uploader_from_storage_config`), else Amazon S3 itself.
  A custom endpoint is addressed path-style (``http://host:port/bucket/key``), which every
  S3-compatible service (MinIO, Ceph, moto, ...) understands.
* credentials: the ``access_key`` / ``secret_key`` arguments, then boto3's own chain
  (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``~/.aws``, ...).
  :func:`uploader_from_storage_config` slots ``accessKey`` / ``secretKey`` in between: they are
  used only when the environment names no credentials, and never when they are placeholders
  such as the samples' ``AKIDEXAMPLE``.
* region: the ``region`` argument, then ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / ``~/.aws``.
  ``storageConfig.region`` is a vendor-specific integer and is not translated.

Every failure of the storage service (missing bucket, refused connection, no credentials, ...)
is raised as :class:`~layoutkit.errors.StorageError` with a one-line message naming the bucket,
the key and the cause. Local files are only read, never moved, modified or deleted.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from ..errors import StorageError, ParameterError

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_RETRIES",
    "MULTIPART_THRESHOLD",
    "S3Settings",
    "S3Uploader",
    "content_type_for",
    "download_tree",
    "list_keys",
    "parse_s3_url",
    "uploader_from_storage_config",
]

#: ``Content-Type`` of the files a recording is made of (by lower-case suffix).
CONTENT_TYPES: Mapping[str, str] = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".json": "application/json",
}

#: Retries of one request after a transient error (botocore "standard" mode, exponential backoff).
DEFAULT_RETRIES = 5
#: Seconds to wait for a TCP connection, and for a response once connected.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
#: Files at least this big are uploaded in parts of this size (S3 multipart upload).
MULTIPART_THRESHOLD = 8 * 1024 * 1024
#: Parts uploaded at the same time by one multipart upload.
MAX_CONCURRENCY = 4

_URL_HELP = "expected s3://bucket or s3://bucket/prefix"
_BUCKET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")
_PLACEHOLDER_RE = re.compile(r"example|^x+$|^your|^[<{\[].*[>}\]]$", re.IGNORECASE)


# --- URLs and keys ------------------------------------------------------------------------
def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket[/prefix]`` into the bucket and the key prefix.

    Parameters
    ----------
    url : str
        An S3 URL. The scheme is case-insensitive; slashes around the prefix are dropped.

    Returns
    -------
    tuple of (str, str)
        The bucket name and the prefix (``""`` when absent), e.g.
        ``parse_s3_url("s3://rec/a/b/") == ("rec", "a/b")``.

    Raises
    ------
    ParameterError
        When ``url`` is not of that form, names no or an impossible bucket, or has an empty,
        ``.`` or ``..`` part in the prefix.
    """
    if not isinstance(url, str) or url[:5].lower() != "s3://":
        raise ParameterError(f"{url!r}: not an S3 URL; {_URL_HELP}")
    bucket, _, prefix = url[5:].partition("/")
    if not bucket:
        raise ParameterError(f"{url!r}: no bucket name; {_URL_HELP}")
    if not _BUCKET_RE.fullmatch(bucket):
        raise ParameterError(f"{url!r}: {bucket!r} is not a bucket name "
                         "(3-255 characters: letters, digits, '.', '-', '_')")
    prefix = prefix.strip("/")
    if prefix and _bad_parts(prefix):
        raise ParameterError(f"{url!r}: the prefix has an empty, '.' or '..' part; {_URL_HELP}")
    return bucket, prefix


def _bad_parts(path: str) -> bool:
    """Tell whether a ``/``-separated path has an empty, ``.`` or ``..`` part."""
    return any(part in ("", ".", "..") for part in path.split("/"))


def _relative_key(key: str | PurePath) -> str:
    """Check and normalise a key relative to a root (POSIX separators, no ``..``)."""
    text = key.as_posix() if isinstance(key, PurePath) else str(key)
    if not text or text.startswith("/") or "\\" in text or _bad_parts(text):
        raise StorageError(f"{text!r}: not a relative file path (parts separated by '/', "
                           "no '.' or '..')")
    return text


def _join(prefix: str, key: str) -> str:
    """Return ``prefix/key``, or ``key`` when the prefix is empty."""
    return f"{prefix}/{key}" if prefix else key


def content_type_for(name: str | PurePath) -> str:
    """Return the ``Content-Type`` to store a file under, from its suffix.

    The recording's own types come from :data:`CONTENT_TYPES` (``mimetypes`` maps ``.ts`` to
    Qt Linguist on some systems); anything else is guessed, else ``application/octet-stream``.
    """
    suffix = PurePosixPath(str(name)).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(f"x{suffix}")
    return guessed or "application/octet-stream"


# --- settings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class S3Settings:
    """How to reach one S3-compatible service: endpoint, credentials, region, retries, timeouts.

    Every field is optional; the defaults are described in the module docstring.  The
    credentials are left out of ``repr``, so a settings object can be printed or logged.

    Parameters
    ----------
    endpoint_url : str, optional
        Service URL, e.g. ``http://127.0.0.1:9000``; default: ``AWS_ENDPOINT_URL_S3`` or
        ``AWS_ENDPOINT_URL``, else Amazon S3.
    access_key, secret_key : str, optional
        Credentials (both or neither); default: boto3's chain (``AWS_ACCESS_KEY_ID``, ...).
    region : str, optional
        Region name; default: ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / ``~/.aws/config``.
    retries : int, default 5
        Retries of each request after a transient error (throttling, 5xx, dropped
        connection), with exponential backoff; 0 disables them.
    connect_timeout, read_timeout : float
        Seconds before a connection attempt, or a wait for a response, is given up.

    Examples
    --------
    >>> S3Settings(endpoint_url="http://127.0.0.1:9000", access_key="k", secret_key="s")
    S3Settings(endpoint_url='http://127.0.0.1:9000', region=None, retries=5, \
connect_timeout=5.0, read_timeout=30.0)
    """

    endpoint_url: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    region: str | None = None
    retries: int = DEFAULT_RETRIES
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT


def _env_endpoint(environ: Mapping[str, str]) -> str | None:
    """Return the endpoint the AWS environment variables name for S3, if any."""
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    return environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def _normalise_endpoint(endpoint: str | None) -> str | None:
    """Add ``https://`` to a bare ``host[:port]`` endpoint (as ``extensionParams`` gives it)."""
    if not endpoint:
        return None
    endpoint = endpoint.strip()
    return endpoint if "://" in endpoint else f"https://{endpoint}"


def _is_placeholder(value: str) -> bool:
    """Tell whether ``value`` is a sample credential such as ``AKIDEXAMPLE`` or ``<your key>``."""
    return not value.strip() or bool(_PLACEHOLDER_RE.search(value.strip()))


def _env_has_credentials(environ: Mapping[str, str]) -> bool:
    """Tell whether the environment names credentials boto3 will use (keys or a profile)."""
    has_keys = environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY")
    return bool(has_keys or environ.get("AWS_PROFILE"))


@functools.cache
def _data_loader() -> Any:
    """Return botocore's loader of service models, shared by every client this process makes.

    A client then takes ~20 ms instead of ~150 ms (the S3 model is read and parsed once).
    """
    import botocore.loaders

    return botocore.loaders.create_loader()


def _make_client(settings: S3Settings) -> tuple[Any, str | None]:
    """Make a boto3 S3 client and return it with the endpoint it talks to (None: Amazon S3).

    Raises ParameterError for one credential without the other or negative retries.
    """
    import boto3
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    if bool(settings.access_key) != bool(settings.secret_key):
        raise ParameterError("S3 credentials need both an access key and a secret key")
    if settings.retries < 0:
        raise ParameterError(f"S3 retries must be 0 or more (got {settings.retries})")
    endpoint = _normalise_endpoint(settings.endpoint_url or _env_endpoint(os.environ))
    options: dict[str, Any] = {
        "retries": {"max_attempts": settings.retries, "mode": "standard"},
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
    }
    if endpoint:
        options["s3"] = {"addressing_style": "path"}
    try:
        core = botocore.session.get_session()  # a fresh one: the credential chain is re-read
        core.register_component("data_loader", _data_loader())
        session = boto3.session.Session(botocore_session=core,
                                        aws_access_key_id=settings.access_key or None,
                                        aws_secret_access_key=settings.secret_key or None,
                                        region_name=settings.region or None)
        client = session.client("s3", endpoint_url=endpoint, config=Config(**options))
    except (BotoCoreError, ValueError) as exc:
        where = endpoint or "Amazon S3"
        raise StorageError(f"{where}: cannot set up the S3 client ({_cause(exc)})") from None
    return client, endpoint


# --- errors -------------------------------------------------------------------------------
def _service_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types that mean "the storage service or the transfer failed"."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError
    from s3transfer.exceptions import RetriesExceededError

    return (BotoCoreError, ClientError, Boto3Error, RetriesExceededError, OSError)


def _client_error_of(exc: BaseException) -> Any:
    """Return the botocore ``ClientError`` behind ``exc`` (boto3 wraps it), or None."""
    from botocore.exceptions import ClientError

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None or isinstance(seen, ClientError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _cause(exc: BaseException) -> str:
    """Say in one line why a storage call failed, e.g. ``NoSuchBucket: The ... not exist``."""
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    client_error = _client_error_of(exc)
    if client_error is not None:
        error = client_error.response.get("Error", {})
        code = str(error.get("Code") or "error")
        message = str(error.get("Message") or "").strip()
        text = f"{code}: {message}" if message and message != code else code
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{type(exc).__name__}: {exc.strerror}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        text += "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    return " ".join(text.split())


def _failure(bucket: str, key: str, action: str, exc: BaseException) -> StorageError:
    """Make the :class:`StorageError` for a failed ``action`` on ``s3://bucket/key``."""
    return StorageError(f"s3://{bucket}/{key}: {action} failed ({_cause(exc)})")


# --- uploading ----------------------------------------------------------------------------
class S3Uploader:
    """Put local files into one bucket of an S3-compatible service, under one key prefix.

    Parameters
    ----------
    bucket : str
        Bucket to write to (it must exist).
    prefix : str, optional
        Key prefix; a file with key ``k`` goes to ``prefix/k``. Slashes around it are dropped.
    settings : S3Settings, optional
        Endpoint, credentials, region, retries and timeouts (default: all defaults).
    multipart_threshold : int
        Files of at least this many bytes are sent as a multipart upload in parts of this size.

    Raises
    ------
    ParameterError
        When only one of the two credentials is given, or ``retries`` is negative.
    StorageError
        When the client cannot be set up (e.g. an unusable endpoint URL or unknown profile).
    """

    def __init__(self, bucket: str, *, prefix: str = "", settings: S3Settings | None = None,
                 multipart_threshold: int = MULTIPART_THRESHOLD) -> None:
        from boto3.s3.transfer import TransferConfig

        if not bucket:
            raise ParameterError("no S3 bucket given")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client, self.endpoint_url = _make_client(settings or S3Settings())
        self._transfer = TransferConfig(multipart_threshold=multipart_threshold,
                                        multipart_chunksize=multipart_threshold,
                                        max_concurrency=MAX_CONCURRENCY)

    def __repr__(self) -> str:
        """Show the bucket, prefix and endpoint (never the credentials)."""
        where = self.endpoint_url or "Amazon S3"
        return f"S3Uploader({self.url()!r}, endpoint={where!r})"

    def key_for(self, key: str | PurePath) -> str:
        """Return the full object key of a key relative to the prefix."""
        return _join(self.prefix, _relative_key(key))

    def url(self, key: str = "") -> str:
        """Return ``s3://bucket/prefix/key`` of a key relative to the prefix (or of the prefix)."""
        return f"s3://{self.bucket}/{_join(self.prefix, key) if key else self.prefix}"

    def upload_file(self, local_path: str | os.PathLike[str], key: str | PurePath) -> str:
        """Upload one file to ``prefix/key`` (multipart when big) and return that full key.

        Parameters
        ----------
        local_path : path-like
            The file to send; it is only read.
        key : str
            Its key relative to the prefix, ``/``-separated.

        Returns
        -------
        str
            The full object key written.

        Raises
        ------
        StorageError
            When the key is not a relative path, the file cannot be read, or the service
            refuses or cannot be reached (after the retries).
        """
        full_key = self.key_for(key)
        source = Path(local_path)
        if not source.is_file():
            raise StorageError(f"{source}: no such file to upload to {self.url(str(key))}")
        extra = {"ContentType": content_type_for(full_key)}
        try:
            self.client.upload_file(str(source), self.bucket, full_key,
                                    ExtraArgs=extra, Config=self._transfer)
        except _service_errors() as exc:
            raise _failure(self.bucket, full_key, "upload", exc) from None
        return full_key

    def upload_tree(self, local_root: str | os.PathLike[str],
                    keys: Sequence[str | PurePath]) -> list[str]:
        """Upload ``local_root/key`` to ``prefix/key`` for each key, in the order given.

        The order matters: the recorder passes the segments first and the playlist last, so
        a reader of the bucket never sees a playlist that names a missing segment. Every key
        and local file is checked before the first upload starts.

        Parameters
        ----------
        local_root : path-like
            Folder the keys are relative to.
        keys : sequence of str
            ``/``-separated paths relative to ``local_root``.

        Returns
        -------
        list of str
            The full object keys written, in upload order.

        Raises
        ------
        StorageError
            As :meth:`upload_file`; a failure part-way says how many files were already sent.
        """
        root = Path(local_root)
        relative = [_relative_key(key) for key in keys]
        for key in relative:
            if not (root / key).is_file():
                raise StorageError(f"{root / key}: no such file to upload to {self.url(key)}")
        uploaded: list[str] = []
        for key in relative:
            try:
                uploaded.append(self.upload_file(root / key, key))
            except StorageError as exc:
                if not uploaded:
                    raise
                note = f"; {len(uploaded)} of {len(relative)} files were uploaded before it"
                raise StorageError(f"{exc}{note}") from None
        return uploaded


def uploader_from_storage_config(config: Any, *, bucket_override: str | None = None,
                                 prefix: str = "", settings: S3Settings | None = None,
                                 environ: Mapping[str, str] | None = None) -> S3Uploader:
    """Make an :class:`S3Uploader` for a request's ``storageConfig``.

    Precedence: what the caller gives explicitly (the ``s3://bucket`` of an upload URL as
    ``bucket_override``, or ``settings``) wins, then the AWS environment variables, and
    ``storageConfig`` only fills in what is still missing:

    * bucket: ``bucket_override``, else ``storageConfig.bucket``;
    * endpoint: ``settings.endpoint_url``, else ``AWS_ENDPOINT_URL_S3`` /
      ``AWS_ENDPOINT_URL``, else ``extensionParams.endpoint`` (``https://`` is added to a
      bare host);
    * credentials: ``settings.access_key`` / ``secret_key``, else the environment's
      (``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY``, or ``AWS_PROFILE``), else
      ``accessKey`` / ``secretKey`` unless they are placeholders (``AKIDEXAMPLE``,
      ``SECRETEXAMPLE``, ``xxxx``, ``<your key>``, ...), else boto3's remaining chain
      (``~/.aws/credentials``, instance roles);
    * region: ``settings.region``, else boto3's (``storageConfig.region`` is a vendor enum,
      not used).

    Parameters
    ----------
    config : StorageConfig
        The parsed ``storageConfig`` (:class:`layoutkit.request.model.StorageConfig`).
    bucket_override, prefix : str, optional
        Bucket and key prefix of an upload URL ``s3://bucket/prefix``.
    settings : S3Settings, optional
        The explicit settings; their retries and timeouts are used as given.
    environ : mapping, optional
        Environment to consult (default ``os.environ``); boto3 itself always reads
        ``os.environ``.

    Raises
    ------
    ParameterError
        When neither ``bucket_override`` nor ``storageConfig.bucket`` names a bucket.
    """
    env = os.environ if environ is None else environ
    bucket = bucket_override or config.bucket
    if not bucket:
        raise ParameterError("no bucket to upload to: give an s3://BUCKET URL or "
                         "storageConfig.bucket")
    given = settings or S3Settings()
    endpoint = (given.endpoint_url or _env_endpoint(env)
                or dict(config.extension_params).get("endpoint"))
    access_key, secret_key = given.access_key, given.secret_key
    if (not (access_key or secret_key) and not _env_has_credentials(env)
            and not (_is_placeholder(config.access_key) or _is_placeholder(config.secret_key))):
        access_key, secret_key = config.access_key, config.secret_key
    return S3Uploader(bucket, prefix=prefix,
                      settings=replace(given, endpoint_url=_normalise_endpoint(endpoint),
                                       access_key=access_key, secret_key=secret_key))


# --- reading back -------------------------------------------------------------------------
def _list(client: Any, bucket: str, prefix: str) -> list[str]:
    """List every key starting with ``prefix`` (raw S3 prefix semantics), in S3's order."""
    keys: list[str] = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            keys.extend(item["Key"] for item in page.get("Contents", ()))
    except _service_errors() as exc:
        raise _failure(bucket, prefix, "listing", exc) from None
    return keys


def list_keys(bucket: str, prefix: str = "", **client_kwargs: Any) -> list[str]:
    """List the keys of a bucket that start with ``prefix``.

    Parameters
    ----------
    bucket : str
        Bucket to list.
    prefix : str, optional
        Raw S3 prefix: ``"a/b"`` also matches ``a/bc``; end it with ``/`` for a folder.
    **client_kwargs
        The fields of :class:`S3Settings` (``endpoint_url``, ``access_key``, ``secret_key``,
        ``region``, ``retries``, ``connect_timeout``, ``read_timeout``).

    Returns
    -------
    list of str
        The full keys, sorted as S3 returns them (by UTF-8 bytes).

    Raises
    ------
    StorageError
        When the bucket cannot be listed.
    """
    client, _ = _make_client(S3Settings(**client_kwargs))
    return _list(client, bucket, prefix)


def _remote_files(client: Any, bucket: str, prefix: str) -> tuple[list[str], str]:
    """List the keys under ``prefix`` as a folder (or as one object) and their common root."""
    folder = f"{prefix}/" if prefix else ""
    keys = [k for k in _list(client, bucket, folder) if not k.endswith("/")]
    if not keys and prefix and prefix in _list(client, bucket, prefix):
        parent = prefix.rpartition("/")[0]
        return [prefix], f"{parent}/" if parent else ""
    return keys, folder


def _download_plan(bucket: str, keys: list[str], root: str,
                   target: Path) -> list[tuple[str, Path]]:
    """Pair each key below ``root`` with its local path under ``target``.

    Refused as a whole when a key would land outside ``target`` or where another key needs
    a folder.
    """
    plan = []
    for key in keys:
        try:
            plan.append((key, target / _relative_key(key[len(root):])))
        except StorageError:
            raise StorageError(f"s3://{bucket}/{key}: the key has an empty, '.' or '..' part "
                               f"or a backslash, so it would not land inside {target}; "
                               "nothing was downloaded") from None
    by_path = {dest.relative_to(target).as_posix(): key for key, dest in plan}
    for key, dest in plan:
        rel = dest.relative_to(target).as_posix()
        for parent in PurePosixPath(rel).parents:
            other = by_path.get(parent.as_posix())
            if other is not None:
                raise StorageError(f"s3://{bucket}/{other} is an object and also a folder of "
                                   f"s3://{bucket}/{key}; both cannot be downloaded as files "
                                   "(nothing was downloaded)")
    return plan


def download_tree(url: str, local_dir: str | os.PathLike[str], *, overwrite: bool = False,
                  **client_kwargs: Any) -> list[Path]:
    """Download every object under ``s3://bucket/prefix`` into ``local_dir``.

    ``s3://b/rec/x.ts`` lands at ``local_dir/x.ts`` for the URL ``s3://b/rec``, i.e. the
    paths below ``local_dir`` are the keys relative to the prefix. When no key lies under
    ``prefix/`` but ``prefix`` is itself an object (``s3://b/rec/x.m3u8``), that one object
    is downloaded. Every destination is checked before the first download starts; each file
    appears under its name only once complete.

    Parameters
    ----------
    url : str
        ``s3://bucket[/prefix]``.
    local_dir : path-like
        Folder to write into (created when missing).
    overwrite : bool, default False
        Replace files that already exist instead of refusing.
    **client_kwargs
        As for :func:`list_keys`.

    Returns
    -------
    list of Path
        The files written, in key order.

    Raises
    ------
    ParameterError
        When ``url`` is not an S3 URL.
    StorageError
        When nothing is found, a key would land outside ``local_dir`` (a ``..``, ``.`` or
        empty part, a backslash), a key is both an object and the folder of another
        (``p/x`` and ``p/x/y``), a file exists and ``overwrite`` is false, or the service
        fails.
    """
    bucket, prefix = parse_s3_url(url)
    client, _ = _make_client(S3Settings(**client_kwargs))
    keys, root = _remote_files(client, bucket, prefix)
    if not keys:
        raise StorageError(f"s3://{bucket}/{prefix}: no objects found")
    target = Path(local_dir)
    plan = _download_plan(bucket, keys, root, target)
    for key, dest in plan:
        if dest.exists() and not overwrite:
            raise StorageError(f"{dest}: already exists; not overwritten by s3://{bucket}/{key}")
    written: list[Path] = []
    for key, dest in plan:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, key, str(dest))
        except _service_errors() as exc:
            raise _failure(bucket, key, "download", exc) from None
        written.append(dest)
    return written
