"""The test identity provider as a context manager: its own process on a free loopback port, with a fresh RSA
key, the users and clients asked for, and `mint()` to sign tokens with its key (expired, for another audience,
...) for the cases a well-behaved provider never issues."""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.s3 import free_port

REPO = Path(__file__).resolve().parents[2]
API_AUDIENCE = "modelhub-api"


@dataclass
class IdentityProvider:
    issuer: str
    key_pem: str
    log: Path

    @property
    def kid(self) -> str:
        from jwcrypto import jwk

        return jwk.JWK.from_pem(self.key_pem.encode()).thumbprint()

    def mint(self, claims: dict, *, key_pem: str | None = None, kid: str | None = None) -> str:
        """A JWT access token with `claims` over sensible defaults, signed RS256 with the provider's key (or
        `key_pem`) under its kid (or `kid`)."""
        import jwt

        now = int(time.time())
        body = {"iss": self.issuer, "aud": API_AUDIENCE, "iat": now, "exp": now + 300, **claims}
        body = {name: value for name, value in body.items() if value is not None}
        return jwt.encode(
            body, key_pem or self.key_pem, algorithm="RS256", headers={"kid": kid or self.kid, "typ": "at+jwt"}
        )

    def token(self, client_id: str, client_secret: str, scope: str) -> dict:
        """A client-credentials token from the provider's token endpoint (what a pipeline's machine identity
        gets)."""
        response = requests.post(
            f"{self.issuer}/token/",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client_id, client_secret),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()


def rsa_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@contextmanager
def identity_provider(data_dir: Path, *, users: list[dict], clients: list[dict]):
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/o"
    key_pem = rsa_key_pem()
    (data_dir / "signing-key.pem").write_text(key_pem)
    log = data_dir / "idp.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "tests.identity_provider.settings",
        "IDP_DATA_DIR": str(data_dir),
        "IDP_ISSUER": issuer,
        "IDP_PORT": str(port),
        "IDP_API_AUDIENCE": API_AUDIENCE,
        "IDP_SEED": json.dumps({"users": users, "clients": clients}),
    }
    env.pop("DATABASE_URL", None)
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.identity_provider.serve"], cwd=REPO, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield IdentityProvider(issuer=issuer, key_pem=key_pem, log=log)
    finally:
        process.terminate()
        process.wait(timeout=20)


# Example Corp's directory, as the tests use it: erin (a vision engineer and a model reviewer), frank (who leads
# vision) and the nightly pipeline's machine client, owned by a vision engineer.
PASSWORD = "correct horse battery staple"
PORTAL_CLIENT = ("modelhub-portal", "portal-secret-for-tests")
PIPELINE_CLIENT = ("nightly-pipeline", "pipeline-secret-for-tests")
GROUP_MAP = "ml-vision=team:vision, ml-vision-leads=team:vision:maintainer, model-reviewers=group:reviewers"


def example_corp(portal_url: str | None = None) -> dict:
    users = [
        {"username": "erin", "password": PASSWORD, "email": "erin@example.com", "first_name": "Erin",
         "groups": ["ml-vision", "model-reviewers"]},
        {"username": "frank", "password": PASSWORD, "email": "frank@example.com", "groups": ["ml-vision-leads"]},
        {"username": "pipeline-owner", "password": PASSWORD, "groups": ["ml-vision"]},
    ]  # fmt: skip
    clients = [{"client_id": PIPELINE_CLIENT[0], "client_secret": PIPELINE_CLIENT[1], "grant": "client-credentials",
                "owner": "pipeline-owner"}]  # fmt: skip
    if portal_url:
        clients.append(
            {
                "client_id": PORTAL_CLIENT[0],
                "client_secret": PORTAL_CLIENT[1],
                "redirect_uris": [f"{portal_url}/signin/sso/callback/"],
                "post_logout_redirect_uris": [f"{portal_url}/signin/"],
            }  # fmt: skip
        )
    return {"users": users, "clients": clients}


def modelhub_settings(settings, provider: IdentityProvider, *, api: bool = True, groups: bool = True) -> None:
    """Point the test's Django settings at `provider`."""
    from registry.identities.group_map import group_map_parse

    settings.MODELHUB_OIDC_ISSUER = provider.issuer
    settings.MODELHUB_OIDC_CLIENT_ID, settings.MODELHUB_OIDC_CLIENT_SECRET = PORTAL_CLIENT
    settings.MODELHUB_OIDC_SCOPES = "openid email profile"
    settings.MODELHUB_OIDC_NAME = "Example Corp"
    settings.MODELHUB_OIDC_API_AUDIENCE = API_AUDIENCE if api else ""
    settings.MODELHUB_OIDC_GROUPS_CLAIM = "groups" if groups else ""
    settings.MODELHUB_OIDC_GROUP_MAP = group_map_parse(GROUP_MAP)
