"""Validation of uploaded versions: claim the work, check the files, record the outcome.

Each version is validated by at most one task at a time. A task claims the version's report with
a conditional update (status still `validating`, and the claim free, its own, or past its lease),
works on local copies of the files outside any transaction, then writes the outcome with a
conditional update that only its own claim satisfies: running a task twice, or two copies of it
at once, records one outcome. The recovery sweep re-sends work whose task was lost.
"""

import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from registry.artifacts.storage import BlobMissing, blob_materialize
from registry.assets.models import AssetKind
from registry.examples.selectors import input_example_stored
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import NotFound
from registry.kernel.events import DomainEvent, Event, publish
from registry.kernel.lib.draining import interruptible
from registry.kernel.lib.jsonsafe import json_safe, json_size, text_safe
from registry.kernel.lib.leases import Heartbeat, claim_lease, unclaimed_grace
from registry.kernel.lib.model_formats import model_format
from registry.kernel.lib.tasks import task_send, task_send_on_commit
from registry.validation.models import DatasetProfile, ValidationOutcome, ValidationReport
from registry.validation.sandbox import ARTIFACT, DATASET, MODEL, SandboxLimits, sandbox_run
from registry.validation.upstream import UPSTREAM_CHECK, upstream_signature_check
from registry.versions.lifecycle import can_transition
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.release import asset_lock, asset_release_refresh

logger = logging.getLogger(__name__)
# Registered under this name by registry.validation.tasks; services send it by name, never import it.
VALIDATE_TASK = "registry.validation.tasks.version_validate_task"
# What one version's validation may store (details and signature together, as JSON), and how long
# a single name taken from a file may be.
MAX_STORED_JSON_BYTES = 256 * 1024
NAME_MAX_BYTES = 256
DOC_STRING_MAX_BYTES = 4096


def validation_enqueue_on_commit(version_id: int) -> None:
    """Send the validation task once the caller's transaction commits; if the broker is down then,
    the recovery sweep sends it later."""
    task_send_on_commit(VALIDATE_TASK, version_id)


def validation_claim(*, version_id: int, task_id: str) -> ValidationReport | None:
    """Claim the validation of a version for `task_id`; None when there is nothing to do.

    A redelivered message (same task id, after a worker was lost) may take its claim back; a
    different task may only take a claim whose lease has run out.
    """
    now = timezone.now()
    claimed = (
        ValidationReport.objects.filter(version_id=version_id, version__status=VersionStatus.VALIDATING)
        .filter(Q(task_id="") | Q(task_id=task_id) | Q(claimed_at__lt=now - claim_lease()))
        .update(task_id=task_id, claimed_at=now, started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    report = ValidationReport.objects.select_related("version__asset").get(version_id=version_id)
    if report.attempts > settings.MODELHUB_VALIDATION_MAX_ATTEMPTS:
        validation_finish(
            version_id=version_id,
            task_id=task_id,
            passed=False,
            failed_check="interrupted",
            reason=f"validation was interrupted {report.attempts - 1} times (the worker was lost or "
            "killed at the time limit); the model may be too large or too slow to check.",
        )
        return None
    return report


def validation_release(*, version_id: int, task_id: str) -> bool:
    """Give a claim back before a retry; a storage retry is not counted as a failed attempt. Returns whether
    `task_id` still held it."""
    return bool(
        ValidationReport.objects.filter(version_id=version_id, task_id=task_id).update(
            task_id="", claimed_at=None, attempts=Case(When(attempts__gt=0, then=F("attempts") - 1), default=0)
        )
    )


def validation_hand_back(*, version_id: int, task_id: str) -> bool:
    """Give the claim back and send the task again, for a worker that is shutting down warm
    (registry.kernel.lib.draining): the next worker takes the job at once, not after a lease, and the interrupted
    attempt is not counted. Returns whether it was handed back; nothing is sent when `task_id` no longer held the
    claim (the job was finished, reset or deleted meanwhile, and is somebody else's)."""
    if not validation_release(version_id=version_id, task_id=task_id):
        return False
    # As the sweep does: the re-sent message is not taken for lost before a worker claims it.
    AssetVersion.objects.filter(pk=version_id, status=VersionStatus.VALIDATING).update(status_changed_at=timezone.now())
    task_send(VALIDATE_TASK, version_id)
    return True


def validation_finish(
    *,
    version_id: int,
    task_id: str,
    passed: bool,
    reason: str,
    failed_check: str = "",
    details: dict | None = None,
    signature: dict | None = None,
    column_profiles: dict | None = None,
) -> bool:
    """Record the outcome if `task_id` still holds the claim. Returns whether it was recorded.

    `column_profiles` ({column: registry.profiles dict}, from a dataset's profile) is stored as the version's
    DatasetProfile in the same transaction: the reference of drift monitoring."""
    now = timezone.now()
    status = VersionStatus.VALIDATED if passed else VersionStatus.INVALID
    assert can_transition(VersionStatus.VALIDATING, status)
    asset_id = AssetVersion.objects.filter(pk=version_id).values_list("asset_id", flat=True).first()
    with transaction.atomic():
        try:
            asset = asset_lock(asset_id)  # before the version: the order of every status change
        except NotFound:
            return False  # deleted with its versions
        report = (
            ValidationReport.objects.select_for_update(of=("self",))
            .filter(version_id=version_id, task_id=task_id, version__status=VersionStatus.VALIDATING)
            .select_related("version__asset__team")
            .first()
        )
        if report is None:
            return False
        report.outcome = ValidationOutcome.PASSED if passed else ValidationOutcome.FAILED
        report.failed_check = failed_check
        report.reason = reason
        report.details = details or {}
        report.finished_at = now
        report.save(update_fields=["outcome", "failed_check", "reason", "details", "finished_at"])
        AssetVersion.objects.filter(pk=version_id, status=VersionStatus.VALIDATING).update(
            status=status, status_changed_at=now, signature=signature, updated_at=now
        )
        if passed and column_profiles:
            DatasetProfile.objects.update_or_create(
                version_id=version_id, defaults={"columns": list(column_profiles.items())}
            )
        asset_release_refresh(asset)
        version = report.version
        action = Event.VERSION_VALIDATED if passed else Event.VERSION_INVALID
        audit_record(
            actor=None,
            action=action,
            target=version,
            team=version.asset.team,
            data={"reason": reason[:500], "failed_check": failed_check},
        )
        publish(
            DomainEvent(
                name=Event.VERSION_VALIDATED if passed else Event.VERSION_INVALID,
                subject=version,
                data={"status": status, "reason": reason[:500]},
            )
        )
    return True


def _sandbox_limits(total_size: int) -> SandboxLimits:
    time_limit = settings.MODELHUB_VALIDATION_TIME_LIMIT
    return SandboxLimits(
        memory_bytes=max(settings.MODELHUB_VALIDATION_MAX_MEMORY, 3 * total_size),
        cpu_seconds=time_limit,
        smoke_seconds=settings.MODELHUB_SMOKE_TIME_LIMIT,
        # Leaves the task time to record the outcome before its own soft time limit.
        wall_seconds=time_limit - min(30, time_limit // 2),
        file_bytes=max(1 << 30, 2 * total_size),
    )


def _example_file(version: AssetVersion, directory: Path) -> tuple[Path | None, dict | None]:
    """The version's input example written as an .npz for the sandbox, and what the report says of it."""
    example = input_example_stored(version_id=version.pk)
    if example is None:
        return None, None
    path = directory / "input_example.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(example.data))
    described = [{"name": t["name"], "datatype": t["datatype"], "shape": t["shape"]} for t in example.tensors]
    return path, {"sha256": example.sha256, "inputs": described}


def _check_files(version: AssetVersion, root: Path, primary: str, *, total_size: int) -> dict:
    """Run the checks for the version's kind in the sandbox; returns the keyword arguments of validation_finish.

    A model's details say which inputs its smoke inference ran on (`smoke_inputs`: "input_example" or
    "generated") and, with an example, which one (`input_example`: its SHA-256 and tensors)."""
    kind = version.asset.kind
    if kind not in (AssetKind.MODEL, AssetKind.DATASET):
        return {"passed": True, "details": {}, "reason": "Stored and hashed; solutions are never executed."}
    if kind == AssetKind.MODEL and model_format(primary) != "onnx":
        return _check_catalogued(root, primary, total_size=total_size)
    example_path, example = _example_file(version, root.parent / "example") if kind == AssetKind.MODEL else (None, None)
    with interruptible():  # a warm shutdown kills the child (sandbox_run's `finally`) and hands the job back
        outcome = sandbox_run(
            MODEL if kind == AssetKind.MODEL else DATASET,
            root / primary,
            root=root,
            filename=primary,
            limits=_sandbox_limits(total_size),
            workdir=root.parent / "sandbox",
            input_example=example_path,
        )
    inputs = {"smoke_inputs": "input_example" if example else "generated", "input_example": example}
    if not outcome["ok"]:
        details = inputs if kind == AssetKind.MODEL else {}
        return {"passed": False, "failed_check": outcome["check"], "reason": outcome["reason"], "details": details}
    if kind == AssetKind.MODEL:
        details = {**outcome["result"], **inputs}
        smoke = details.get("smoke_inference") or {}
        timing = f" in {smoke['seconds'] * 1000:.1f} ms" if isinstance(smoke.get("seconds"), float) else ""
        on = " on the input example" if example and "seconds" in smoke else ""
        signature = {"inputs": details["inputs"], "outputs": details["outputs"]}
        return {
            "passed": True,
            "details": details,
            "signature": signature,
            "reason": f"ONNX checker, shape inference, onnxruntime session and smoke inference{on} passed{timing}.",
        }
    profile = outcome["result"]
    if profile is None:
        return {"passed": True, "details": {}, "reason": "Stored and hashed; this file format is not profiled."}
    # The columns' sketches are stored apart (DatasetProfile), not in the report's bounded details.
    column_profiles = profile.pop("profiles", None) or {}
    return {
        "passed": True,
        "column_profiles": column_profiles,
        "details": {"profile": profile},
        "signature": {"columns": profile["columns"]},
        "reason": f"{profile['format'].upper()} with {profile['column_count']} columns and "
        f"{profile['row_count']} rows.",
    }


def _summary(name: str, found: dict) -> str:
    if found.get("format") == "safetensors":
        return f"{name}: safetensors, {found['tensors']} tensors, {found['parameters']:,} parameters"
    if found.get("format") == "gguf":
        facts = [found.get("architecture"), found.get("quantisation"), found.get("context_length") and
                 f"context {found['context_length']}"]  # fmt: skip
        return f"{name}: GGUF {', '.join(str(f) for f in facts if f)}"
    if "pickle_scan" in found:
        return f"{name}: {found['format']}, pickle scanned ({found['pickle_scan']['imports']} imports)"
    return f"{name}: {found.get('format')}, not inspected"


def _check_catalogued(root: Path, primary: str, *, total_size: int) -> dict:
    """A model in a format Modelhub catalogues but does not serve: every model file read as data in the sandbox
    (headers, a static pickle scan), never loaded. A pickle that would import something dangerous makes the version
    invalid unless MODELHUB_ALLOW_UNSAFE_PICKLES; it is never deployable either way (no ONNX file)."""
    with interruptible():
        outcome = sandbox_run(
            ARTIFACT,
            root / primary,
            root=root,
            filename=primary,
            limits=_sandbox_limits(total_size),
            workdir=root.parent / "sandbox",
        )
    base = {"format": model_format(primary), "deployable": False}
    if not outcome["ok"]:
        return {"passed": False, "failed_check": outcome["check"], "reason": outcome["reason"], "details": base}
    files = outcome["result"]["files"]
    details = {**base, "files": files}
    dangerous = {
        name: f["pickle_scan"]["dangerous"] for name, f in files.items() if f.get("pickle_scan", {}).get("dangerous")
    }
    if dangerous and not settings.MODELHUB_ALLOW_UNSAFE_PICKLES:
        found = "; ".join(f"{name} imports {', '.join(names[:5])}" for name, names in dangerous.items())
        return {
            "passed": False,
            "failed_check": "pickle_scan",
            "reason": f"The pickle scan found imports that run code when unpickled: {found[:900]}. Nothing was "
            "loaded. Upload safetensors or ONNX instead.",
            "details": details,
        }
    warning = " Pickle imports that run code were found and allowed by policy." if dangerous else ""
    summaries = "; ".join(_summary(name, found) for name, found in list(files.items())[:5])
    return {
        "passed": True,
        "details": details,
        "reason": f"Catalogued, not deployable (only ONNX is served): {summaries[:900]}.{warning}",
    }


def _bounded(outcome: dict) -> dict:
    """The outcome with its JSON made storable and small (at most MAX_STORED_JSON_BYTES in all).

    Names come from uploaded files: every string is cut (NAME_MAX_BYTES; the model's doc string
    DOC_STRING_MAX_BYTES), and NUL characters and lone surrogates are replaced. The sources already
    list a bounded number of inputs and columns; if a pathological graph still exceeds the budget,
    the largest parts of the details, then the signature, are left out and the details say so.
    """
    details = dict(outcome.get("details") or {})
    doc_string = details.pop("doc_string", None)
    details = json_safe(details, max_string_bytes=NAME_MAX_BYTES)
    if isinstance(doc_string, str):
        details["doc_string"] = text_safe(doc_string, max_bytes=DOC_STRING_MAX_BYTES)
    signature = json_safe(outcome.get("signature"), max_string_bytes=NAME_MAX_BYTES)
    omitted = []
    for key in sorted(details, key=lambda k: json_size(details[k]), reverse=True):
        if json_size(details) + json_size(signature) <= MAX_STORED_JSON_BYTES:
            break
        del details[key]
        omitted.append(key)
    if json_size(details) + json_size(signature) > MAX_STORED_JSON_BYTES:
        signature = None
        omitted.append("signature")
    if omitted:
        details["omitted"] = {
            "parts": omitted,
            "reason": f"over the {MAX_STORED_JSON_BYTES // 1024} KiB limit on what validation stores per version",
        }
    # Column names are cut as the details cut them (so the two agree); the sketches inside are kept whole.
    column_profiles = {
        text_safe(str(name), max_bytes=NAME_MAX_BYTES): json_safe(profile)
        for name, profile in (outcome.get("column_profiles") or {}).items()
    }
    return {
        **outcome,
        "reason": text_safe(outcome["reason"]),
        "details": details,
        "signature": signature,
        "column_profiles": column_profiles,
    }


def version_validate(*, version_id: int, task_id: str) -> bool:
    """Validate a version's files end to end. Idempotent; returns whether this call recorded an outcome.

    Raises TransientStorageError when storage cannot be read (the task retries); the caller must
    release the claim first. Raises WorkerDraining (registry.kernel.lib.draining) when the worker shuts down warm
    while the files are copied or checked; the caller hands the job back (validation_hand_back).
    """
    report = validation_claim(version_id=version_id, task_id=task_id)
    if report is None:
        logger.info("validation of version %s: nothing to do (finished, or claimed by another task)", version_id)
        return False
    version = report.version
    files = list(version.files.select_related("blob"))
    primary = next(f.path for f in files if f.is_primary)

    def renew() -> int:
        return ValidationReport.objects.filter(
            version_id=version_id, task_id=task_id, outcome=ValidationOutcome.PENDING
        ).update(claimed_at=timezone.now())

    with (
        Heartbeat(renew, name=f"validation of version {version_id}"),
        tempfile.TemporaryDirectory(prefix="validate-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp,
    ):
        root = Path(tmp) / "files"
        try:
            with interruptible():
                for version_file in files:
                    blob_materialize(version_file.blob, root / version_file.path)
        except BlobMissing as exc:
            return validation_finish(
                version_id=version_id, task_id=task_id, passed=False, failed_check="storage", reason=str(exc)
            )
        with interruptible():  # hashes the files only (never loads them), here rather than in the sandbox
            upstream = upstream_signature_check(root, scratch=Path(tmp) / "upstream")
        if upstream is not None and not upstream["verified"]:
            outcome = {"passed": False, "failed_check": UPSTREAM_CHECK, "reason": upstream["reason"]}
            return validation_finish(
                version_id=version_id, task_id=task_id, **_bounded({**outcome, "details": {UPSTREAM_CHECK: upstream}})
            )
        outcome = _check_files(version, root, primary, total_size=sum(f.blob.size for f in files))
    if upstream is not None:
        outcome["details"] = {**(outcome.get("details") or {}), UPSTREAM_CHECK: upstream}
    return validation_finish(version_id=version_id, task_id=task_id, **_bounded(outcome))


# The checks a version may pass with another input example: validating it again after its example changed is
# worth it only when it failed one of these.
EXAMPLE_CHECKS = frozenset({"input_example", "smoke_inference"})


def validation_restart(*, version_id: int, failed_checks=EXAMPLE_CHECKS) -> bool:
    """Validate an invalid version again if it failed one of `failed_checks` (its input example changed).

    In the caller's transaction, which must hold the version's asset lock (registry.versions.release's order:
    the asset, then the version): the version goes back to `validating` with a fresh pending report, and the
    task is sent once that commits. Returns whether validation restarted; a no-op for any other version.
    """
    report = (
        ValidationReport.objects.select_for_update(of=("self",))
        .filter(version_id=version_id, version__status=VersionStatus.INVALID, failed_check__in=failed_checks)
        .select_related("version")
        .first()
    )
    if report is None:
        return False
    assert can_transition(VersionStatus.INVALID, VersionStatus.VALIDATING)
    now = timezone.now()
    AssetVersion.objects.filter(pk=version_id, status=VersionStatus.INVALID).update(
        status=VersionStatus.VALIDATING, status_changed_at=now, signature=None, updated_at=now
    )
    ValidationReport.objects.filter(pk=report.pk).update(
        outcome=ValidationOutcome.PENDING,
        failed_check="",
        reason="",
        details={},
        attempts=0,
        task_id="",
        claimed_at=None,
        started_at=None,
        finished_at=None,
    )
    asset_release_refresh(asset_lock(report.version.asset_id))
    validation_enqueue_on_commit(version_id)
    return True


def validations_recover_stalled(*, now=None) -> list[int]:
    """Re-send validations whose task was lost (never claimed, or claim past its lease).

    Safe to run concurrently with workers and with itself: each re-send first resets the claim
    with a conditional update, and the task's own claim check stops a duplicate.
    """
    now = now or timezone.now()
    stalled = (
        ValidationReport.objects.filter(version__status=VersionStatus.VALIDATING)
        .filter(
            Q(claimed_at__isnull=True, version__status_changed_at__lt=now - unclaimed_grace())
            | Q(claimed_at__lt=now - claim_lease())
        )
        .values_list("pk", "version_id", "claimed_at")
    )
    resent = []
    for pk, version_id, claimed_at in stalled:
        reset = ValidationReport.objects.filter(pk=pk, claimed_at=claimed_at).update(task_id="", claimed_at=None)
        if reset:
            # Pushed forward so the same version is not re-sent again before the new task claims it.
            AssetVersion.objects.filter(pk=version_id, status=VersionStatus.VALIDATING).update(status_changed_at=now)
            task_send(VALIDATE_TASK, version_id)
            resent.append(version_id)
    if resent:
        logger.warning("re-sent stalled validations for versions %s", resent)
    return resent
