"""Shared fixtures."""

from __future__ import annotations

import os
import signal
import threading
import uuid

import pytest

os.environ.setdefault("LAYOUTKIT_NO_PROGRESS", "1")


#: Modules that take longest (seconds of test time on 2 cores): collected first, so that
#: ``--dist loadscope`` (one worker per module) hands them out first and the run does not
#: end with one long module on one worker while the other waits.  Only an order.
HEAVY_FIRST = ("test_compare_e2e", "test_faults_output", "test_compare_content",
               "test_compare_files", "test_design", "test_hostile_inputs", "test_storage",
               "test_readme", "test_idstream", "test_record")


@pytest.fixture(autouse=True)
def _ctrl_c_reaches_children():
    """Give every test a worker whose Ctrl-C is Python's own and not blocked.

    Child processes inherit an ignored or blocked SIGINT, and a Python started with SIGINT
    ignored never turns Ctrl-C into KeyboardInterrupt: in a clean CI run the server tests that
    stop ``layoutkit design`` / ``serve`` / ``events listen`` with Ctrl-C timed out after other
    tests had run in the same worker (they pass alone).  The state is reset before each test.
    """
    if threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        stem = item.path.stem
        return HEAVY_FIRST.index(stem) if stem in HEAVY_FIRST else len(HEAVY_FIRST)

    items.sort(key=rank)  # stable: the order inside each module is kept


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run the test inside a fresh temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- a real S3-compatible server on loopback (moto), for storage and upload tests -----------
KEY_ID, SECRET = "testing", "testing"

_CLEARED_ENV = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)


def _moto_server():
    """Start moto's ThreadedMotoServer on a free loopback port, with a quick stop().

    Its stop() returns within 50 ms (moto's thread polls for shutdown every 0.5 s,
    werkzeug's default).
    """
    from moto.moto_server import threaded_moto_server as moto_server

    class _Server(moto_server.ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = moto_server.DomainDispatcherApplication(moto_server.create_backend_app)
            self._server = moto_server.make_server(self._ip_address, self._port, app, True)
            self._server_ready_event.set()
            self._server.serve_forever(poll_interval=0.05)

    return _Server(ip_address="127.0.0.1", port=0, verbose=False)


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """Serve moto S3 on 127.0.0.1 for this module, the AWS environment pointing at it."""
    server = _moto_server()
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    nowhere = tmp_path_factory.mktemp("aws") / "missing"
    with pytest.MonkeyPatch.context() as mp:
        for name in _CLEARED_ENV:
            mp.delenv(name, raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        mp.setenv("no_proxy", "127.0.0.1,localhost")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("AWS_CONFIG_FILE", str(nowhere))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
        mp.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        try:
            yield endpoint
        finally:
            server.stop()
            inner = getattr(server, "_server", None)
            if inner is not None:
                inner.server_close()


@pytest.fixture
def raw(s3_endpoint):
    """Return a plain boto3 client on the test server (to set up and inspect, not under test)."""
    import boto3

    return boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                                 region_name="us-east-1").client("s3", endpoint_url=s3_endpoint)


@pytest.fixture
def bucket(raw):
    """Create a fresh, empty bucket."""
    name = f"lk-{uuid.uuid4().hex[:12]}"
    raw.create_bucket(Bucket=name)
    return name




# --- a real headless browser (Debian's Chromium + Selenium), for the HTML report tests -----
from .browser import browser  # noqa: E402, F401 -- the fixture, offered to every test module
