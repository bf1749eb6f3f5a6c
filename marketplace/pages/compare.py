"""Comparing releases of an asset: each declared metric across its versions (a chart per metric and dataset), and
the card, signature and metadata differences between any two versions (the review page's diffs)."""

from django.shortcuts import render

from marketplace.pages.diffs import card_diff, line_diff
from marketplace.pages.monitoring import HEIGHT, WIDTH
from marketplace.pages.responses import portal_view
from registry.assets.selectors import asset_get
from registry.cards.sections import sections_for
from registry.cards.selectors import card_get
from registry.versions.models import VersionMetric
from registry.versions.selectors import version_get, version_page

VERSIONS_CHARTED = 30  # the newest ones


def metric_charts(versions) -> list[dict]:
    """One chart per (metric, dataset): a point per version that declares it, oldest to newest."""
    ordered = list(reversed(versions))  # version_page is newest first
    rows = VersionMetric.objects.filter(version__in=ordered).values_list("version_id", "name", "dataset", "value")
    series: dict[tuple[str, str], dict[int, float]] = {}
    for version_id, name, dataset, value in rows:
        series.setdefault((name, dataset), {})[version_id] = value
    charts = []
    step = WIDTH / max(len(ordered) - 1, 1)
    for (name, dataset), values in sorted(series.items()):
        known = [values[v.pk] for v in ordered if v.pk in values]
        low, high = min(known), max(known)
        span = (high - low) or abs(high) or 1.0
        points = [
            {
                "x": round(i * step, 1),
                "y": round(HEIGHT - 10 - (HEIGHT - 20) * (values[v.pk] - low) / span, 1),
                "version": v.version,
                "value": values[v.pk],
            }
            for i, v in enumerate(ordered)
            if v.pk in values
        ]
        charts.append(
            {
                "name": name,
                "dataset": dataset,
                "points": points,
                "line": " ".join(f"{p['x']},{p['y']}" for p in points),
                "best": max(points, key=lambda p: p["value"]),
                "latest": points[-1],
            }
        )
    return charts


@portal_view
def compare(request, team, slug):
    asset = asset_get(user=request.user, team=team, slug=slug)
    versions = version_page(asset=asset, size=VERSIONS_CHARTED).versions
    context = {
        "asset": asset,
        "versions": versions,
        "charts": metric_charts(versions),
        "width": WIDTH,
        "height": HEIGHT,
    }
    a_name, b_name = request.GET.get("a"), request.GET.get("b")
    if not (a_name and b_name) and len(versions) >= 2:
        a_name, b_name = versions[1].version, versions[0].version
    if a_name and b_name:
        a, b = version_get(asset=asset, version=a_name), version_get(asset=asset, version=b_name)
        context.update(
            {
                "a": a,
                "b": b,
                "card_changes": card_diff(card_get(version=a), card_get(version=b), sections_for(asset.kind)),
                "signature_diff": line_diff(a.signature, b.signature),
                "metadata_diff": line_diff(a.metadata, b.metadata),
            }
        )
    return render(request, "pages/compare.html", context)
