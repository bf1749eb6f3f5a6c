"""Validation in the sandbox: hostile models end as final, readable results; what is stored stays small and storable."""

import json
import sys
import time
from pathlib import Path

import psutil
import pytest

from registry.kernel.events import Event
from registry.kernel.lib.jsonsafe import json_size
from registry.validation import sandbox
from registry.validation.sandbox import MODEL, SandboxLimits, sandbox_run
from registry.validation.services import (
    MAX_STORED_JSON_BYTES,
    NAME_MAX_BYTES,
    validations_recover_stalled,
    version_validate,
)
from registry.versions.models import AssetVersion
from tests.factories import endless_loop_model, make_asset, make_version, memory_bomb_model, onnx_bytes, relu_model


def validated(user, team, tmp_path, content: bytes, *, kind: str = "model", filename: str = "model.onnx"):
    version = make_version(user, make_asset(user, team, kind=kind), tmp_path, content, filename=filename)
    version_validate(version_id=version.pk, task_id="t")
    return AssetVersion.objects.select_related("validation").get(pk=version.pk)


def rss() -> int:
    return psutil.Process().memory_info().rss


@pytest.mark.django_db
def test_memory_bomb_is_invalid_and_never_grows_the_caller(alice, team, tmp_path, settings):
    settings.MODELHUB_VALIDATION_MAX_MEMORY = 1 << 30
    before = rss()
    version = validated(alice, team, tmp_path, onnx_bytes(memory_bomb_model(1 << 30)))  # 4 GiB of floats
    assert rss() - before < 100 * 1024 * 1024
    assert version.status == "invalid"
    assert version.validation.failed_check == "smoke_inference"
    assert version.validation.reason.startswith("The smoke inference needed more than 1 GiB of memory")
    assert version.validation.attempts == 1


@pytest.mark.django_db
def test_endless_loop_is_stopped_at_the_smoke_time_limit(alice, team, tmp_path, settings):
    settings.MODELHUB_SMOKE_TIME_LIMIT = 1
    started = time.monotonic()
    version = validated(alice, team, tmp_path, onnx_bytes(endless_loop_model()))
    assert time.monotonic() - started < 15
    assert (version.status, version.validation.failed_check) == ("invalid", "smoke_inference")
    assert version.validation.reason == "The smoke inference did not finish within 1 s."


def fake_child(monkeypatch, script: str) -> None:
    """Replace the sandbox child by `script` (it gets the request on stdin like the real one)."""
    monkeypatch.setattr(sandbox, "CHILD_COMMAND", (sys.executable, "-c", script))
    monkeypatch.setattr(sandbox, "KILL_GRACE_SECONDS", 0.5)


CHILD_SCRIPTS = {
    "segfault": (
        "import ctypes, sys; sys.stdin.read(); print('stage runtime_session', flush=True); ctypes.string_at(0)",
        "runtime_session",
        "onnxruntime crashed (signal 11) while loading the model.",
    ),
    "ignores the terminate flag": (
        "import sys, time; sys.stdin.read(); print('stage smoke_inference', flush=True); time.sleep(600)",
        "smoke_inference",
        "The smoke inference did not finish within 1 s.",
    ),
    "exits without a result": (
        "import sys; sys.stdin.read(); print('stage checker', flush=True); sys.exit(3)",
        "checker",
        "The validation process failed while checking the model (exit status 3).",
    ),
    "killed by the OOM killer": (
        "import os, signal, sys; sys.stdin.read(); print('stage shape_inference', flush=True); "
        "os.kill(os.getpid(), signal.SIGKILL)",
        "shape_inference",
        "ONNX shape inference was killed (signal 9) while inferring shapes, most likely by the "
        "host running out of memory.",
    ),
    "writes a forged result": (
        "import json, sys; r = json.load(sys.stdin); print('stage parse', flush=True); "
        "open(r['result_path'], 'w').write(json.dumps({'ok': False, 'check': '../../etc', 'reason': 1}))",
        "parse",
        "The validation process failed while reading the model (exit status 0).",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", CHILD_SCRIPTS)
def test_a_child_that_dies_hangs_or_lies_is_a_final_readable_result(case, alice, team, tmp_path, settings, monkeypatch):
    script, check, reason = CHILD_SCRIPTS[case]
    fake_child(monkeypatch, script)
    settings.MODELHUB_SMOKE_TIME_LIMIT = 1
    started = time.monotonic()
    version = validated(alice, team, tmp_path, onnx_bytes())
    assert time.monotonic() - started < 10
    assert (version.status, version.validation.failed_check, version.validation.reason) == ("invalid", check, reason)
    # Final: nothing is left for the recovery sweep to send again.
    assert version.validation.attempts == 1
    assert validations_recover_stalled() == []


def test_cpu_time_limit_ends_the_child(tmp_path):
    root = tmp_path / "files"
    root.mkdir()
    (root / "model.onnx").write_bytes(onnx_bytes(endless_loop_model()))
    limits = SandboxLimits(memory_bytes=1 << 32, cpu_seconds=1, smoke_seconds=60, wall_seconds=60, file_bytes=1 << 30)
    outcome = sandbox_run(
        MODEL, root / "model.onnx", root=root, filename="model.onnx", limits=limits, workdir=tmp_path / "work"
    )
    assert outcome == {
        "ok": False,
        "check": "smoke_inference",
        "reason": "The smoke inference used more than 1 s of CPU time.",
    }


def test_the_child_gets_no_secrets_and_no_django(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/x")
    monkeypatch.setenv("MODELHUB_S3_SECRET_ACCESS_KEY", "secret")
    report = tmp_path / "env.json"
    fake_child(
        monkeypatch,
        f"import json, os, sys; sys.stdin.read(); open({str(report)!r}, 'w').write(json.dumps(dict(os.environ)))",
    )
    root = tmp_path / "files"
    root.mkdir()
    limits = SandboxLimits(memory_bytes=1 << 32, cpu_seconds=5, smoke_seconds=5, wall_seconds=10, file_bytes=1 << 30)
    sandbox_run(MODEL, root / "model.onnx", root=root, filename="model.onnx", limits=limits, workdir=tmp_path / "w")
    env = json.loads(report.read_text())
    assert not any("SECRET" in name or name.startswith(("DATABASE", "DJANGO", "CELERY")) for name in env), env
    source = Path(sandbox.__file__).read_text()
    assert "import django" not in source and "from django" not in source


@pytest.mark.django_db
def test_wide_csv_with_long_names_stores_a_bounded_profile(alice, team, tmp_path):
    header = ",".join(f"{i:04d}" + "é" * 2000 for i in range(2000))  # 2,000 columns, ~4 KB names
    row = ",".join(["1"] * 2000)
    version = validated(
        alice, team, tmp_path, f"{header}\n{row}\n{row}\n".encode(), kind="dataset", filename="wide.csv"
    )
    assert version.status == "validated"
    profile = version.validation.details["profile"]
    assert profile["column_count"] == 2000 and profile["row_count"] == 2
    assert 0 < len(profile["columns"]) < 2000
    assert all(len(c["name"].encode()) <= NAME_MAX_BYTES for c in version.signature["columns"])
    assert version.signature["columns"][1]["name"].startswith("0001é")
    assert json_size(version.validation.details) + json_size(version.signature) <= MAX_STORED_JSON_BYTES
    assert version.validation.reason == "CSV with 2000 columns and 2 rows."


@pytest.mark.django_db
def test_nul_characters_in_names_are_stored(alice, team, tmp_path):
    model = validated(alice, team, tmp_path, onnx_bytes(relu_model(input_name="in\x00put")))
    assert model.status == "validated", model.validation.reason
    assert model.signature["inputs"][0]["name"] == "in\ufffdput"
    dataset = validated(alice, team, tmp_path, b"a\x00b,c\n1,2\n", kind="dataset", filename="d.csv")
    assert dataset.status == "validated", dataset.validation.reason
    assert [c["name"] for c in dataset.signature["columns"]] == ["a\ufffdb", "c"]


@pytest.mark.django_db
def test_audit_data_is_made_storable(alice, team):
    from registry.kernel.audit.services import audit_record

    event = audit_record(
        actor=alice, action=Event.TEAM_CREATED, target=team, data={"name\x00": ["x\x00y", "\ud800", float("nan")]}
    )
    event.refresh_from_db()
    assert event.data == {"name\ufffd": ["x\ufffdy", "\ufffd", None]}


def test_text_is_cut_on_a_character_boundary():
    from registry.kernel.lib.jsonsafe import text_safe

    assert text_safe("é" * 10, max_bytes=7) == "éé…"
    assert text_safe("ok", max_bytes=2) == "ok"
    assert text_safe("a\x00\udfff") == "a\ufffd\ufffd"
