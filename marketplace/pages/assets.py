"""The asset page (overview, card, versions, signature, validation, files, lineage, aliases, reviews, endpoints),
uploading a version from the browser, submitting it for review, and deploying it."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from marketplace.pages.forms import DeployForm, UploadForm
from marketplace.pages.responses import error_page, flash_outcome, is_htmx, portal_view
from registry.artifacts.uploads import HashingUploadHandler, StagedFile
from registry.assets.models import AssetKind
from registry.assets.selectors import asset_get
from registry.cards.markdown import render_markdown
from registry.cards.sections import sections_for
from registry.cards.selectors import card_completeness, card_get
from registry.endpoints.lifecycle import DEPLOYABLE_KINDS, can_deploy
from registry.endpoints.selectors import asset_endpoints, endpoint_team_get
from registry.endpoints.services import endpoint_create
from registry.examples.selectors import input_example_get
from registry.governance.selectors import alias_list, version_round_list, version_signature_find
from registry.governance.services import ALIAS_NAME_MAX_LENGTH, alias_delete, alias_set, version_submit
from registry.governance.signing import version_signature_verify
from registry.kernel.access import Permission, has_permission
from registry.kernel.errors import DomainError
from registry.kernel.lib.model_formats import model_format
from registry.lineage.selectors import lineage_sides
from registry.monitoring.selectors import endpoints_health
from registry.teams.selectors import teams_of
from registry.versions.lifecycle import can_transition
from registry.versions.models import VersionStatus
from registry.versions.selectors import version_get, version_page, visible_version_get
from registry.versions.services import version_create, version_upload_authorize

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 190, 46, 110, 18, 10
VERSIONS_SHOWN = 20  # rows of the versions table per page


def asset_url(asset, version: str | None = None) -> str:
    url = reverse("pages:asset", kwargs={"team": asset.team.slug, "slug": asset.slug})
    return f"{url}?version={version}" if version else url


def card_context(version) -> dict | None:
    """The version's card as rendered sections (headings in the order of the kind), or None without a card."""
    card = card_get(version=version)
    if card is None:
        return None
    sections = [
        {"key": key, "title": title, "html": render_markdown(card.sections.get(key) or "")}
        for key, title in sections_for(version.asset.kind).items()
        if (card.sections.get(key) or "").strip()
    ]
    return {
        "card": card,
        "sections": sections,
        "body_html": render_markdown(card.body),
        "completeness": card_completeness(card, version.asset.kind),
    }


def lineage_picture(user, version) -> dict:
    """Upstream (left) and downstream (right) of `version` laid out in columns by distance, for an SVG."""
    up, down = lineage_sides(user=user, version=version)
    columns: dict[int, list] = {}
    placed = {}
    for graph, sign in ((up, -1), (down, 1)):
        for node in graph.nodes:
            if node.version.pk in placed:
                continue
            col = sign * node.distance
            columns.setdefault(col, []).append(node.version)
            placed[node.version.pk] = col
    order = sorted(columns)
    rows = max(len(v) for v in columns.values())
    height = rows * (NODE_H + GAP_Y) - GAP_Y + 2 * PAD
    boxes = {}
    for index, col in enumerate(order):
        offset = (height - (len(columns[col]) * (NODE_H + GAP_Y) - GAP_Y)) / 2
        for row, shown in enumerate(columns[col]):
            left = PAD + index * (NODE_W + GAP_X)
            top = offset + row * (NODE_H + GAP_Y)
            boxes[shown.pk] = {
                "x": left,
                "y": top,
                "version": shown,
                "root": shown.pk == version.pk,
                "url": asset_url(shown.asset, shown.version),
                "label": shown.asset.name[:24],
                "sub": f"{shown.asset.kind} · {shown.version}",
                "kind": shown.asset.kind,
                "tx": left + 12,
                "ty": top + 19,
                "sy": top + 36,
            }
    edges, seen = [], set()
    for edge in [*up.edges, *down.edges]:
        if edge.pk in seen or edge.source_id not in boxes or edge.target_id not in boxes:
            continue
        seen.add(edge.pk)
        target, source = boxes[edge.target_id], boxes[edge.source_id]  # source depends on target: target is upstream
        x1, y1 = target["x"] + NODE_W, target["y"] + NODE_H / 2
        x2, y2 = source["x"], source["y"] + NODE_H / 2
        edges.append(
            {
                "d": f"M{x1},{y1} C{x1 + GAP_X / 2},{y1} {x2 - GAP_X / 2},{y2} {x2 - 6},{y2}",
                "kind": edge.kind.replace("_", " "),
                "lx": (x1 + x2) / 2,
                "ly": (y1 + y2) / 2 - 6,
                "title": f"{source['version'].asset.full_slug} {source['version'].version} "
                f"{edge.get_kind_display().lower()} {target['version'].asset.full_slug} "
                f"{target['version'].version}",
            }
        )
    return {
        "boxes": list(boxes.values()),
        "edges": edges,
        "width": len(order) * (NODE_W + GAP_X) - GAP_X + 2 * PAD,
        "height": height,
        "node_w": NODE_W,
        "node_h": NODE_H,
        "hidden": up.hidden_nodes + down.hidden_nodes,
        "alone": len(boxes) == 1,
    }


def signature_tables(signature: dict | None) -> list[dict]:
    """The ONNX signature's inputs and outputs as titled tables (those it has)."""
    signature = signature or {}
    return [
        {"title": title, "items": signature[key]}
        for key, title in (("inputs", "Inputs"), ("outputs", "Outputs"))
        if signature.get(key)
    ]


def validation_facts(report) -> list[tuple[str, str]]:
    """What validation learnt, in plain words, for the facts list of the asset page."""
    details = (report.details if report else None) or {}
    facts = []
    if details.get("producer_name"):
        facts.append(("Made with", f"{details['producer_name']} {details.get('producer_version', '')}".strip()))
    if details.get("ir_version"):
        facts.append(("ONNX IR version", str(details["ir_version"])))
    if isinstance(details.get("opset_imports"), dict):
        facts.append(
            (
                "Operator sets",
                ", ".join(f"{domain or 'ai.onnx'} {v}" for domain, v in sorted(details["opset_imports"].items())),
            )
        )
    if isinstance(details.get("operators_total"), int):
        facts.append(("Operators", f"{details['operators_total']:,}"))
    if isinstance(details.get("parameter_count"), int):
        facts.append(("Parameters", f"{details['parameter_count']:,}"))
    smoke = details.get("smoke_inference") or {}
    if isinstance(smoke.get("seconds"), int | float):
        on = "the input example" if smoke.get("inputs_from") == "input_example" else "generated inputs"
        facts.append(("Smoke inference", f"answered in {smoke['seconds'] * 1000:.1f} ms on {on}"))
    elif smoke.get("skipped"):
        facts.append(("Smoke inference", f"skipped: {smoke['skipped']}"))
    profile = details.get("profile") or {}
    if profile:
        facts.append(
            (
                "Data",
                f"{profile.get('format', '').upper()}, {profile.get('row_count', '?')} rows, "
                f"{profile.get('column_count', '?')} columns",
            )
        )
    for name, reason in list((profile.get("profiles_left_out") or {}).items())[:5]:
        facts.append(("Not profiled", f"{name}: {reason}"))
    feature_map = details.get("feature_map") or {}
    if feature_map.get("note"):
        mapped = ", ".join(f"{column} = {name}" for column, name in list(feature_map.get("inputs", {}).items())[:8])
        facts.append(("Feature map", f"{feature_map['note']}{f' ({mapped})' if mapped else ''}"))
    return facts


def _versions_link(request, cursor: str | None) -> str | None:
    """The asset page at another page of its versions table, showing the same version."""
    if cursor is None:
        return None
    query = request.GET.copy()
    query["versions"] = cursor
    return "?" + query.urlencode() + "#versions"


def served_format_missing(kind: str, files) -> str | None:
    """The format of a model version Modelhub catalogues but does not serve (no .onnx primary file), else None."""
    primary = next((f.path for f in files if f.is_primary), None)
    found = model_format(primary) if kind == AssetKind.MODEL and primary else "onnx"
    return None if found == "onnx" else (found or "unknown")


@portal_view
def asset_detail(request, team, slug):
    user = request.user
    asset = asset_get(user=user, team=team, slug=slug)
    # A page of the versions table (newest first, keyset: an asset may have 100,000 of them) and the version
    # shown, the latest unless one is asked for (NotFound names a missing one).
    page = version_page(asset=asset, cursor=request.GET.get("versions") or None, size=VERSIONS_SHOWN)
    wanted = request.GET.get("version") or asset.latest_version
    version = version_get(asset=asset, version=wanted) if wanted else None
    versions = page.versions
    picker = versions if version is None or any(v.pk == version.pk for v in versions) else [version, *versions]
    context = {
        "asset": asset,
        "versions": versions,
        "version": version,
        "version_picker": picker,
        "versions_count": page.count,
        "versions_newer_url": _versions_link(request, page.previous_cursor),
        "versions_older_url": _versions_link(request, page.next_cursor),
        "aliases": list(alias_list(asset=asset)),
        "description_html": render_markdown(asset.description),
        "endpoints": _with_health(list(asset_endpoints(user=user, asset=asset))),
        "can_upload": has_permission(user, Permission.VERSION_UPLOAD, asset.team),
        "deploy_teams": list(teams_of(user=user)) if asset.kind in DEPLOYABLE_KINDS else [],
        "upload_form": UploadForm(),
        "kind_label": AssetKind(asset.kind).label,
    }
    if version is not None:
        signature = version_signature_find(version=version)
        files = list(version.files.all())
        context.update(
            {
                "card": card_context(version),
                "rounds": version_round_list(version=version),
                "lineage": lineage_picture(user, version),
                "signature": signature,
                "signature_io": version.signature or {},
                "validation": getattr(version, "validation", None),
                "io_tables": signature_tables(version.signature),
                "input_example": input_example_get(version=version) if asset.kind == AssetKind.MODEL else None,
                "validation_facts": validation_facts(getattr(version, "validation", None)),
                "files": files,
                "catalogued_format": served_format_missing(asset.kind, files),
                "deployable": can_deploy(version.status, asset.kind) and not served_format_missing(asset.kind, files),
                "submittable": can_transition(version.status, VersionStatus.IN_REVIEW)
                and has_permission(user, Permission.VERSION_SUBMIT, asset.team),
                "deploy_form": DeployForm(teams=context["deploy_teams"]),
                "download_url": reverse(
                    "api:version-download", kwargs={"team": team, "slug": slug, "version": version.version}
                ),
                "upload_api_url": reverse("api:version-list", kwargs={"team": team, "slug": slug}),
            }
        )
    return render(request, "pages/asset.html", context)


@portal_view
def version_status(request, team, slug, version):
    """The version's status badge (htmx polling while it validates); tells the page to reload once it is done."""
    found = version_get(asset=asset_get(user=request.user, team=team, slug=slug), version=version)
    response = render(request, "pages/partials/version_status.html", {"version": found, "poll": True})
    if found.status != VersionStatus.VALIDATING and request.GET.get("was") == VersionStatus.VALIDATING:
        response["HX-Refresh"] = "true"
    return response


@portal_view
def signature_check(request, team, slug, version):
    """Verify the version's signature against its files as stored now (htmx partial; reads every file)."""
    found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
    template = "pages/partials/signature_check.html" if is_htmx(request) else "pages/signature_check.html"
    return render(
        request,
        template,
        {
            "check": version_signature_verify(version=found),
            "version": found,
            "asset_url": asset_url(found.asset, found.version),
        },
    )


@csrf_exempt
@portal_view
def upload(request, team, slug):
    """Upload a version without JavaScript (the page's script posts to the API's streamed upload instead).

    The body is streamed to disk and hashed by the API's upload handler, which asks for the upload
    permission before it reads a byte; the CSRF check runs after the handler is in place.
    """
    asset = asset_get(user=request.user, team=team, slug=slug)
    if request.method == "POST":
        request.upload_handlers = [
            HashingUploadHandler(request, authorize=lambda: version_upload_authorize(user=request.user, asset=asset))
        ]
    return _upload(request, asset)


@csrf_protect
def _upload(request, asset):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded, example = form.cleaned_data["file"], form.cleaned_data.get("input_example")
        try:
            created = version_create(
                user=request.user,
                asset=asset,
                version=form.cleaned_data["version"],
                upload=StagedFile.from_upload(uploaded),
                metadata=form.cleaned_data.get("metadata") or None,
                input_example=StagedFile.from_upload(example) if example else None,
            )
        except DomainError as exc:
            if exc.status_code == 403:
                return error_page(request, exc)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Version {created.version} uploaded; it is being validated.")
            return redirect(asset_url(asset, created.version))
        finally:
            uploaded.close()
            if example:
                example.close()
    elif request.method == "GET":
        version_upload_authorize(user=request.user, asset=asset)
    return render(
        request, "pages/upload.html", {"asset": asset, "form": form}, status=400 if request.method == "POST" else 200
    )


@require_POST
@portal_view
def submit(request, team, slug, version):
    asset = asset_get(user=request.user, team=team, slug=slug)
    found = version_get(asset=asset, version=version)
    flash_outcome(
        request,
        lambda: version_submit(user=request.user, version=found, note=request.POST.get("note", "")[:5000]),
        f"Version {found.version} is in review.",
    )
    return redirect(asset_url(asset, found.version))


@require_POST
@portal_view
def alias_point(request, team, slug, version):
    """Point an alias (`production` unless named) at this approved version: the same service as the API's PUT."""
    asset = asset_get(user=request.user, team=team, slug=slug)
    found = version_get(asset=asset, version=version)
    name = (request.POST.get("name") or "").strip().lower()[: ALIAS_NAME_MAX_LENGTH + 1]
    flash_outcome(
        request,
        lambda: alias_set(user=request.user, asset=asset, name=name, version=found),
        f"@{name} now points at {found.version}.",
    )
    return redirect(asset_url(asset, found.version))


@require_POST
@portal_view
def alias_remove(request, team, slug):
    asset = asset_get(user=request.user, team=team, slug=slug)
    name = (request.POST.get("name") or "")[: ALIAS_NAME_MAX_LENGTH + 1]
    flash_outcome(request, lambda: alias_delete(user=request.user, asset=asset, name=name), f"@{name} is removed.")
    return redirect(asset_url(asset) + "#aliases")


@require_POST
@portal_view
def deploy(request, team, slug, version):
    """Deploy an approved version for one of the caller's teams: the same service as POST /api/v1/endpoints/."""
    asset = asset_get(user=request.user, team=team, slug=slug)
    found = version_get(asset=asset, version=version)
    form = DeployForm(request.POST, teams=list(teams_of(user=request.user)))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(asset_url(asset, found.version))
    try:
        consumer = endpoint_team_get(user=request.user, slug=form.cleaned_data["team"])
        created = endpoint_create(
            user=request.user,
            team=consumer,
            asset=asset,
            version=found.version,
            name=form.cleaned_data.get("name") or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(asset_url(asset, found.version))
    # The key is shown once, on the endpoint page the browser goes to next (popped from the session there).
    for endpoint, key in created:
        request.session[f"endpoint-key-{endpoint.pk}"] = key
    messages.success(request, f"Deploying {asset.full_slug} {found.version}: the endpoint is being provisioned.")
    return redirect("pages:endpoint", endpoint_id=created[0][0].pk)


def _with_health(endpoints: list) -> list:
    """Each endpoint with its monitoring health (healthy, drifting, degraded, no data) for the page's badges."""
    health = endpoints_health(e.pk for e in endpoints)
    for endpoint in endpoints:
        endpoint.health = health[endpoint.pk]
    return endpoints
