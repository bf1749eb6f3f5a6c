"""moto's S3 server on loopback, and settings that point artifact storage at it."""

import socket

import boto3
from moto.server import ThreadedMotoServer

BUCKET = "modelhub-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = None

    def start(self) -> "S3Server":
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, **CREDENTIALS)

    def storage_settings(self) -> dict:
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": self.endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": True,
                "default_acl": None,
                "signature_version": "s3v4",
            },
        }

    def env(self) -> dict[str, str]:
        """The same configuration as environment variables, for a worker subprocess."""
        return {
            "MODELHUB_S3_BUCKET": BUCKET,
            "MODELHUB_S3_ENDPOINT_URL": self.endpoint,
            "MODELHUB_S3_ACCESS_KEY_ID": "testing",
            "MODELHUB_S3_SECRET_ACCESS_KEY": "testing",
            "MODELHUB_S3_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
        }
