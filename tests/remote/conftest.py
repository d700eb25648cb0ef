"""A real S3 API on loopback: moto's server (``moto[server]``), one per test session, and a fresh
bucket per test. The AWS_* variables point braxscope (and any subprocess) at it."""

from __future__ import annotations

import os
import uuid

import pytest

pytest.importorskip("obstore", reason="the remote extra (braxscope[remote]) is not installed")
pytest.importorskip("moto", reason="moto[server] is not installed")


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    import boto3

    name = f"bx-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server["AWS_ENDPOINT_URL"]).create_bucket(Bucket=name)
    return name
