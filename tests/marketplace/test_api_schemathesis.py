"""Property-based API tests: Schemathesis generates requests from the live OpenAPI schema and checks
every response (no server error, status code, content type and body as documented).

It runs in-process over WSGI against PostgreSQL, as an owner and as an outsider, with a bounded
number of examples per operation. Half the examples aim their path parameters at real objects, so
the generated bodies and queries reach the services, not only the 404s.
"""

import os
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from registry.tokens.services import token_create
from tests.factories import make_asset, make_team, make_user, make_version, onnx_bytes

# Bounded and repeatable in the suite; MODELHUB_FUZZ_EXAMPLES=300 hunts deeper, with fresh randomness.
EXAMPLES_PER_OPERATION = int(os.environ.get("MODELHUB_FUZZ_EXAMPLES", "12"))
REPEATABLE = "MODELHUB_FUZZ_EXAMPLES" not in os.environ
REAL = {"team": "vision", "slug": "iris", "version": "1.0.0", "username": "bob"}


# Loaded at collection from the running application's own schema view.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def world(db, tmp_path_factory):
    """alice maintains 'vision' (bob a member) with model 'iris' 1.0.0; charlie is an outsider.

    As Django's test client does, the WSGI handler may not close "old" connections at request
    start and end meanwhile: the test's transaction must survive each request.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    alice, bob, charlie = make_user("alice"), make_user("bob"), make_user("charlie")
    team = make_team(alice, slug="vision", members=[bob])
    asset = make_asset(alice, team, slug="iris", kind="model", tags=["tabular"], license="MIT")
    make_asset(alice, team, slug="secret", visibility="private")
    make_version(alice, asset, tmp_path_factory.mktemp("upload"), onnx_bytes(), version="1.0.0")
    yield {
        name: {"Authorization": f"Token {token_create(user=user, name='fuzz')[1]}"}
        for name, user in (("owner", alice), ("outsider", charlie))
    }
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _call(case, headers):
    # Every other example aims at real objects (decided by its content, so reruns repeat it).
    if case.path_parameters and zlib.crc32(repr((case.query, case.body)).encode()) % 2:
        for name in case.path_parameters:
            if name in REAL:
                case.path_parameters[name] = REAL[name]
    # positive_data_acceptance is left out: a schema-valid request may still break a rule no
    # schema states (a PNG uploaded as a model, a slug already taken), and a 4xx is right there.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


_bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=REPEATABLE,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@_bounded
def test_api_answers_the_owner_as_documented(case, world):
    _call(case, world["owner"])


@schema.parametrize()
@_bounded
def test_api_answers_an_outsider_as_documented(case, world):
    _call(case, world["outsider"])
