"""The Python client and `modelhub` against a real portal (pytest-django's live server): credentials, search, show,
pull into the shared cache by version and by alias, resume after a dropped transfer, damaged blobs, concurrent
pulls, offline mode, exit codes and --json; and the client installed on its own, without Django."""

import hashlib
import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from marketplace.client import Client, IntegrityError, Unreachable
from marketplace.client.cli import main
from registry.cards.services import card_update
from registry.governance.services import alias_set
from registry.kernel.audit.models import AuditEvent
from registry.tokens.services import token_create
from registry.versions.models import AssetVersion
from tests.conftest import REPO, report_figure
from tests.factories import complete_card_fields, linear_model, make_asset, make_version, onnx_bytes
from tests.marketplace.client_process import pull_in_a_process
from tests.registry.endpoint_fixtures import approve

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A user's environment of their own: config and cache folders, no MODELHUB_* from outside."""
    for name in ("MODELHUB_URL", "MODELHUB_TOKEN", "MODELHUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODELHUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MODELHUB_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def catalogue(alice, bob, dave, team, tmp_path, reviewers):
    """vision/clf (private): 1.0.0 approved and aliased production, 1.1.0 validated; a weights file of 3 MB."""
    asset = make_asset(alice, team, slug="clf", license="MIT", visibility="private", summary="A linear classifier")
    content = onnx_bytes(linear_model(800, 900, seed=1))  # about 2.9 MB
    first = make_version(alice, asset, tmp_path, content)
    AssetVersion.objects.filter(pk=first.pk).update(status="validated")
    card_update(user=alice, version=first, fields=complete_card_fields("model"))
    approve(first, submitter=bob, reviewer=dave, signature={"inputs": [], "outputs": []})
    alias_set(user=dave, asset=asset, name="production", version=first)
    return {"asset": asset, "content": content, "sha256": hashlib.sha256(content).hexdigest()}


@pytest.fixture
def token(alice) -> str:
    return token_create(user=alice, name="laptop")[1]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_login_stores_the_token_privately_and_the_environment_wins(env, live_server, team, token, capsys, monkeypatch):
    code, out, _ = run(capsys, "--json", "--url", live_server.url, "login", "--token", token)
    assert code == 0 and json.loads(out)["teams"] == ["vision"]
    saved = env / "config" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"url": live_server.url, "token": token}
    assert Client().url == live_server.url and Client().token == token
    monkeypatch.setenv("MODELHUB_TOKEN", "mht_from-the-environment")
    assert Client().token == "mht_from-the-environment"
    code, _, err = run(capsys, "--url", live_server.url, "login", "--token", "mht_wrong")
    assert code == 1 and "Invalid or revoked token" in err


def test_search_show_and_what_an_outsider_gets(env, live_server, catalogue, token, charlie, capsys):
    common = ("--json", "--url", live_server.url, "--token", token)
    code, out, _ = run(capsys, *common, "search", "linear")
    assert code == 0 and [a["full_slug"] for a in json.loads(out)] == ["vision/clf"]
    code, out, _ = run(capsys, *common, "show", "vision/clf@production")
    shown = json.loads(out)
    assert code == 0 and shown["version"] == "1.0.0" and shown["files"][0]["sha256"] == catalogue["sha256"]
    code, out, _ = run(capsys, "--url", live_server.url, "--token", token, "show", "vision/clf")
    assert code == 0 and out.startswith("vision/clf (model): A linear classifier")
    outsider = token_create(user=charlie, name="x")[1]
    code, _, err = run(capsys, "--url", live_server.url, "--token", outsider, "show", "vision/clf@1.0.0")
    assert code == 1 and err.startswith("modelhub: 404:")
    code, _, err = run(capsys, "--url", live_server.url, "show", "Not A Ref")
    assert code == 2 and "is not team/asset" in err
    code, _, err = run(capsys, "--url", "http://127.0.0.1:9", "show", "vision/clf")
    assert code == 3 and "did not answer" in err


def test_pull_fills_the_cache_as_hugging_face_lays_it_out(env, live_server, catalogue, token, capsys):
    code, out, _ = run(capsys, "--json", "-q", "--url", live_server.url, "--token", token, "pull", "vision/clf")
    assert code == 0
    snapshot = Path(json.loads(out)["path"])
    repo = env / "cache" / "models--vision--clf"
    assert snapshot == repo / "snapshots" / "1.0.0"
    linked = snapshot / "model.onnx"
    assert linked.is_symlink() and os.readlink(linked) == f"../../blobs/{catalogue['sha256']}"
    assert linked.read_bytes() == catalogue["content"]
    assert (repo / "refs" / "production").read_text() == "1.0.0"
    assert sorted(p.name for p in (repo / "blobs").iterdir() if not p.name.endswith(".lock")) == [catalogue["sha256"]]
    # By version, and copied out with --to.
    code, _, _ = run(
        capsys, "-q", "--url", live_server.url, "--token", token, "pull", "vision/clf@1.0.0", "--to", str(env / "out")
    )
    assert code == 0 and (env / "out" / "model.onnx").read_bytes() == catalogue["content"]
    assert not (env / "out" / "model.onnx").is_symlink()


def test_a_damaged_cached_blob_is_found_and_fetched_again(env, live_server, catalogue, token):
    with Client(live_server.url, token) as client:
        blob = client.pull("vision/clf@production") / "model.onnx"
        real = blob.resolve()
        damaged = bytearray(real.read_bytes())
        damaged[len(damaged) // 2] ^= 0x01
        real.write_bytes(bytes(damaged))
        assert (client.pull("vision/clf@production") / "model.onnx").read_bytes() == catalogue["content"]


class _Cutting(BaseHTTPRequestHandler):
    """A proxy to the live server that cuts the first download off after half its bytes, or flips one byte."""

    upstream = ""
    mode = "cut"
    seen: list = []

    def do_GET(self):
        # The Host header goes along, so the URLs the portal writes into its answers point at this proxy too.
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "range", "host")}
        answer = requests.get(self.upstream + self.path, headers=headers, allow_redirects=False, timeout=30)
        self.seen.append((self.path, headers.get("Range"), len(answer.content)))
        data = answer.content
        downloading = "/download" in self.path
        self.send_response(answer.status_code)
        for name in ("Content-Type", "Content-Range", "ETag", "Accept-Ranges"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if downloading and self.mode == "cut" and sum(1 for p in self.seen if "/download" in p[0]) == 1:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops midway
            return
        if downloading and self.mode == "flip":
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(live_server):
    _Cutting.upstream, _Cutting.seen = live_server.url, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Cutting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_dropped_transfer_resumes_where_it_stopped(env, proxy, catalogue, token, live_server):
    _Cutting.mode = "cut"
    # Version details point at the live server; fetch them through the proxy too.
    client = Client(proxy, token)
    with pytest.raises(Unreachable, match="broke off"):
        client.pull("vision/clf@production")
    size = len(catalogue["content"])
    partial = env / "cache" / "models--vision--clf" / "blobs" / f"{catalogue['sha256']}.incomplete"
    assert 0 < partial.stat().st_size <= size // 2
    kept = partial.stat().st_size
    snapshot = client.pull("vision/clf@production")
    assert (snapshot / "model.onnx").read_bytes() == catalogue["content"]
    (_, first_range, _), (_, second_range, sent) = [s for s in _Cutting.seen if "/download" in s[0]]
    assert first_range is None and second_range == f"bytes={kept}-" and sent == size - kept
    report_figure(f"resume: {sent} bytes sent again for the {size - kept} missing of {size}")


def test_bytes_that_do_not_match_their_sha256_are_refused(env, proxy, catalogue, token, live_server, capsys):
    _Cutting.mode = "flip"
    client = Client(proxy, token)
    with pytest.raises(IntegrityError, match="do not match"):
        client.pull("vision/clf@production")
    blobs = env / "cache" / "models--vision--clf" / "blobs"
    assert not [p for p in blobs.iterdir() if not p.name.endswith(".lock")]  # nothing half-written is kept


def test_four_processes_pulling_one_blob_download_it_once(env, live_server, catalogue, token):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(
            target=pull_in_a_process, args=(live_server.url, token, str(env / "cache"), "vision/clf@production", queue)
        )
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    paths = {queue.get(timeout=5) for _ in workers}
    assert len(paths) == 1 and Path(paths.pop()).read_bytes() == catalogue["content"]
    # A private file's downloads are audited, once per transfer: one transfer for four pulls.
    assert AuditEvent.objects.filter(action="version.downloaded").count() == 1


def test_offline_the_last_pulled_snapshot_serves(env, live_server, catalogue, token, capsys, monkeypatch):
    with Client(live_server.url, token) as client:
        client.pull("vision/clf@production")
    down = ("--url", "http://127.0.0.1:9", "--token", token)
    code, out, err = run(capsys, "-q", *down, "pull", "vision/clf@production")
    assert code == 0 and out.strip().endswith("snapshots/1.0.0") and "using the cached 1.0.0" in err
    monkeypatch.setenv("MODELHUB_OFFLINE", "1")
    assert run(capsys, "-q", "--url", live_server.url, "pull", "vision/clf@1.0.0")[0] == 0
    code, _, err = run(capsys, "-q", *down, "pull", "vision/other@production")
    assert code == 3 and "not in the cache" in err


def test_the_client_installs_and_runs_without_django(tmp_path):
    """`pip install ./deploy/client` into a bare virtualenv (from a copy, so the build writes nothing into the
    repository): the command runs and imports no Django."""
    venv, source = tmp_path / "venv", tmp_path / "client-source"
    shutil.copytree(REPO / "deploy/client", source, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin/pip"), "install", "-q", str(source)], capture_output=True, text=True)
    if pip.returncode != 0 and "No matching distribution" in pip.stderr + pip.stdout:
        pytest.skip(f"the package index is not reachable: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr[-2000:]
    helped = subprocess.run([str(venv / "bin/modelhub"), "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "pull" in helped.stdout
    probe = "import sys, marketplace.client; print(sorted(m for m in ('django', 'onnxruntime', 'numpy') if m in sys.modules))"
    imported = subprocess.run([str(venv / "bin/python"), "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0 and imported.stdout.strip() == "[]", imported.stderr
    missing = subprocess.run([str(venv / "bin/python"), "-c", "import django"], capture_output=True, cwd=tmp_path)
    assert missing.returncode != 0


def test_pull_verifies_the_approval_signature_offline(env, live_server, catalogue, token, capsys, monkeypatch):
    code, out, err = run(
        capsys, "--json", "-q", "--url", live_server.url, "--token", token, "pull", "vision/clf", "--verify-signature"
    )
    assert code == 0, err
    assert json.loads(out)["signature"]["valid"] and json.loads(out)["signature"]["version"] == "1.0.0"
    key_id = json.loads(out)["signature"]["key_id"]
    assert (env / "cache" / "signing-keys" / f"{key_id}.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    # Offline, from what the cache kept; a changed approval record (or file) no longer verifies.
    monkeypatch.setenv("MODELHUB_OFFLINE", "1")
    with Client(live_server.url, token) as client:
        assert client.verify_signature("vision/clf@production")["valid"]
        kept = env / "cache" / "models--vision--clf" / "signatures" / "1.0.0" / "approval.json"
        kept.write_bytes(kept.read_bytes().replace(b'"1.0.0"', b'"1.0.1"'))
        assert not client.verify_signature("vision/clf@production")["valid"]
    code, _, err = run(capsys, "-q", "--url", live_server.url, "pull", "vision/clf@production", "--verify-signature")
    assert code == 4 and "does not verify" in err


def test_signatures_verify_across_a_key_rotation_and_a_revoked_key_fails(
    env, live_server, catalogue, token, alice, bob, dave, tmp_path, settings
):
    from registry.governance.keys import signing_key_add, signing_key_revoke

    settings.MODELHUB_SIGNING_KEYS_DIR = str(tmp_path / "keys")
    with Client(live_server.url, token) as client:
        old = client.verify_signature("vision/clf@1.0.0")
        assert old["valid"], old
        new_key = signing_key_add(name="2027", generate=True, activate=True)
        second = make_version(
            alice, catalogue["asset"], tmp_path, onnx_bytes(linear_model(8, 3, seed=2)), version="2.0.0"
        )
        AssetVersion.objects.filter(pk=second.pk).update(status="validated")
        card_update(user=alice, version=second, fields=complete_card_fields("model"))
        approve(second, submitter=bob, reviewer=dave, signature={"inputs": [], "outputs": []})
        new = client.verify_signature("vision/clf@2.0.0")
        assert new["valid"] and new["key_id"] == new_key.key_id != old["key_id"], new
        assert client.verify_signature("vision/clf@1.0.0")["valid"]  # the retired key still verifies its own
        assert {p.stem for p in (env / "cache" / "signing-keys").iterdir()} == {old["key_id"], new_key.key_id}

        signing_key_revoke(key_id=old["key_id"], reason="the laptop it lived on was stolen")
        revoked = client.verify_signature("vision/clf@1.0.0")
        assert not revoked["valid"] and "the laptop it lived on was stolen" in revoked["detail"]
        assert client.verify_signature("vision/clf@2.0.0")["valid"]


@pytest.fixture
def verified_inline(monkeypatch):
    """Upload sessions verified in the live server's thread once completion commits (no worker in this module;
    test_client_flow pushes through sessions with a real one)."""
    from django.db import transaction

    from registry.uploads.services import upload_session_verify

    monkeypatch.setattr(
        "registry.uploads.services.task_send_on_commit",
        lambda name, session_id: transaction.on_commit(lambda: upload_session_verify(session_id)),
    )


def test_a_killed_resumable_push_sends_only_the_missing_parts_again(
    env, live_server, team, alice, token, settings, verified_inline, monkeypatch
):
    import httpx

    from marketplace.client import uploads

    part = settings.MODELHUB_UPLOAD_PART_SIZE = 1024 * 1024
    make_asset(alice, team, kind="dataset", slug="rows")
    data = os.urandom(5 * part + 123)
    source = env / "rows.parquet"
    source.write_bytes(data)
    sent: list[tuple[int, int]] = []
    real_send, real_body = uploads.SessionUpload._send, uploads._part_body

    def sending(self, direct, part):
        if kill_at == part["number"]:
            raise KeyboardInterrupt  # as a kill would stop it
        real_send(self, direct, part)
        sent.append((part["number"], part["size"]))

    monkeypatch.setattr(uploads.SessionUpload, "_send", sending)
    kill_at = 4
    with Client(live_server.url, token) as client, pytest.raises(KeyboardInterrupt):
        client.push("vision/rows", "1.0.0", source, resumable=True, wait=False)
    first = {number for number, _ in sent}
    missing = len(data) - sum(size for _, size in sent)
    assert 4 not in first and 1 in first

    cut = []

    def cut_once(path, offset, size, count):
        chunks = real_body(path, offset, size, count)
        if cut:
            return chunks

        def breaking():
            cut.append(offset)
            yield next(chunks)[: size // 2]
            raise httpx.WriteError("the connection dropped")

        return breaking()

    sent.clear()
    kill_at = None
    monkeypatch.setattr(uploads, "_part_body", cut_once)
    with Client(live_server.url, token) as client:
        pushed = client.push("vision/rows", "1.0.0", source, resumable=True, wait=False)
    assert {number for number, _ in sent} == set(range(1, 7)) - first and cut  # the dropped part was sent again
    assert sum(size for _, size in sent) == missing
    assert pushed["sha256"] == hashlib.sha256(data).hexdigest() and pushed["files"][0]["path"] == "rows.parquet"
    assert not json.loads((env / "cache" / ".uploads" / "uploads.json").read_text())  # nothing left to resume


def test_a_model_pushed_through_sessions_keeps_its_input_example(
    env, live_server, team, alice, token, settings, verified_inline
):
    import numpy as np

    from registry.examples.models import InputExample

    settings.MODELHUB_UPLOAD_PART_SIZE = 1024 * 1024
    model = env / "model.onnx"
    model.write_bytes(onnx_bytes(linear_model(800, 900, seed=2)))  # about 2.9 MB: three parts
    example = env / "x.npz"
    np.savez(example, x=np.ones((2, 800), dtype=np.float32))
    with Client(live_server.url, token) as client:
        pushed = client.push(
            "vision/wide", "1.0.0", model, create=True, input_example=example, resumable=True, wait=False
        )
    assert pushed["status"] == "validating" and pushed["files"][0]["path"] == "model.onnx"
    kept = InputExample.objects.get(version__version="1.0.0", version__asset__slug="wide")
    assert [(t["name"], t["datatype"], t["shape"]) for t in kept.tensors] == [("x", "FP32", [2, 800])]
