"""A local S3-compatible server for the test session: moto's standalone server,
started once as a subprocess on 127.0.0.1 (a free port), nothing beyond it.

Its minimum part size is lowered (S3_UPLOAD_PART_MIN_SIZE) so tests upload in
parts of a few KiB; `env()` is what a host using the bucket sets.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.patience import patient

PART_MIN = 1024  # bytes: the server's smallest part but the last (S3: 5 MiB)


@dataclass
class S3Server:
    proc: subprocess.Popen[bytes]
    endpoint: str

    def env(self) -> dict[str, str]:
        """The environment of a host that uses this server's buckets."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            # never ask a cloud's metadata address for credentials
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def new_bucket(self) -> str:
        name = "t-" + uuid.uuid4().hex[:16]
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=patient(5))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> S3Server:
    env = {**os.environ, "S3_UPLOAD_PART_MIN_SIZE": str(PART_MIN)}
    for _ in range(3):  # the free port may be taken again before moto binds it
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + patient(15)
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                time.sleep(0.05)  # polling a port: no event to await
                continue
            return S3Server(proc, f"http://127.0.0.1:{port}")
        proc.kill()
        proc.wait()
    raise RuntimeError("moto's S3 server did not start on 127.0.0.1")
