"""The Python client of Modelhub's REST API: `from marketplace.client import Client`.

Imports nothing of Django, the ORM or onnxruntime (import-linter holds it to that), so it installs on its own
(`pip install ./deploy/client`) with httpx, click, tqdm, filelock and platformdirs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

import httpx

from marketplace.client import cache, downloads, uploads, v2
from marketplace.client.config import cache_dir, credentials_load
from marketplace.client.errors import BadRef, ModelhubError, Unreachable, error_from

_REF = re.compile(r"^(?P<team>[a-z0-9][a-z0-9-]*)/(?P<asset>[a-z0-9][a-z0-9-]*)(?:@(?P<revision>[A-Za-z0-9.+_-]+))?$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+")
# push sends files through resumable upload sessions past this total size (one streamed request below it).
RESUMABLE_FROM = 256 * 1024**2


@dataclass(frozen=True)
class Ref:
    team: str
    asset: str
    revision: str | None

    @property
    def slug(self) -> str:
        return f"{self.team}/{self.asset}"

    @property
    def is_version(self) -> bool:
        return bool(self.revision and _VERSION.match(self.revision))


def parse_ref(text: str) -> Ref:
    """`team/asset`, `team/asset@1.2.0` (a version) or `team/asset@production` (an alias)."""
    found = _REF.match(text or "")
    if not found:
        raise BadRef(f"'{text}' is not team/asset[@version|@alias] (for example demo-lab/iris-logreg@production).")
    return Ref(found["team"], found["asset"], found["revision"])


class Client:
    """Modelhub over HTTP. `url` and `token` default to MODELHUB_URL / MODELHUB_TOKEN, then `modelhub login`'s file."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        cache_folder: str | Path | None = None,
        timeout: float = 60.0,
        progress: bool = False,
        offline: bool | None = None,
    ):
        credentials = credentials_load(url, token)
        self.url, self.token = credentials.url, credentials.token
        self.cache_folder = Path(cache_folder) if cache_folder else cache_dir()
        self.progress = progress
        self.offline = offline if offline is not None else os.environ.get("MODELHUB_OFFLINE", "") not in ("", "0")
        headers = {"User-Agent": "modelhub-client"}
        self.timeout = timeout
        self._credentials = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(self._credentials)
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------- plumbing

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url} did not answer ({type(exc).__name__}: {exc})") from None
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kwargs):
        return self._request(method, path, **kwargs).json()

    # ------------------------------------------------------------------------------------------- reading

    def whoami(self) -> dict:
        """The token's owner and teams (what `modelhub login` checks a token with)."""
        return self._json("GET", "/api/v1/teams/")

    def search(self, query: str = "", *, kind: str | None = None, limit: int = 20) -> list[dict]:
        """Assets matching `query` (full-text, as the catalogue searches), best first."""
        params = {"q": query, "page_size": limit}
        if kind:
            params["kind"] = kind
        body = self._json("GET", "/api/v1/assets/", params=params)
        return body.get("results", body) if isinstance(body, dict) else body

    def show(self, ref: str | Ref) -> dict:
        """The asset (`team/asset`), or one version of it (`@1.2.0`, `@production`)."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        if ref.revision is None:
            return self._json("GET", f"/api/v1/assets/{ref.slug}/")
        return self._json("GET", self._version_path(ref))

    @staticmethod
    def _version_path(ref: Ref) -> str:
        if ref.is_version:
            return f"/api/v1/assets/{ref.slug}/versions/{ref.revision}/"
        return f"/api/v1/assets/{ref.slug}/versions/@{ref.revision}/"

    # ------------------------------------------------------------------------------------------- pulling

    def pull(self, ref: str | Ref, *, to: str | Path | None = None) -> Path:
        """Every file of a version into the cache (each blob checked against its SHA-256, resumed when a transfer
        broke off, downloaded once however many processes pull it), and the folder of the version's snapshot; with
        `to`, the files are also copied there. Without the server (unreachable, or MODELHUB_OFFLINE=1), the
        snapshot a ref last resolved to is used if it is complete. `@production` is the default revision."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        revision = ref.revision or "production"
        folder = cache.repo_folder(self.cache_folder, ref.team, ref.asset)
        try:
            if self.offline:
                raise Unreachable("offline mode (MODELHUB_OFFLINE)")
            version = self._json("GET", self._version_path(Ref(ref.team, ref.asset, revision)))
        except Unreachable as exc:
            snapshot = self._offline_snapshot(folder, revision)
            if snapshot is None:
                raise Unreachable(f"{exc}; and {ref.slug}@{revision} is not in the cache") from None
            print(f"modelhub: {exc}; using the cached {snapshot.name}", file=sys.stderr)
            return self._copy_to(snapshot, to)
        for file in version["files"]:
            self._pull_file(folder, file)
            cache.snapshot_link(folder, version["version"], file["path"], file["sha256"])
        cache.ref_write(folder, revision, version["version"])
        snapshot = folder / "snapshots" / version["version"]
        (snapshot / ".modelhub-complete").write_text("\n".join(f["path"] for f in version["files"]))
        return self._copy_to(snapshot, to)

    def _pull_file(self, folder: Path, file: dict) -> Path:
        url = file["download_url"]

        def fetch(offset: int):
            try:
                download = downloads.open_download(
                    url,
                    offset=offset,
                    credentials=self._credentials,
                    origin=self.url,
                    timeout=self.timeout,
                    chunk=cache.CHUNK,
                )
            except downloads.DownloadError as exc:
                raise error_from(exc.status, exc.reason, exc.body) from None
            except (OSError, HTTPException) as exc:
                raise Unreachable(f"{self.url} did not answer ({type(exc).__name__}: {exc})") from None

            def chunks():
                try:
                    yield from download.chunks
                except (OSError, HTTPException) as exc:
                    raise Unreachable(
                        f"the transfer of {file['path']} broke off ({type(exc).__name__}: {exc}); pull again to resume"
                    ) from None

            return download.status == 206, chunks()

        with _Progress(file["path"], file["size"], enabled=self.progress) as bar:
            return cache.blob_fetch(folder, file["sha256"], file["size"], fetch, progress=bar.update)

    @staticmethod
    def _offline_snapshot(folder: Path, revision: str) -> Path | None:
        version = revision if _VERSION.match(revision) else cache.ref_read(folder, revision)
        snapshot = folder / "snapshots" / version if version else None
        if snapshot is None or not (snapshot / ".modelhub-complete").exists():
            return None
        for path in (snapshot / ".modelhub-complete").read_text().splitlines():
            if not (snapshot / path).exists():
                return None
        return snapshot

    @staticmethod
    def _copy_to(snapshot: Path, to: str | Path | None) -> Path:
        if to is None:
            return snapshot
        target = Path(to)
        for source in snapshot.rglob("*"):
            if source.is_dir() or source.name == ".modelhub-complete":
                continue
            destination = target / source.relative_to(snapshot)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)  # follows the link: the bytes, not the link
        return target

    # ------------------------------------------------------------------------------------------- trust

    def verify_signature(self, ref: str | Ref) -> dict:
        """Check a pulled version's approval signature offline: its files in the cache plus its approval record,
        against the organisation key that made it (OpenSSF model signing; needs the `model-signing` package).

        The signature names its key (`X-Key-Id`: the sha256 of the public key), so keys rotate without breaking
        older signatures; each key is kept in the cache under its id once fetched, and a key the server sends is
        taken only if it hashes to that id, so a kept key is never replaced. A key the organisation revoked fails
        with its reason. The signature, the record and the key id are kept too, so a later check needs no server.
        Returns {"valid", "detail", "version", "key_id"}."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        snapshot = self.pull(ref)
        version = snapshot.name
        folder = cache.repo_folder(self.cache_folder, ref.team, ref.asset)
        kept = folder / "signatures" / version
        key = None
        try:
            if self.offline:
                raise Unreachable("offline mode (MODELHUB_OFFLINE)")
            base = f"/api/v1/assets/{ref.slug}/versions/{version}"
            signed = self._request("GET", f"{base}/signature")
            bundle, key_id = signed.content, signed.headers.get("X-Key-Id", "")
            approval = self._request("GET", f"{base}/approval").content
            if not re.fullmatch(r"[0-9a-f]{64}", key_id):
                return {"valid": False, "version": version, "key_id": None, "detail": "the signature names no key"}
            key = self._json("GET", f"/api/v1/signing-keys/{key_id}")
            kept.mkdir(parents=True, exist_ok=True)
            (kept / "bundle.sig").write_bytes(bundle)
            (kept / "approval.json").write_bytes(approval)
            (kept / "key-id").write_text(key_id)
        except Unreachable:
            if not (kept / "bundle.sig").exists():
                raise
            bundle, approval = (kept / "bundle.sig").read_bytes(), (kept / "approval.json").read_bytes()
            key_id = (kept / "key-id").read_text().strip() if (kept / "key-id").exists() else ""

        def refused(detail: str) -> dict:
            return {"valid": False, "version": version, "key_id": key_id or None, "detail": detail}

        if key is not None and key.get("status") == "revoked":
            return refused(
                f"signed with key {key_id[:16]}, revoked at {key.get('revoked_at')}: {key.get('revoked_reason')}"
            )
        pinned = self.cache_folder / "signing-keys" / f"{key_id}.pem"
        if key is not None and not pinned.exists():
            pem = key.get("public_key_pem", "").encode()
            if _public_key_id(pem) != key_id:
                return refused(f"the server sent a key that is not {key_id[:16]} (its sha256 differs)")
            pinned.parent.mkdir(parents=True, exist_ok=True)
            pinned.write_bytes(pem)
        if not pinned.exists():
            return refused(f"the key {key_id[:16] or '(unknown)'} is not in the cache; check once online")
        problem = _verify_bundle(snapshot, approval, bundle, pinned)
        detail = problem or f"the approval signature verifies the files and approval record of {version}"
        return {"valid": problem is None, "version": version, "key_id": key_id, "detail": detail}

    # ------------------------------------------------------------------------------------------- writing

    def create_asset(self, ref: str | Ref, *, kind: str = "model", name: str | None = None, **fields) -> dict:
        """A new asset `team/asset` (members of the team); `fields`: summary, description, license, tags, ..."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        body = {
            "team": ref.team,
            "slug": ref.asset,
            "kind": kind,
            "name": name or ref.asset.replace("-", " "),
            **fields,
        }
        return self._json("POST", "/api/v1/assets/", json=body)

    def push(
        self,
        ref: str | Ref,
        version: str,
        path: str | Path,
        *,
        card: str | Path | None = None,
        lineage: list[str] | None = None,
        metadata: dict | None = None,
        create: bool = False,
        kind: str = "model",
        license: str | None = None,
        input_example: str | Path | None = None,
        resumable: bool | None = None,
        wait: bool = True,
        timeout: float = 900,
    ) -> dict:
        """Upload `path` (a file, or a folder: one .onnx and its external data) as `version` of the asset; with
        `create`, the asset is made on first push, with `license` (SPDX). `lineage`: "trained_on=team/data@1.0.0"
        entries. `card`: a README.md (Hugging Face model card). `input_example`: an .npz of named arrays or a .json
        of V2 inputs, for validation's smoke inference and the portal's examples.

        `resumable` (default: when the files hold more than RESUMABLE_FROM bytes): each file through an upload
        session, in parts, resumed where it stopped when the same push runs again; otherwise one streamed request
        (a folder as a zip) with its SHA-256 checked by the server. With `wait`, returns once validation is done;
        raises ModelhubError if the version is invalid."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        source = Path(path)
        if not source.exists():
            raise ModelhubError(f"{source} does not exist.")
        if create:
            try:
                self.show(Ref(ref.team, ref.asset, None))
            except ModelhubError as exc:
                if exc.status != 404:
                    raise
                self.create_asset(ref, kind=kind, **({"license": license} if license else {}))
        files = _files_of(source)
        if resumable is None:
            resumable = sum(file.stat().st_size for _, file in files) > RESUMABLE_FROM
        edges = [_lineage_edge(entry) for entry in lineage or []]
        example = Path(input_example) if input_example is not None else None
        if resumable:
            created = self._push_in_sessions(ref, version, files, metadata=metadata, lineage=edges, example=example)
        else:
            created = self._push_in_one_request(ref, version, source, metadata=metadata, lineage=edges, example=example)
        if card is not None:
            self._request(
                "PUT",
                f"/api/v1/assets/{ref.slug}/versions/{version}/card/readme",
                content=Path(card).read_bytes(),
                headers={"Content-Type": "text/markdown; charset=utf-8"},
            )
        return self.wait_validated(Ref(ref.team, ref.asset, version), timeout=timeout) if wait else created

    def _push_in_one_request(self, ref: Ref, version: str, source: Path, *, metadata, lineage, example) -> dict:
        with tempfile.TemporaryDirectory() as scratch:
            upload = _zip_folder(source, Path(scratch)) if source.is_dir() else source
            fields = {"version": version}
            if metadata:
                fields["metadata"] = json.dumps(metadata)
            if lineage:
                fields["lineage"] = json.dumps(lineage)
            with _Progress(upload.name, upload.stat().st_size, enabled=self.progress) as bar:
                body = _MultipartUpload(fields, upload, example=example, progress=bar.update)
                return self._json(
                    "POST",
                    f"/api/v1/assets/{ref.slug}/versions/",
                    content=body,
                    headers={"Content-Type": body.content_type, "Content-Length": str(len(body))},
                )

    def _push_in_sessions(self, ref: Ref, version: str, files, *, metadata, lineage, example) -> dict:
        state = uploads.SessionState(self.cache_folder / ".uploads")
        sent = []
        for relative, file in files:
            with _Progress(relative, file.stat().st_size, enabled=self.progress) as bar:
                upload = uploads.SessionUpload(self._http, ref.slug, file, state, progress=bar.update)
                try:
                    session_id = upload.run()
                except httpx.TransportError as exc:
                    raise Unreachable(f"{self.url} did not answer ({type(exc).__name__}: {exc})") from None
            sent.append((upload, {"path": relative, "upload": session_id}))
        body = {"version": version, "files": [entry for _, entry in sent]}
        if metadata:
            body["metadata"] = metadata
        if lineage:
            body["lineage"] = lineage
        if example is not None:
            body["input_example"] = example_to_v2(example)
        created = self._json("POST", f"/api/v1/assets/{ref.slug}/versions/", json=body)
        for upload, _ in sent:
            upload.forget()
        return created

    def wait_validated(self, ref: str | Ref, *, timeout: float = 900) -> dict:
        """The version once validation has decided; ModelhubError (with the report's reason) when it is invalid."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        version = _poll(lambda: self.show(ref), lambda v: v["status"] != "validating", timeout, "validation")
        if version["status"] == "invalid":
            reason = (version.get("validation") or {}).get("reason") or "see its validation report"
            raise ModelhubError(f"{ref.slug} {ref.revision} is invalid: {reason}", status=422)
        return version

    def submit(self, ref: str | Ref, *, note: str = "") -> dict:
        """Submit a validated version for release review (opens a round under the team's policy)."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        version = self.show(ref)["version"]
        return self._json("POST", f"/api/v1/assets/{ref.slug}/versions/{version}/submit", json={"note": note})

    def deploy(
        self,
        ref: str | Ref,
        *,
        team: str | None = None,
        name: str | None = None,
        wait: bool = True,
        timeout: float = 600,
    ) -> dict:
        """An endpoint of an approved version (`@1.2.0`) or of an alias it then follows (`@production`, the default)
        for `team` (default: the asset's team). With `wait`, returns once it is ready (ModelhubError with the reason
        when it fails); the answer carries `url` and the endpoint's first `key` (shown once)."""
        ref = parse_ref(ref) if isinstance(ref, str) else ref
        body = {"team": team or ref.team, "asset": ref.slug}
        revision = ref.revision or "production"
        body["version" if Ref(ref.team, ref.asset, revision).is_version else "alias"] = revision
        if name:
            body["name"] = name
        created = self._json("POST", "/api/v1/endpoints/", json=body)
        if not wait:
            return created
        settled = _poll(
            lambda: self._json("GET", f"/api/v1/endpoints/{created['id']}/"),
            lambda e: e["status"] in ("ready", "failed"),
            timeout,
            "the endpoint",
        )
        if settled["status"] == "failed":
            raise ModelhubError(f"Endpoint {settled['name']} failed: {settled['status_reason']}", status=409)
        return {**settled, "key": created["key"]}

    def endpoints(self) -> list[dict]:
        body = self._json("GET", "/api/v1/endpoints/", params={"page_size": 100})
        return body.get("results", body) if isinstance(body, dict) else body

    def endpoint(self, endpoint: str | int) -> dict:
        """One of your teams' endpoints, by id or name."""
        if isinstance(endpoint, int) or str(endpoint).isdigit():
            return self._json("GET", f"/api/v1/endpoints/{endpoint}/")
        found = next((e for e in self.endpoints() if e["name"] == endpoint), None)
        if found is None:
            raise ModelhubError(f"You have no endpoint named '{endpoint}'.", status=404)
        return self._json("GET", f"/api/v1/endpoints/{found['id']}/")

    def predict(self, endpoint: str | int | dict, inputs: dict, *, key: str | None = None) -> dict:
        """Call an endpoint over V2: `inputs` is {name: numpy array} (sent as binary tensors) or a V2 JSON document;
        the key defaults to MODELHUB_ENDPOINT_KEY, then your API token (members' tokens may call it). Returns
        {output name: array or list, "id": the request id (for ground truth later)}. `endpoint` is an id, a name, or
        an endpoint as `endpoint()` returns it."""
        url = (endpoint if isinstance(endpoint, dict) else self.endpoint(endpoint))["url"]
        if not url:
            raise ModelhubError(f"Endpoint {endpoint} has no URL yet: it is not ready.", status=409)
        if not isinstance(inputs, dict) or not inputs:
            raise ModelhubError("inputs is {name: array} or a V2 document with an `inputs` list.")
        body, headers = v2.encode(inputs)
        credential = key or os.environ.get("MODELHUB_ENDPOINT_KEY") or self.token
        headers["Authorization"] = f"Bearer {credential}"
        try:
            response = httpx.post(f"{url}/infer", content=body, headers=headers, timeout=self._http.timeout)
        except httpx.TransportError as exc:
            raise Unreachable(f"{url} did not answer ({type(exc).__name__}: {exc})") from None
        if response.status_code >= 400:
            raise _error(response)
        return v2.decode(response.content, response.headers)

    def monitoring(self, endpoint: str | int) -> dict:
        """The endpoint's health, reference, drift, performance and alarms (GET .../monitoring)."""
        return self._json("GET", f"/api/v1/endpoints/{self.endpoint(endpoint)['id']}/monitoring")

    def log_model(
        self,
        model,
        ref: str | Ref,
        *,
        version: str,
        card: str | Path | None = None,
        trained_on: str | None = None,
        input_example=None,
        metadata: dict | None = None,
        create: bool = True,
        license: str | None = None,
        wait: bool = True,
    ) -> dict:
        """What MLflow users write at the end of a training script: push `model` as `version` of `ref`. `model` is
        an ONNX ModelProto, ONNX bytes, a path, or a scikit-learn estimator (converted with skl2onnx, plain tensor
        outputs; `input_example` gives its input width and type). `trained_on`: "team/data@1.0.0".

        `input_example` is also stored with the version (validation's smoke inference and the portal's examples
        use it): {input name: array}, an array (for a model with one input), or the path of an .npz or .json."""
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "model.onnx"
            input_name = "input"
            if isinstance(model, str | Path):
                path = Path(model)
                input_name = None
            elif isinstance(model, bytes | bytearray):
                path.write_bytes(model)
                input_name = None
            elif hasattr(model, "SerializeToString"):
                path.write_bytes(model.SerializeToString())
                input_name = model.graph.input[0].name if len(model.graph.input) == 1 else None
            else:
                path.write_bytes(sklearn_to_onnx(model, input_example))
            example = _example_file(input_example, input_name, Path(scratch))
            return self.push(
                ref,
                version,
                path,
                card=card,
                lineage=[f"trained_on={trained_on}"] if trained_on else None,
                metadata=metadata,
                create=create,
                license=license,
                input_example=example,
                wait=wait,
            )


def _example_file(example, input_name: str | None, scratch: Path) -> Path | None:
    """An input example as a file to send: as it is (a path), else an .npz of {name: array}."""
    if example is None or isinstance(example, str | Path):
        return Path(example) if example is not None else None
    import numpy as np

    if not isinstance(example, dict):
        if input_name is None:
            raise ModelhubError("Give input_example as {input name: array} (the model's input name is not known).")
        example = {input_name: example}
    arrays = {name: np.asarray(value) for name, value in example.items()}
    if input_name == "input" and arrays["input"].dtype == np.float64:  # as sklearn_to_onnx typed the input
        arrays["input"] = arrays["input"].astype(np.float32)
    target = scratch / "input_example.npz"
    np.savez(target, **arrays)
    return target


def _public_key_id(pem: bytes) -> str | None:
    """sha256 of a PEM public key's DER encoding (what Modelhub calls its key id); None for what is not one."""
    from cryptography.hazmat.primitives import serialization  # beside model-signing, which needs it

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        return None
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _verify_bundle(snapshot: Path, approval: bytes, bundle: bytes, key: Path) -> str | None:
    """None when `bundle` signs the snapshot's files plus `approval` (as modelhub-approval.json) with `key`."""
    try:
        import model_signing
    except ImportError:
        raise ModelhubError(
            "Checking signatures needs the model-signing package (pip install model-signing)."
        ) from None
    with tempfile.TemporaryDirectory(prefix="modelhub-verify-") as scratch:
        root = Path(scratch) / "version"
        for source in snapshot.rglob("*"):
            if source.is_dir() or source.name == ".modelhub-complete":
                continue
            target = root / source.relative_to(snapshot)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source.resolve(), target)  # the cached blob itself, not a copy
            except OSError:
                shutil.copyfile(source, target)
        (root / "modelhub-approval.json").write_bytes(approval)
        signature = Path(scratch) / "bundle.sig"
        signature.write_bytes(bundle)
        try:
            model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key).verify(root, signature)
        except Exception as exc:  # the library raises ValueError and others for a mismatch
            return " ".join(str(exc).split())[:500] or type(exc).__name__
    return None


def sklearn_to_onnx(estimator, input_example) -> bytes:
    """A fitted scikit-learn estimator as ONNX bytes (skl2onnx, opset 17, `zipmap` off: plain `label` and
    `probabilities` tensors), its input named `input` with the example's width and type (float32 by default)."""
    if input_example is None:
        raise ModelhubError("Give input_example (an array of a few rows) to convert a scikit-learn model.")
    import numpy as np
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import guess_data_type

    example = np.asarray(input_example)
    if example.dtype == np.float64:
        example = example.astype(np.float32)
    (_, tensor_type), *_ = guess_data_type(example[:1])
    tensor_type.shape = [None, *example.shape[1:]]
    options = {"zipmap": False} if hasattr(estimator, "predict_proba") else None
    return to_onnx(
        estimator, initial_types=[("input", tensor_type)], options=options, target_opset=17
    ).SerializeToString()


def _files_of(source: Path) -> list[tuple[str, Path]]:
    """(path in the version, local file) of a file or of every file in a folder."""
    if source.is_dir():
        return [(file.relative_to(source).as_posix(), file) for file in sorted(source.rglob("*")) if file.is_file()]
    return [(source.name, source)]


def example_to_v2(path: Path) -> dict:
    """An input example as V2 inputs: a .json of them as it is, an .npz of named arrays converted (numpy needed)."""
    if path.suffix.lower() == ".json":
        return json.loads(path.read_text())
    import numpy

    with numpy.load(path, allow_pickle=False) as arrays:
        return {"inputs": [v2.tensor_json(name, arrays[name]) for name in arrays.files]}


def _zip_folder(folder: Path, scratch: Path) -> Path:
    target = scratch / f"{folder.name or 'model'}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(folder).as_posix())
    return target


def _lineage_edge(entry: str) -> dict:
    kind, _, target = entry.partition("=")
    ref = parse_ref(target)
    if not kind or not ref.revision:
        raise BadRef(f"lineage '{entry}' is kind=team/asset@version (for example trained_on=team/data@1.0.0).")
    return {"kind": kind, "asset": ref.slug, "version": ref.revision}


def _poll(read, done, timeout: float, what: str):
    deadline, delay = time.monotonic() + timeout, 0.25
    while True:
        current = read()
        if done(current):
            return current
        if time.monotonic() > deadline:
            raise ModelhubError(f"Gave up waiting for {what} after {timeout:.0f} s.", status=None)
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


class _MultipartUpload:
    """A multipart/form-data body streamed from the file: the fields, the file, then its `sha256` (the server refuses
    the upload if it differs), hashed on a thread of its own while the bytes go out, so the file is read once."""

    def __init__(self, fields: dict[str, str], path: Path, *, example: Path | None = None, progress=None):
        self.boundary = f"modelhub-{os.urandom(12).hex()}"
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self._path, self._progress, self._size = path, progress, path.stat().st_size
        self._head = (
            b"".join(self._field(name, value) for name, value in fields.items())
            + (self._file("input_example", example.name, example.read_bytes()) if example is not None else b"")
            + (
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quoted(path.name)}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
        )

    def _file(self, name: str, filename: str, data: bytes) -> bytes:
        return (
            (
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{_quoted(filename)}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )

    def _field(self, name: str, value: str) -> bytes:
        return f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()

    def _tail(self, sha256: str) -> bytes:
        return b"\r\n" + self._field("sha256", sha256) + f"--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail("0" * 64))

    def __iter__(self):
        yield self._head
        digest, sent = hashlib.sha256(), 0
        with open(self._path, "rb") as file, cache.Pipeline(digest.update) as hashing:
            while chunk := file.read(cache.CHUNK):
                hashing.put(chunk)
                yield chunk
                sent += len(chunk)
                if self._progress is not None:
                    self._progress(sent, self._size)
        yield self._tail(digest.hexdigest())


def _quoted(name: str) -> str:
    return name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")


def _error(response: httpx.Response) -> ModelhubError:
    return error_from(response.status_code, response.reason_phrase, response.content)


class _Progress:
    """A tqdm bar on stderr for one transfer, or nothing."""

    def __init__(self, label: str, total: int, *, enabled: bool):
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr)

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
