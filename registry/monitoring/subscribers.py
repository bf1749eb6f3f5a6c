"""Monitoring follows validation (registry.kernel.events): a validated model version's feature map is checked."""

from registry.kernel.events import DomainEvent, Event, subscribe
from registry.lineage.models import LineageKind
from registry.monitoring.evaluation import version_feature_map
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
    edge = version.lineage_out.filter(kind=LineageKind.TRAINED_ON).select_related("target").order_by("pk").first()
    # A dataset version's signature lists its columns in the file's order.
    columns = ((edge.target.signature or {}).get("columns") if edge is not None else None) or None
    names = [c.get("name") for c in columns if isinstance(c, dict)] if columns else None
    feature_map = version_feature_map(version, signature=version.signature or {}, dataset_columns=names)
    report = ValidationReport.objects.filter(version=version).first()
    if report is not None:
        report.details = {**(report.details or {}), "feature_map": feature_map.as_dict()}
        report.save(update_fields=["details"])
