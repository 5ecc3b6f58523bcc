"""layoutkit.io.s3 against a real S3-protocol server (moto) on 127.0.0.1.

The module fixture starts ``moto.server.ThreadedMotoServer`` on a free loopback port: the
uploader speaks real S3 over HTTP to it, nothing is mocked in-process. No other host is
contacted (proxies, the EC2 metadata service and ``~/.aws`` are switched off).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest

from layoutkit.errors import StorageError, ParameterError
from layoutkit.request.model import StorageConfig
from layoutkit.io.s3 import (  # boto3 is imported lazily: the skips below still work
    S3Settings,
    S3Uploader,
    content_type_for,
    download_tree,
    list_keys,
    parse_s3_url,
    uploader_from_storage_config,
)

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

PREFIX_DIR = "layoutkit/demo"
BASE = "0123456789abcdef0123456789abcdef_demo"
SEGMENTS = [f"{PREFIX_DIR}/{BASE}_2026010100000{i}000.ts" for i in range(3)]
MP4 = f"{PREFIX_DIR}/{BASE}_0.mp4"
PLAYLIST = f"{PREFIX_DIR}/{BASE}.m3u8"
RESPONSE = "serverResponse.json"
#: The recorder's order: segments, MP4, playlist last; then the stop response.
ORDER = [*SEGMENTS, MP4, PLAYLIST, RESPONSE]



@pytest.fixture
def tree(tmp_path):
    """Make a fake recording folder; return (root, {key: bytes})."""
    root = tmp_path / "out"
    contents = {key: f"segment {i}\n".encode() * 50 for i, key in enumerate(SEGMENTS)}
    contents[MP4] = b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096)
    contents[PLAYLIST] = ("#EXTM3U\n#EXT-X-VERSION:3\n" + "".join(
        f"#EXTINF:2.0,\n{Path(s).name}\n" for s in SEGMENTS) + "#EXT-X-ENDLIST\n").encode()
    contents[RESPONSE] = b'{"fileListMode": "json", "fileList": [], "uploadingStatus": "uploaded"}'
    for key, data in contents.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root, contents


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes (to prove local files were left alone)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _closed_port() -> int:
    """Return a loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_one_line(exc: BaseException) -> None:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text


# --- pure helpers -------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "expected"), [
    ("s3://rec", ("rec", "")),
    ("s3://rec/", ("rec", "")),
    ("s3://rec/a/b", ("rec", "a/b")),
    ("s3://rec/a/b/", ("rec", "a/b")),
    ("S3://my.bucket-1/x", ("my.bucket-1", "x")),
])
def test_parse_s3_url_accepts(url, expected):
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", [
    "", "rec", "/tmp/rec", "http://rec/a", "s3:/rec", "s3://", "s3:///a", "s3://a/x",
    "s3://bad bucket/x", "s3://rec/a//b", "s3://rec/a/../b", "s3://rec/./b",
])
def test_parse_s3_url_rejects(url):
    with pytest.raises(ParameterError, match="s3://") as info:
        parse_s3_url(url)
    _assert_one_line(info.value)


def test_content_types():
    assert content_type_for("a/b.m3u8") == "application/vnd.apple.mpegurl"
    assert content_type_for("x.TS") == "video/mp2t"
    assert content_type_for("x_0.mp4") == "video/mp4"
    assert content_type_for("serverResponse.json") == "application/json"
    assert content_type_for("noext") == "application/octet-stream"


def test_import_does_not_load_boto3():
    code = ("import sys, layoutkit, layoutkit.io.s3; "
            "sys.exit('boto3' in sys.modules or 'botocore' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


# --- uploading ----------------------------------------------------------------------------
def test_upload_tree_keys_bytes_types_and_order(raw, bucket, tree):
    root, contents = tree
    before = _snapshot(root)
    uploader = S3Uploader(bucket, prefix="/runs/one/")  # endpoint + keys from AWS_* only
    sent: list[str] = []
    uploader.client.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: sent.append(params["Key"]))

    uploaded = uploader.upload_tree(root, ORDER)

    expected = [f"runs/one/{key}" for key in ORDER]
    assert uploaded == expected
    assert sent == expected
    assert list_keys(bucket, "runs/one/") == sorted(expected)
    for key, data in contents.items():
        obj = raw.get_object(Bucket=bucket, Key=f"runs/one/{key}")
        assert obj["Body"].read() == data, key
        assert obj["ContentType"] == content_type_for(key), key
    assert _snapshot(root) == before


def test_env_endpoint_is_honoured(s3_endpoint):
    assert S3Uploader("whatever").endpoint_url == s3_endpoint


def test_missing_bucket_is_a_storage_error(tree):
    root, _ = tree
    before = _snapshot(root)
    with pytest.raises(StorageError) as info:
        S3Uploader("lk-no-such-bucket", settings=S3Settings(retries=1)).upload_tree(root, ORDER)
    text = str(info.value)
    assert text.startswith(f"s3://lk-no-such-bucket/{SEGMENTS[0]}: upload failed (NoSuchBucket")
    assert isinstance(info.value, OSError)
    _assert_one_line(info.value)
    assert _snapshot(root) == before


def test_closed_endpoint_fails_fast(tree):
    root, _ = tree
    before = _snapshot(root)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    uploader = S3Uploader("rec", settings=S3Settings(endpoint_url=endpoint, retries=1,
                                                     connect_timeout=1, read_timeout=1))
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        uploader.upload_tree(root, ORDER)
    assert time.monotonic() - started < 10
    text = str(info.value)
    assert text.startswith(f"s3://rec/{SEGMENTS[0]}: upload failed (EndpointConnectionError")
    assert endpoint in text
    _assert_one_line(info.value)
    assert _snapshot(root) == before


def test_no_credentials(monkeypatch, bucket, tree):
    root, _ = tree
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StorageError, match=r"NoCredentialsError.*AWS_ACCESS_KEY_ID") as info:
        S3Uploader(bucket).upload_file(root / MP4, "x.mp4")
    _assert_one_line(info.value)


def test_missing_local_file_uploads_nothing(bucket, tree):
    root, _ = tree
    with pytest.raises(StorageError, match="no such file"):
        S3Uploader(bucket).upload_tree(root, [*SEGMENTS, "missing.ts", PLAYLIST])
    assert list_keys(bucket) == []


@pytest.mark.parametrize("key", ["../x.ts", "/abs.ts", "a//b.ts", "a/./b.ts", ""])
def test_bad_keys_are_refused(bucket, tree, key):
    root, _ = tree
    with pytest.raises(StorageError, match="not a relative file path"):
        S3Uploader(bucket).upload_tree(root, [key])


def test_large_file_goes_multipart(raw, bucket, tmp_path):
    data = os.urandom(16 * 1024 * 1024 + 4096)  # two whole 8 MiB parts and a small one
    path = tmp_path / "big_0.mp4"
    path.write_bytes(data)
    key = S3Uploader(bucket, prefix="big").upload_file(path, "big_0.mp4")
    head = raw.head_object(Bucket=bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # three 8 MiB parts
    assert head["ContentLength"] == len(data)
    got = download_tree(f"s3://{bucket}/big", tmp_path / "back")
    assert [p.name for p in got] == ["big_0.mp4"]
    assert hashlib.sha256(got[0].read_bytes()).digest() == hashlib.sha256(data).digest()


# --- storageConfig ------------------------------------------------------------------------
@pytest.fixture
def captured(monkeypatch):
    """Replace S3Uploader in layoutkit.io.s3 by a recorder of its arguments."""
    import layoutkit.io.s3 as storage

    calls: list[dict] = []
    def record(bucket, *, prefix="", settings=None):
        calls.append({"bucket": bucket, "prefix": prefix,
                      **{f.name: getattr(settings, f.name) for f in fields(S3Settings)}})
        return calls[-1]

    monkeypatch.setattr(storage, "S3Uploader", record)
    return calls


def test_storage_config_fills_in_what_env_lacks(monkeypatch, s3_endpoint, bucket, tree):
    root, _ = tree
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    config = StorageConfig(vendor=11, bucket="from-config", access_key="cfgkey",
                           secret_key="cfgsecret", file_name_prefix=("layoutkit", "demo"),
                           extension_params=(("endpoint", s3_endpoint),))
    uploader = uploader_from_storage_config(config, bucket_override=bucket, prefix="p")
    assert (uploader.bucket, uploader.endpoint_url) == (bucket, s3_endpoint)
    assert uploader.upload_tree(root, [MP4]) == [f"p/{MP4}"]


def test_storage_config_credentials_when_env_has_none(monkeypatch, captured):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    config = StorageConfig(bucket="b", access_key="cfgkey", secret_key="cfgsecret")
    uploader_from_storage_config(config)
    assert (captured[-1]["access_key"], captured[-1]["secret_key"]) == ("cfgkey", "cfgsecret")


def test_env_wins_over_storage_config(s3_endpoint, captured):
    config = StorageConfig(bucket="b", access_key="cfgkey", secret_key="cfgsecret",
                           extension_params=(("endpoint", "s3.example.invalid"),))
    uploader_from_storage_config(config)
    assert captured[-1]["endpoint_url"] == s3_endpoint
    assert captured[-1]["access_key"] is captured[-1]["secret_key"] is None  # boto3 reads env


def test_explicit_arguments_win(captured):
    config = StorageConfig(bucket="b", access_key="cfgkey", secret_key="cfgsecret")
    explicit = S3Settings(endpoint_url="http://e:1", access_key="k", secret_key="s",
                          region="eu-west-1")
    uploader_from_storage_config(config, bucket_override="cli", settings=explicit)
    assert captured[-1] == {"bucket": "cli", "prefix": "", "endpoint_url": "http://e:1",
                            "access_key": "k", "secret_key": "s", "region": "eu-west-1",
                            "retries": 5, "connect_timeout": 5.0, "read_timeout": 30.0}


@pytest.mark.parametrize("key", ["AKIDEXAMPLE", "AKIAIOSFODNN7EXAMPLE", "xxxxxxxx",
                                 "<your access key>", "{your access key}", "your_access_key"])
def test_placeholder_credentials_are_ignored(monkeypatch, captured, key):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    uploader_from_storage_config(StorageConfig(bucket="b", access_key=key, secret_key="real"))
    assert captured[-1]["access_key"] is None


def test_bucket_is_required_and_bare_endpoint_gets_https(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    config = StorageConfig(vendor=11, bucket="", extension_params=(("endpoint", "s3.x.test"),))
    with pytest.raises(ParameterError, match="no bucket"):
        uploader_from_storage_config(config)
    uploader = uploader_from_storage_config(config, bucket_override="b")
    assert (uploader.bucket, uploader.endpoint_url) == ("b", "https://s3.x.test")


# --- reading back -------------------------------------------------------------------------
def test_download_tree_round_trip(bucket, tree, tmp_path):
    root, contents = tree
    S3Uploader(bucket, prefix="rec").upload_tree(root, ORDER)
    S3Uploader(bucket, prefix="recx").upload_tree(root, [RESPONSE])  # shares the raw prefix

    back = tmp_path / "back"
    written = download_tree(f"s3://{bucket}/rec", back)
    assert sorted(p.relative_to(back).as_posix() for p in written) == sorted(contents)
    assert _snapshot(back) == contents

    with pytest.raises(StorageError, match="already exists"):
        download_tree(f"s3://{bucket}/rec/", back)
    assert download_tree(f"s3://{bucket}/rec", back, overwrite=True) == written

    one = download_tree(f"s3://{bucket}/rec/{PLAYLIST}", tmp_path / "one")
    assert one == [tmp_path / "one" / Path(PLAYLIST).name]
    assert one[0].read_bytes() == contents[PLAYLIST]


def test_download_tree_errors(bucket, tmp_path):
    with pytest.raises(StorageError, match="no objects found"):
        download_tree(f"s3://{bucket}/nothing", tmp_path)
    with pytest.raises(StorageError, match="NoSuchBucket") as info:
        download_tree("s3://lk-no-such-bucket/x", tmp_path, retries=0)
    _assert_one_line(info.value)
    with pytest.raises(ParameterError):
        download_tree("/local/folder", tmp_path)
    assert list(tmp_path.iterdir()) == []
