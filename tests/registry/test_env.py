"""The settings' environment readers (registry/kernel/lib/env.py): `NAME_FILE` gives NAME from a file, as container
secrets, Kubernetes Secret volumes and systemd credentials hand secrets over."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from registry.kernel.lib.env import envbool, envint, envlist, envsize, envstr
from tests.conftest import REPO


@pytest.fixture
def secret_file(tmp_path):
    def write(text: str):
        path = tmp_path / "secret"
        path.write_text(text)
        return str(path)

    return write


def test_every_reader_takes_its_value_from_name_file(monkeypatch, secret_file):
    for name in ("A", "B", "C", "D", "E"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("A_FILE", secret_file("s3cr3t with spaces \n"))
    assert envstr("A") == "s3cr3t with spaces "  # only the trailing newline goes
    monkeypatch.setenv("B_FILE", secret_file("yes\n"))
    assert envbool("B", False) is True
    monkeypatch.setenv("C_FILE", secret_file("42\r\n"))
    assert envint("C", 1) == 42
    monkeypatch.setenv("D_FILE", secret_file("2GiB\n"))
    assert envsize("D", 1) == 2 * 1024**3
    monkeypatch.setenv("E_FILE", secret_file("a, b\n"))
    assert envlist("E", []) == ["a", "b"]


def test_a_variable_set_both_ways_or_an_unreadable_file_stops_start_up(monkeypatch, secret_file, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://a@b/c")
    monkeypatch.setenv("DATABASE_URL_FILE", secret_file("postgres://x@y/z"))
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL and DATABASE_URL_FILE are both set"):
        envstr("DATABASE_URL")
    monkeypatch.delenv("DATABASE_URL")
    assert envstr("DATABASE_URL") == "postgres://x@y/z"
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL_FILE=.*missing.* cannot be read"):
        envstr("DATABASE_URL")


def test_a_file_twin_with_a_meaning_of_its_own_is_left_alone(monkeypatch, secret_file):
    """MODELHUB_SIGNING_KEY_FILE is the path of the key file (generated when unset), not a secret to read here."""
    monkeypatch.delenv("MODELHUB_SIGNING_KEY", raising=False)
    monkeypatch.setenv("MODELHUB_SIGNING_KEY_FILE", secret_file("-----BEGIN EC PRIVATE KEY-----"))
    assert envstr("MODELHUB_SIGNING_KEY", from_file=False) == ""


def test_the_settings_read_secrets_from_files(tmp_path):
    """The whole settings module, in a process of its own: the secret key and the database URL from files."""
    (tmp_path / "key").write_text("k" * 50 + "\n")
    (tmp_path / "db").write_text("postgres://modelhub:pw@db.internal:6432/registry\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "MODELHUB_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SECRET_KEY_FILE": str(tmp_path / "key"),
        "DATABASE_URL_FILE": str(tmp_path / "db"),
    }
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        "print(s.SECRET_KEY == 'k' * 50, d['HOST'], d['PORT'], d['NAME'], d['PASSWORD'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.split() == ["True", "db.internal", "6432", "registry", "pw"], done.stderr[-2000:]
