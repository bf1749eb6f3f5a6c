"""A version's bill of materials: a CycloneDX 1.6 ML-BOM (JSON), built from what the registry knows.

A model version is a `machine-learning-model` component: its files with their SHA-256, its licence, its model card
as `modelCard` (the ONNX signature and the card's datasets as model parameters, the card's `model-index` results as
performance metrics, its intended use, caveats and ethical considerations as considerations), and the approval
signature as a `digital-signature` reference with its key id. The dataset versions it was trained on (lineage
`trained_on`) and the models it derives from are components too, linked in `dependencies`. A solution version is
the BOM's `application`; every model and dataset version it uses is a component, each with its own upstream.

Only what the caller may see goes in: a lineage neighbour in a private asset of another team is left out, as the
lineage graph leaves it out. The BOM is read, never stored: each request builds it from the current rows (approved
versions' cards and files are frozen, so an approved version's BOM only changes with its lineage).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.utils import timezone

from registry.assets.models import AssetKind
from registry.cards.sections import MODEL_SECTIONS
from registry.cards.selectors import card_get
from registry.governance.models import VersionSignature
from registry.kernel.access import Permission, restrict
from registry.lineage.models import LineageEdge, LineageKind
from registry.versions.models import AssetVersion

SPEC_VERSION = "1.6"
MAX_COMPONENTS = 500  # a solution of hundreds of models is a BOM of hundreds of components: bound the walk
_COMPONENT_TYPES = {
    AssetKind.MODEL: "machine-learning-model",
    AssetKind.DATASET: "data",
    AssetKind.SOLUTION: "application",
}


def bom_ref(version: AssetVersion) -> str:
    return f"{version.asset.full_slug}@{version.version}"


def _purl(version: AssetVersion) -> str:
    # No purl type exists for a model registry; `generic` with the registry's namespace is what the spec suggests.
    return f"pkg:generic/{version.asset.team.slug}/{version.asset.slug}@{version.version}?repository_url=modelhub"


def _lines(text: str) -> list[str]:
    """A card section as a list of statements: its non-empty lines, bullets stripped."""
    items = [line.strip().lstrip("-*").strip() for line in (text or "").splitlines()]
    return [item for item in items if item][:50]


def _tensor_formats(tensors: list[dict] | None) -> list[dict]:
    return [
        {"format": f"{t.get('name', '?')}: {t.get('dtype', '?')} [{', '.join(str(d) for d in t.get('shape') or [])}]"}
        for t in tensors or []
    ]


def _performance_metrics(model_index: list) -> list[dict]:
    metrics = []
    for entry in model_index or []:
        for result in (entry or {}).get("results", []) if isinstance(entry, dict) else []:
            if not isinstance(result, dict):
                continue
            dataset = (result.get("dataset") or {}).get("name") or (result.get("dataset") or {}).get("type") or ""
            for metric in result.get("metrics") or []:
                if isinstance(metric, dict) and "value" in metric:
                    row = {
                        "type": str(metric.get("type") or metric.get("name") or "metric"),
                        "value": str(metric["value"]),
                    }
                    if dataset:
                        row["slice"] = str(dataset)
                    metrics.append(row)
    return metrics[:200]


def _model_card(version: AssetVersion, trained_on: list[AssetVersion]) -> dict:
    card = card_get(version=version)
    sections = (card.sections if card else {}) or {}
    parameters: dict = {}
    if version.asset.task:
        parameters["task"] = version.asset.task
    if card and card.library_name:
        parameters["architectureFamily"] = card.library_name
    datasets = [{"ref": bom_ref(dataset)} for dataset in trained_on]
    datasets += [{"type": "dataset", "name": name} for name in (card.datasets if card else [])[:50]]
    if datasets:
        parameters["datasets"] = datasets
    signature = version.signature or {}
    if inputs := _tensor_formats(signature.get("inputs")):
        parameters["inputs"] = inputs
    if outputs := _tensor_formats(signature.get("outputs")):
        parameters["outputs"] = outputs
    model_card: dict = {"bom-ref": f"{bom_ref(version)}#model-card"}
    if parameters:
        model_card["modelParameters"] = parameters
    if performance := _performance_metrics(card.model_index if card else []):
        model_card["quantitativeAnalysis"] = {"performanceMetrics": performance}
    considerations = {}
    if use_cases := _lines(sections.get("intended_use", "")):
        considerations["useCases"] = use_cases
    if limits := _lines(sections.get("caveats_and_recommendations", "")):
        considerations["technicalLimitations"] = limits
    if ethics := _lines(sections.get("ethical_considerations", "")):
        considerations["ethicalConsiderations"] = [{"name": item} for item in ethics]
    if considerations:
        model_card["considerations"] = considerations
    filled = [MODEL_SECTIONS[key] for key in MODEL_SECTIONS if (sections.get(key) or "").strip()]
    if filled:
        model_card["properties"] = [{"name": "modelhub:card:sections", "value": ", ".join(filled)}]
    return model_card


# link(version, what) -> the absolute URL of the version's API resource `what` ("detail", "signature"): the API
# layer knows its routes, the registry does not.
Link = Callable[[AssetVersion, str], str]


def _component(
    version: AssetVersion, *, link: Link, signatures: dict[int, VersionSignature], trained_on: list | None = None
) -> dict:
    asset = version.asset
    component: dict = {
        "type": _COMPONENT_TYPES[asset.kind],
        "bom-ref": bom_ref(version),
        "group": asset.team.slug,
        "name": asset.slug,
        "version": version.version,
        "description": asset.summary or asset.name,
        "purl": _purl(version),
        "hashes": [{"alg": "SHA-256", "content": version.sha256}],
        "externalReferences": [{"type": "website", "url": link(version, "detail")}],
        "properties": [{"name": "modelhub:status", "value": version.status}],
    }
    if asset.license:
        component["licenses"] = [{"expression": asset.license}]
    files = [
        {
            "type": "file",
            "bom-ref": f"{bom_ref(version)}/{f.path}",
            "name": f.path,
            "hashes": [{"alg": "SHA-256", "content": f.blob.sha256}],
            "properties": [{"name": "modelhub:size", "value": str(f.blob.size)}],
        }
        for f in version.files.all()
    ]
    if files:
        component["components"] = files
    if asset.kind == AssetKind.DATASET:
        component["data"] = [{"type": "dataset", "name": asset.name, "description": asset.summary or asset.name}]
    if asset.kind == AssetKind.MODEL:
        component["modelCard"] = _model_card(version, trained_on or [])
    record = signatures.get(version.pk)
    if record is not None:
        component["externalReferences"].append(
            {
                "type": "digital-signature",
                "url": link(version, "signature"),
                "comment": f"OpenSSF model signing bundle over the files and approval record; key {record.key_id}",
            }
        )
        component["properties"] += [
            {"name": "modelhub:signature:key_id", "value": record.key_id},
            {"name": "modelhub:signature:signed_at", "value": record.signed_at.isoformat()},
        ]
    return component


def _upstream(user, versions: list[AssetVersion]) -> dict[int, list[tuple[str, AssetVersion]]]:
    """{version id: [(edge kind, visible target version)]} for the versions' outgoing lineage edges."""
    edges = LineageEdge.objects.filter(source__in=versions).values_list("source_id", "target_id", "kind")
    edges = list(edges[:MAX_COMPONENTS])
    targets = {
        row.pk: row
        for row in restrict(AssetVersion.objects.filter(pk__in={t for _, t, _ in edges}), user, Permission.ASSET_VIEW)
        .select_related("asset__team")
        .prefetch_related("files__blob")
    }
    out: dict[int, list[tuple[str, AssetVersion]]] = {}
    for source, target, kind in edges:
        if target in targets:
            out.setdefault(source, []).append((kind, targets[target]))
    return out


def version_bom(*, user, version: AssetVersion, link: Link) -> dict:
    """The CycloneDX 1.6 ML-BOM of `version` (visible to `user`: the caller has loaded it through version_get),
    with its upstream lineage two levels deep: a model's datasets and base models; a solution's models and datasets
    and theirs."""
    version = AssetVersion.objects.select_related("asset__team").prefetch_related("files__blob").get(pk=version.pk)
    first = _upstream(user, [version])
    second = _upstream(user, [v for _, v in first.get(version.pk, [])])
    included: dict[int, AssetVersion] = {}
    dependencies: dict[str, list[str]] = {}

    def depend(source: AssetVersion, edges: list[tuple[str, AssetVersion]]) -> None:
        dependencies.setdefault(bom_ref(source), [])
        for _, target in edges:
            if len(included) >= MAX_COMPONENTS:
                return
            included.setdefault(target.pk, target)
            if bom_ref(target) not in dependencies[bom_ref(source)]:
                dependencies[bom_ref(source)].append(bom_ref(target))

    depend(version, first.get(version.pk, []))
    for _, target in first.get(version.pk, []):
        depend(target, second.get(target.pk, []))

    def trained_on(v: AssetVersion, edges: dict) -> list[AssetVersion]:
        return [t for kind, t in edges.get(v.pk, []) if kind == LineageKind.TRAINED_ON]

    signatures = {
        s.version_id: s
        for s in VersionSignature.objects.filter(version_id__in=[version.pk, *included]).only(
            "version_id", "key_id", "signed_at"
        )
    }
    main = _component(version, link=link, signatures=signatures, trained_on=trained_on(version, first))
    components = [
        _component(v, link=link, signatures=signatures, trained_on=trained_on(v, second))
        for v in sorted(included.values(), key=bom_ref)
    ]
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": timezone.now().isoformat(timespec="seconds"),
            "tools": {"components": [{"type": "application", "name": "Modelhub"}]},
            "component": main,
        },
        "components": components,
        "dependencies": [{"ref": ref, "dependsOn": deps} for ref, deps in dependencies.items()]
        + [{"ref": bom_ref(v), "dependsOn": []} for v in included.values() if bom_ref(v) not in dependencies],
    }
