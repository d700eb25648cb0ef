"""`braxscope info|verify` on s3:// URLs, and the one-line errors (exit 2, bounded time) for a wrong
bucket, an unreachable endpoint, missing credentials and a missing remote extra."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from braxscope.schema import StoreWriter
from tests.schema.conftest import toy_model, train_block


def _cli(*args, env=None, drop=(), block_obstore=False):
    env = dict(os.environ if env is None else env, PYTHONPATH=os.getcwd())
    for k in drop:
        env.pop(k, None)
    code = "import sys\n"
    if block_obstore:
        code += "sys.modules['obstore'] = None  # as if braxscope[remote] were not installed\n"
    code += f"from braxscope.cli import main\nsys.exit(main({list(args)!r}))\n"
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr.strip().splitlines(), time.monotonic() - t0


def test_info_and_verify_read_a_store_on_s3(s3_bucket):
    url = f"s3://{s3_bucket}/cli.zarr"
    model = toy_model()
    w = StoreWriter.create(url, model, env_name="toy", dt=0.01, train_slots=1)
    w.append_train(**train_block(model, 0, 120, 1))
    w.close()
    rc, out, err, _ = _cli("info", url)
    assert rc == 0 and w.writer_id in out and "closed" in out, err
    rc, out, err, _ = _cli("verify", url)
    assert rc == 0 and out.strip().splitlines()[-1].startswith(f"ok: {url}: 1 writer(s)"), (out, err)


def test_a_missing_bucket_is_one_line_and_exit_2(s3_server):
    rc, _, err, _ = _cli("info", "s3://no-such-bucket-here/run.zarr")
    assert rc == 2 and len(err) == 1 and "bucket does not exist" in err[0], err


def test_an_unreachable_endpoint_is_one_line_exit_2_and_no_hang(s3_server):
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:9")  # nothing listens on port 9
    rc, _, err, seconds = _cli("verify", "s3://bucket/run.zarr", env=env)
    assert rc == 2 and len(err) == 1 and "cannot reach http://127.0.0.1:9" in err[0], err
    assert seconds < 60


def test_missing_credentials_are_one_line_and_exit_2(s3_server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    rc, _, err, _ = _cli("info", "s3://bucket/run.zarr", env=env)
    assert rc == 2 and len(err) == 1 and "no credentials found" in err[0], err


def test_a_url_without_the_remote_extra_says_what_to_install():
    rc, _, err, _ = _cli("info", "s3://bucket/run.zarr", block_obstore=True)
    assert rc == 2 and len(err) == 1 and "pip install 'braxscope[remote]'" in err[0], err
