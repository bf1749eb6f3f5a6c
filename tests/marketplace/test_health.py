"""/healthz and /readyz (marketplace/health.py): alive without dependencies; ready only when the database (migrated),
the broker and artifact storage answer."""

import pytest

pytestmark = pytest.mark.django_db


def test_ready_when_every_dependency_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json() == {"status": "ready", "checks": {"database": None, "broker": None, "storage": None}}


def test_not_ready_names_what_is_down(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    def storage_down(self, name):
        raise ConnectionError("artifact storage refused the connection")

    monkeypatch.setattr("registry.artifacts.storage.AtomicFileSystemStorage.exists", storage_down)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    checks = ready.json()["checks"]
    assert checks["database"] is None and "refused" in checks["storage"] and checks["broker"]
    assert client.get("/healthz").status_code == 200
