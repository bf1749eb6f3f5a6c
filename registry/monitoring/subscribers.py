"""Monitoring follows validation and cards (registry.kernel.events): a model version's feature map is checked when
it validates, and when its card states one."""

from registry.kernel.events import DomainEvent, Event, subscribe
from registry.lineage.models import LineageKind
from registry.monitoring.evaluation import version_feature_map
from registry.monitoring.features import feature_map_parse
from registry.validation.models import ValidationReport
from registry.versions.models import AssetVersion


@subscribe(DomainEvent)
def check_the_feature_map(event: DomainEvent) -> None:
    """Record in the validation report which dataset column each input column is: the stated map checked against
    the ONNX signature and the `trained_on` dataset's columns, or the inferred one, and why (in the same
    transaction as the outcome). A stated map that does not fit is reported, not fatal: lineage may be fixed
    later, and monitoring then falls back to the inferred map and says so."""
    if event.name != Event.VERSION_VALIDATED:
        return
    version = AssetVersion.objects.select_related("asset", "card").filter(pk=event.subject.pk).first()
    if version is None or version.asset.kind != "model":
        return
    feature_map = version_feature_map(version, signature=version.signature or {}, dataset_columns=_columns(version))
    report = ValidationReport.objects.filter(version=version).first()
    if report is not None:
        report.details = {**(report.details or {}), "feature_map": feature_map.as_dict()}
        report.save(update_fields=["details"])


@subscribe(DomainEvent)
def refuse_a_card_feature_map_that_does_not_fit(event: DomainEvent) -> None:
    """A card edited with a `feature_map` in its front matter: checked against the model's signature and the
    `trained_on` dataset's columns once the version has a signature (InvalidInput, a 400, otherwise: the edit is
    rolled back), then recorded in the validation report as validation records it."""
    if event.name != Event.CARD_UPDATED or "feature_map" not in (event.data.get("extra") or {}):
        return
    version = AssetVersion.objects.select_related("asset").filter(pk=event.subject.pk).first()
    if version is None or version.asset.kind != "model" or not version.signature:
        return  # validation checks it once the signature is known
    stated = feature_map_parse(
        event.data["extra"]["feature_map"], signature=version.signature, dataset_columns=_columns(version)
    )
    report = ValidationReport.objects.filter(version=version).first()
    if report is not None:
        report.details = {**(report.details or {}), "feature_map": stated.as_dict()}
        report.save(update_fields=["details"])


def _columns(version) -> list[str] | None:
    """The columns of the version's `trained_on` dataset version, in the file's order (its signature lists them)."""
    edge = version.lineage_out.filter(kind=LineageKind.TRAINED_ON).select_related("target").order_by("pk").first()
    columns = ((edge.target.signature or {}).get("columns") if edge is not None else None) or None
    return [c.get("name") for c in columns if isinstance(c, dict)] if columns else None
