"""The must-show of issue 21: Agora's own Python REST client drives the local service.

Agora's community Python REST client (PyPI ``agora-rest-client``, home
AgoraIO-Community/agora-rest-client-python) drives the local service through a whole
recording, and through its error paths.

Only two things of the client are patched, to point it at the local service instead of
Agora's hosts: its domain list (``Domain.run``, which would resolve ``api-*.agora.io`` /
``api-*.sd-rtn.com`` and start a background thread re-resolving them every 30 s, now sets the
list to ``127.0.0.1:PORT``) and its scheme (``Client.get_api_url``: ``http://`` instead of
``https://``).  Everything else (paths, bodies, Basic auth, retries, response parsing) is the
client's own code.
"""

from __future__ import annotations

import json
import time

import pytest

# a test dependency (pyproject's [test] extras): missing, these tests fail, never skip
from agora_rest_client.core import client as agora_client
from agora_rest_client.core import domain as agora_domain
from agora_rest_client.core.exceptions import ServiceResponseException
from agora_rest_client.services.cloud_recording.v1 import api_start as base_start
from agora_rest_client.services.cloud_recording.v1.mix_recording import (
    api_start as mix_start,
)
from agora_rest_client.services.cloud_recording.v1.mix_recording.mix_recording_client import (
    MixRecordingClient,
)

import layoutkit as lk
from layoutkit.ncs.receiver import EventReceiver

APP = "0123456789abcdef0123456789abcdef"
KEY, SECRET = "customer", "secret"
NCS_SECRET = "ncs-secret"
CNAME, UID = "room1", "999"
SCENARIO = {
    "cname": CNAME, "duration": 60,
    "users": [{"uid": "1"}, {"uid": "2", "source": "#FF8000"}],
    "start": {"cname": CNAME, "uid": UID, "clientRequest": {"recordingConfig": {}}},
}


@pytest.fixture
def point_at(monkeypatch):
    """Patch the client's domain list and scheme only (see the module docs)."""
    def point(port: int) -> None:
        def run(self, logger):  # the domain list: the local service, no DNS, no thread
            self.set_logger(logger)
            self._domain_list = [f"127.0.0.1:{port}"]

        monkeypatch.setattr(agora_domain.Domain, "run", run)
        monkeypatch.setattr(agora_client.Client, "get_api_url",
                            lambda self, host, url, service_region=None: f"http://{host}{url}")
    return point


def _client(password: str = SECRET) -> MixRecordingClient:
    return (MixRecordingClient.new_builder()
            .with_app_id(APP)
            .with_credential_basic_auth(KEY, password)
            .with_domain(agora_domain.Domain(agora_domain.EndpointRegion.US.value))
            .with_http_retry_count(3)
            .build())


def _storage(bucket: str) -> mix_start.StorageConfig:
    return mix_start.StorageConfig(vendor=1, region=0, bucket=bucket, accessKey="testing",
                                   secretKey="testing", fileNamePrefix=["agora", "client"])


def _recording(width: int = 320) -> mix_start.RecordingConfig:
    return mix_start.RecordingConfig(
        channelType=0, streamTypes=2, maxIdleTime=30,
        transcodingConfig=base_start.TranscodingConfig(width=width, height=180, fps=15,
                                                      bitrate=200, mixedVideoLayout=1))


def test_the_agora_client_records_uploads_and_compare_matches(point_at, s3_endpoint, bucket,
                                                              raw, tmp_path):
    events = tmp_path / "events.jsonl"
    with EventReceiver(events, secret=NCS_SECRET) as receiver, \
            lk.serve(SCENARIO, credentials=f"{KEY}:{SECRET}", s3_endpoint=s3_endpoint,
                     notify=receiver.url, notify_secret=NCS_SECRET,
                     folder=tmp_path / "svc") as server:
        point_at(server.port)
        client = _client()
        acquired = client.acquire(CNAME, UID)
        started = client.start(acquired.resourceId, CNAME, UID, "token",
                               _storage(bucket), recording_config=_recording())
        began = time.monotonic()
        assert started.resourceId == acquired.resourceId and len(started.sid) == 32
        again = client.start(acquired.resourceId, CNAME, UID, "token", _storage(bucket),
                             recording_config=_recording())  # a retry: no second recording
        assert again.sid == started.sid
        queried = client.query(started.resourceId, started.sid)
        assert queried.serverResponse["status"] in (4, 5)
        assert queried.serverResponse["fileListMode"] == "json"
        time.sleep(1.0)
        updated = client.update_layout(started.resourceId, started.sid, CNAME, UID,
                                       mixed_video_layout=2, background_color="#0000FF")
        assert updated.sid == started.sid
        time.sleep(max(0.0, 3.0 - (time.monotonic() - began)))
        stopped = client.stop(started.resourceId, started.sid, CNAME, UID)
        assert stopped.serverResponse["uploadingStatus"] == "uploaded"
        files = [f["fileName"] for f in stopped.serverResponse["fileList"]]
        assert files == [f"agora/client/{started.sid}_{CNAME}.m3u8",
                         f"agora/client/{started.sid}_{CNAME}_0.mp4"]
        # stop twice: the cloud's 49 "invalid operation", raised by the client
        with pytest.raises(ServiceResponseException) as second:
            client.stop(started.resourceId, started.sid, CNAME, UID)
        assert (second.value.status_code, second.value.error_code) == (400, 49)
    keys = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]]
    assert set(files) <= set(keys)
    assert any(k.startswith(f"agora/client/{started.sid}_{CNAME}_") and k.endswith(".ts")
               for k in keys)
    result = lk.compare(tmp_path / "svc" / "000" / "scenario.json", f"s3://{bucket}/agora/client")
    assert result.verdict == "match", [d.message for d in result.differences]
    bodies = [json.loads(line) for line in events.read_text().splitlines()]
    # the receiver refuses (403) any body without a good Agora-Signature-V2: all are signed
    kinds = [b["eventType"] for b in bodies]
    assert {40, 41, 30, 31} <= set(kinds)
    assert kinds == [40, 30, 42, 41, 31, 11]


def test_the_agora_client_gets_the_clouds_errors(point_at, tmp_path):
    with lk.serve(SCENARIO, credentials=f"{KEY}:{SECRET}", folder=tmp_path / "svc") as server:
        point_at(server.port)
        client = _client()
        rid = client.acquire(CNAME, UID).resourceId
        with pytest.raises(ServiceResponseException) as invalid:
            client.start(rid, CNAME, UID, "token", _storage("b"),
                         recording_config=_recording(width=5000))
        assert (invalid.value.status_code, invalid.value.error_code) == (400, 2)
        assert "transcodingConfig.width" in invalid.value.error_msg
        assert "5000" in invalid.value.error_msg
        with pytest.raises(ServiceResponseException) as unknown:
            client.query(rid, "0" * 32)
        assert (unknown.value.status_code, unknown.value.error_code) == (404, 404)
        with pytest.raises(ServiceResponseException) as wrong:
            _client(password="wrong").acquire(CNAME, UID)
        assert wrong.value.status_code == 401
        assert wrong.value.error_msg == "Invalid authentication credentials"
