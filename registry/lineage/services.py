"""Writes of the lineage graph: declaring and removing edges between versions.

Every edge write takes one lineage lock for its transaction (a PostgreSQL advisory lock), so the
cycle check and the insert are one step: two requests adding a -> b and b -> a at the same moment
are serialised, and the second sees the first's edge and is refused.
"""

import zlib
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from registry.assets.models import Asset
from registry.assets.selectors import asset_get
from registry.kernel.access import Permission, require, restrict
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.json_input import json_field_value
from registry.lineage.models import LINEAGE_KIND_RULES, LineageEdge, LineageKind
from registry.lineage.selectors import lineage_upstream_path
from registry.versions.models import AssetVersion
from registry.versions.selectors import version_get

MAX_LINEAGE_AT_UPLOAD = 100
# One key for the whole graph: a cycle can run through any versions, so no narrower lock would do.
LINEAGE_LOCK_KEY = zlib.crc32(b"modelhub.registry.lineage")


class LineageCycle(Conflict):
    code = ErrorCode.LINEAGE_CYCLE


class DuplicateLineage(Conflict):
    code = ErrorCode.DUPLICATE_LINEAGE


@dataclass(frozen=True)
class LineageTarget:
    """A resolved, visible target version and the kind of edge to it."""

    kind: str
    version: AssetVersion


def _label(version: AssetVersion) -> str:
    return f"{version.asset.full_slug}@{version.version}"


def lineage_authorize(*, user, source: AssetVersion) -> None:
    """Raise PermissionDenied unless `user` may declare or remove lineage of `source`."""
    require(
        user,
        Permission.VERSION_CHANGE,
        source.asset.team,
        f"Only members of '{source.asset.team.slug}' can declare lineage of '{source.asset.full_slug}'.",
    )


def _check_kind(kind, source_kind: str, target: AssetVersion | None, field: str) -> str:
    if kind not in LineageKind.values:
        raise InvalidInput(f"{field}kind: must be one of {', '.join(LineageKind.values)}.", field="kind")
    source_needed, target_kinds = LINEAGE_KIND_RULES[kind]
    if source_kind != source_needed:
        raise InvalidInput(
            f"{field}kind: '{kind}' edges start at a {source_needed} version; this is a {source_kind}.", field="kind"
        )
    if target is not None and target.asset.kind not in target_kinds:
        allowed = " or ".join(sorted(target_kinds))
        raise InvalidInput(
            f"{field}kind: '{kind}' edges lead to a {allowed} version; {_label(target)} is a {target.asset.kind}.",
            field="kind",
        )
    return kind


def lineage_resolve_target(*, user, source_kind: str, kind, asset, version, where: str = "") -> LineageTarget:
    """Check an edge's kind against the source's asset kind and find its target for `user`.

    A target the user may not see is a NotFound, worded exactly as for one that does not exist.
    """
    _check_kind(kind, source_kind, None, where)
    if not isinstance(asset, str) or asset.count("/") != 1:
        raise InvalidInput(f"{where}asset: name the target asset as 'team/slug'.", field="asset")
    if not isinstance(version, str) or not version:
        raise InvalidInput(f"{where}version: the target version number is required.", field="version")
    team, slug = asset.split("/")
    target = version_get(asset=asset_get(user=user, team=team, slug=slug), version=version)
    _check_kind(kind, source_kind, target, where)
    return LineageTarget(kind=kind, version=target)


def lineage_parse_upload(*, user, source_asset: Asset, lineage) -> list[LineageTarget]:
    """The `lineage` field of an upload (a JSON list, or its text) resolved to targets, all checked.

    The upload service calls it before it stores a byte, so a bad lineage refuses the whole upload.
    """
    lineage = json_field_value(lineage, field="lineage", empty=[])
    if not isinstance(lineage, list):
        raise InvalidInput('lineage: must be a JSON list of {"kind", "asset", "version"} objects.', field="lineage")
    if len(lineage) > MAX_LINEAGE_AT_UPLOAD:
        raise InvalidInput(
            f"lineage: at most {MAX_LINEAGE_AT_UPLOAD} edges at upload; got {len(lineage)}.", field="lineage"
        )
    if lineage:
        require(
            user,
            Permission.VERSION_CHANGE,
            source_asset.team,
            f"Only members of '{source_asset.team.slug}' can declare lineage of '{source_asset.full_slug}'.",
        )
    targets, seen = [], set()
    for index, item in enumerate(lineage):
        where = f"lineage[{index}]."
        if not isinstance(item, dict) or set(item) != {"kind", "asset", "version"}:
            raise InvalidInput(
                f'lineage[{index}]: must be an object with exactly "kind", "asset" and "version".', field="lineage"
            )
        target = lineage_resolve_target(user=user, source_kind=source_asset.kind, where=where, **item)
        key = (target.kind, target.version.pk)
        if key in seen:
            raise InvalidInput(
                f"lineage[{index}]: {target.kind} {_label(target.version)} is listed twice.", field="lineage"
            )
        seen.add(key)
        targets.append(target)
    return targets


def _lock_lineage() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINEAGE_LOCK_KEY])
    # Elsewhere (SQLite) there is one writer at a time; the cycle check is best effort there.


def lineage_create_edges(*, user, source: AssetVersion, targets: list[LineageTarget]) -> list[LineageEdge]:
    """Create `source`'s edges to already resolved targets, refusing duplicates and cycles.

    Runs inside the caller's transaction (the upload's, or lineage_edge_add's) and takes the lineage
    lock for it. The targets' rows are locked in primary-key order, so none is deleted under the edge.
    """
    with transaction.atomic():
        _lock_lineage()
        # Neither end may be deleted under the new edges; rows are locked in primary-key order.
        wanted = sorted({source.pk, *(t.version.pk for t in targets)})
        present = set(
            AssetVersion.objects.select_for_update(no_key=True)
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if source.pk not in present:
            raise NotFound(f"{_label(source)} was deleted meanwhile; nothing was changed.")
        created = []
        for target in targets:
            if target.version.pk not in present:
                raise Conflict(f"{_label(target.version)} was deleted meanwhile; nothing was changed.")
            if target.version.pk == source.pk:
                raise LineageCycle(f"{_label(source)} cannot be its own lineage.", field="version")
            if LineageEdge.objects.filter(source=source, target=target.version, kind=target.kind).exists():
                raise DuplicateLineage(f"{_label(source)} already declares {target.kind} {_label(target.version)}.")
            path = lineage_upstream_path(start_id=target.version.pk, goal_id=source.pk)
            if path is not None:
                # The cycle may run through versions the user may not see: they are not named.
                visible = restrict(AssetVersion.objects.filter(pk__in=path), user, Permission.ASSET_VIEW)
                labels = {v.pk: _label(v) for v in visible.select_related("asset__team")}
                labels = {pk: labels.get(pk, "(a version you cannot see)") for pk in path}
                chain = " -> ".join([_label(source), *(labels[pk] for pk in path)])
                raise LineageCycle(
                    f"{_label(source)} {target.kind} {_label(target.version)} would close a cycle: {chain}."
                )
            edge = LineageEdge(source=source, target=target.version, kind=target.kind, created_by=user)
            edge.full_clean(validate_unique=False, validate_constraints=False)
            try:
                with transaction.atomic():
                    edge.save()
            except IntegrityError:
                raise DuplicateLineage(
                    f"{_label(source)} already declares {target.kind} {_label(target.version)}."
                ) from None
            audit_record(
                actor=user,
                action=Event.LINEAGE_ADDED,
                target=edge,
                team=source.asset.team,
                data={"source": _label(source), "target": _label(target.version), "kind": target.kind},
            )
            created.append(edge)
    return created


def lineage_edge_add(*, user, source: AssetVersion, kind, asset, version) -> LineageEdge:
    """Declare that `source` (visible to `user`) depends on the version `asset@version`.

    Members of the source's team only; a target the user may not see is a NotFound. Transactional;
    refuses (409) a duplicate edge or one that would close a cycle, naming the cycle, also when a
    concurrent request adds the reverse edge at the same moment.
    """
    lineage_authorize(user=user, source=source)
    target = lineage_resolve_target(user=user, source_kind=source.asset.kind, kind=kind, asset=asset, version=version)
    return lineage_create_edges(user=user, source=source, targets=[target])[0]


def lineage_edge_remove(*, user, edge: LineageEdge) -> None:
    """Remove an edge (found with `lineage_edge_get`). Members of the source's team only; audited."""
    source = edge.source
    lineage_authorize(user=user, source=source)
    with transaction.atomic():
        _lock_lineage()
        audit_record(
            actor=user,
            action=Event.LINEAGE_REMOVED,
            target=edge,
            team=source.asset.team,
            data={"source": _label(source), "target": _label(edge.target), "kind": edge.kind},
        )
        LineageEdge.objects.filter(pk=edge.pk).delete()
