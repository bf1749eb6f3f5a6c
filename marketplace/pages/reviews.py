"""The review queue and the review page: a version beside the last approved one, and the reviewer's decision."""

import json

from django.contrib import messages
from django.shortcuts import redirect, render

from marketplace.pages.assets import card_context, signature_tables
from marketplace.pages.diffs import card_diff, line_diff
from marketplace.pages.forms import ReviewForm
from marketplace.pages.responses import portal_view
from registry.cards.sections import sections_for
from registry.cards.selectors import card_get
from registry.endpoints.selectors import endpoint_list, version_shadows
from registry.governance.models import RoundStatus
from registry.governance.selectors import review_queue, reviewable_version_get, round_refusal, version_round_list
from registry.governance.services import review_submit
from registry.kernel.errors import DomainError
from registry.monitoring.shadows import shadow_evidence
from registry.versions.models import VersionStatus
from registry.versions.selectors import version_below


def shadow_context(user, version) -> dict:
    """Where the version shadowed endpoints, and what it did with their live traffic: evidence for its reviewers.
    Every run counts; the names of endpoints the reviewer may not see are left out."""
    runs = list(version_shadows(version=version))
    endpoints = list({run.endpoint_id: run.endpoint for run in runs}.values())
    visible = set(endpoint_list(user=user).filter(pk__in=[e.pk for e in endpoints]).values_list("pk", flat=True))
    return {
        "shadow_runs": [{"run": run, "visible": run.endpoint_id in visible} for run in runs],
        "shadow_evidence": shadow_evidence(version=version, endpoints=endpoints) if runs else None,
    }


@portal_view
def queue(request):
    return render(request, "pages/reviews.html", {"rounds": review_queue(user=request.user)})


@portal_view
def review(request, team, slug, version):
    user = request.user
    found = reviewable_version_get(user=user, team=team, slug=slug, version=version)
    rounds = version_round_list(version=found)
    open_round = next((r for r in rounds if r.status == RoundStatus.OPEN), None)
    refusal = round_refusal(user, open_round) if open_round else "This version is not in review."
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            review_submit(
                user=user, version=found, decision=form.cleaned_data["decision"], comment=form.cleaned_data["comment"]
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            label = dict(form.fields["decision"].choices)[form.cleaned_data["decision"]].lower()
            messages.success(request, f"Recorded: {label} on {found.asset.full_slug} {found.version}.")
            return redirect("pages:reviews")
    # The diffs are against the newest release below this version (approved, or approved and since deprecated).
    previous = version_below(version=found, statuses=(VersionStatus.APPROVED, VersionStatus.DEPRECATED))
    card = card_context(found)
    context = {
        "version": found,
        "asset": found.asset,
        "rounds": rounds,
        "open_round": open_round,
        "refusal": refusal,
        "form": form,
        "previous": previous,
        "card": card,
        "card_changes": card_diff(
            card_get(version=previous) if previous else None, card and card["card"], sections_for(found.asset.kind)
        ),
        "metadata_diff": line_diff(previous.metadata if previous else {}, found.metadata),
        "signature_diff": line_diff(previous.signature if previous else None, found.signature),
        "io_tables": signature_tables(found.signature),
        "metadata_json": json.dumps(found.metadata, indent=2, sort_keys=True, ensure_ascii=False),
        **shadow_context(user, found),
    }
    return render(request, "pages/review.html", context, status=400 if request.method == "POST" else 200)
