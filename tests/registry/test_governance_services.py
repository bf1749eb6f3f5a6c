"""Release reviews under policies: lifecycle, separation of duties, rounds, deprecation and aliases."""

import pytest

from registry.governance.models import ReviewPolicy, RoundStatus
from registry.governance.selectors import review_queue, version_by_alias
from registry.governance.services import alias_delete, alias_set, review_submit, version_deprecate, version_submit
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_user, make_validated_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(alice, team):
    return make_asset(alice, team, slug="clf", license="MIT")


@pytest.fixture
def version(alice, asset, tmp_path):
    return make_validated_version(alice, asset, tmp_path)


def status_of(version) -> str:
    return AssetVersion.objects.get(pk=version.pk).status


def actions_on(version) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(version.pk), target_type="registry.assetversion")
        .order_by("id")
        .values_list("action", flat=True)
    )


def approved(version, *, submitter, reviewer):
    version_submit(user=submitter, version=version)
    review_submit(user=reviewer, version=version, decision="approve", comment="Looks good.")
    return AssetVersion.objects.get(pk=version.pk)


def test_submit_then_approve_records_every_step(version, bob, dave):
    review_round = version_submit(user=bob, version=version, note="First release.")
    assert (review_round.number, review_round.status, status_of(version)) == (1, "open", "in_review")
    assert [g.name for g in review_round.reviewer_groups.all()] == ["reviewers"]
    review_submit(user=dave, version=version, decision="approve", comment="Metrics reproduce.")
    review_round.refresh_from_db()
    assert (review_round.status, status_of(version)) == ("approved", "approved")
    assert actions_on(version)[-3:] == ["version.submitted", "review.submitted", "version.approved"]
    approval = AuditEvent.objects.filter(action="version.approved").get()
    assert approval.data["approvers"] == ["dave"] and approval.actor_name == "dave"


def test_submit_needs_a_validated_version_a_licence_and_a_member(alice, team, asset, version, charlie, tmp_path):
    with pytest.raises(PermissionDenied):
        version_submit(user=charlie, version=version)
    pending = make_validated_version(alice, asset, tmp_path, version="2.0.0")
    AssetVersion.objects.filter(pk=pending.pk).update(status="validating")
    pending.refresh_from_db()
    with pytest.raises(
        Conflict,
        match=r"Version 2.0.0 is validating: 'submit' is not allowed \(allowed when "
        r"validating: fail validation, request changes\)",
    ):
        version_submit(user=alice, version=pending)
    unlicensed = make_validated_version(alice, make_asset(alice, team, slug="nolicence"), tmp_path)
    with pytest.raises(InvalidInput, match="licence"):
        version_submit(user=alice, version=unlicensed)
    assert status_of(unlicensed) == "validated" and not unlicensed.review_rounds.exists()


def test_illegal_transitions_name_the_allowed_ones(version, bob, dave, alice):
    approved(version, submitter=bob, reviewer=dave)
    with pytest.raises(Conflict, match=r"is approved: 'submit' is not allowed \(allowed when approved: deprecate\)"):
        version_submit(user=bob, version=version)
    with pytest.raises(
        Conflict,
        match=r"is approved, not in review: there is no open review round \(allowed when approved: deprecate\)",
    ):
        review_submit(user=dave, version=version, decision="approve", comment="again")
    version_deprecate(user=alice, version=version, reason="Superseded by 2.0.0.")
    with pytest.raises(
        Conflict,
        match=r"is deprecated: 'deprecate' is not allowed \(allowed when deprecated: "
        r"nothing\)",
    ):
        version_deprecate(user=alice, version=version, reason="again")


@pytest.mark.parametrize(
    "who, reason",
    [
        ("alice", "You uploaded this version"),
        ("bob", "You submitted this version"),
        ("charlie", "You are not a reviewer"),
        ("teammate_reviewer", "You are a member of 'vision'"),
    ],
)
def test_separation_of_duties(who, reason, version, alice, bob, charlie, team, reviewers):
    from registry.teams.services import team_member_add

    teammate_reviewer = make_user("tim")
    team_member_add(actor=alice, team=team, username="tim")
    for user in (alice, bob, teammate_reviewer):
        user.groups.add(reviewers)
    version_submit(user=bob, version=version)
    user = {"alice": alice, "bob": bob, "charlie": charlie, "teammate_reviewer": teammate_reviewer}[who]
    with pytest.raises(PermissionDenied, match=reason):
        review_submit(user=user, version=version, decision="approve", comment="Fine by me.")
    assert status_of(version) == "in_review" and not version.review_rounds.get().reviews.exists()
    assert version not in [r.version for r in review_queue(user=user)]


def test_a_team_policy_can_allow_team_reviewers_and_ask_for_two_approvals(
    version, alice, bob, dave, erin, team, reviewers
):
    policy = ReviewPolicy.objects.create(team=team, approvals_required=2, forbid_owning_team=False)
    policy.reviewer_groups.add(reviewers)
    teammate = make_user("tim")
    teammate.groups.add(reviewers)
    from registry.teams.services import team_member_add

    team_member_add(actor=alice, team=team, username="tim")
    version_submit(user=bob, version=version)
    review_submit(user=teammate, version=version, decision="approve", comment="ok")
    assert status_of(version) == "in_review"
    with pytest.raises(Conflict, match="already reviewed"):
        review_submit(user=teammate, version=version, decision="approve", comment="ok again")
    review_submit(user=dave, version=version, decision="approve", comment="ok")
    assert status_of(version) == "approved"
    # Editing the policy now does not change the closed round's recorded rules.
    policy.approvals_required = 5
    policy.save()
    assert version.review_rounds.get().approvals_required == 2


def test_rejection_ends_the_round_even_with_approvals_pending(version, alice, bob, dave, erin, team, reviewers):
    policy = ReviewPolicy.objects.create(team=team, approvals_required=2)
    policy.reviewer_groups.add(reviewers)
    version_submit(user=bob, version=version)
    review_submit(user=dave, version=version, decision="approve", comment="ok")
    review_submit(user=erin, version=version, decision="reject", comment="Trained on a leaked test set.")
    assert status_of(version) == "rejected"
    assert version.review_rounds.get().status == RoundStatus.REJECTED


def test_changes_requested_then_resubmitted_opens_round_two_and_keeps_round_one(version, bob, dave, erin):
    version_submit(user=bob, version=version)
    review_submit(user=dave, version=version, decision="request_changes", comment="Add the evaluation data.")
    assert status_of(version) == "validated"
    version_submit(user=bob, version=version, note="Evaluation data added.")
    review_submit(user=erin, version=version, decision="approve", comment="ok now")
    rounds = list(version.review_rounds.order_by("number"))
    assert [(r.number, r.status) for r in rounds] == [(1, "changes_requested"), (2, "approved")]
    assert rounds[0].reviews.get().comment == "Add the evaluation data."


def test_a_review_needs_a_comment_and_a_known_decision(version, bob, dave):
    version_submit(user=bob, version=version)
    with pytest.raises(InvalidInput, match="comment is required"):
        review_submit(user=dave, version=version, decision="approve", comment="   ")
    with pytest.raises(InvalidInput, match="decision"):
        review_submit(user=dave, version=version, decision="lgtm", comment="yes")
    assert status_of(version) == "in_review"


def test_review_queue_shows_only_what_the_caller_may_act_on(version, alice, bob, dave, erin):
    version_submit(user=bob, version=version)
    assert [r.version_id for r in review_queue(user=dave)] == [version.pk]
    assert review_queue(user=alice) == [] and review_queue(user=bob) == []
    review_submit(user=dave, version=version, decision="approve", comment="ok")
    assert review_queue(user=dave) == [] and review_queue(user=erin) == []


def test_the_review_queue_costs_the_same_queries_however_long(
    version, alice, bob, dave, team, tmp_path, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    version_submit(user=bob, version=version)
    with CaptureQueriesContext(connection) as one:
        assert len(review_queue(user=dave)) == 1
    for index in range(4):
        other = make_asset(alice, team, slug=f"clf-{index}", license="MIT")
        version_submit(user=bob, version=make_validated_version(alice, other, tmp_path))
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(review_queue(user=dave)) == 5


def test_deprecate_needs_a_maintainer_a_reason_and_no_alias(version, alice, bob, dave):
    approved(version, submitter=bob, reviewer=dave)
    with pytest.raises(PermissionDenied):
        version_deprecate(user=bob, version=version, reason="old")
    with pytest.raises(InvalidInput, match="reason is required"):
        version_deprecate(user=alice, version=version, reason="")
    alias_set(user=dave, asset=version.asset, name="production", version=version)
    with pytest.raises(Conflict, match="alias"):
        version_deprecate(user=alice, version=version, reason="old")
    alias_delete(user=dave, asset=version.asset, name="production")
    deprecated = version_deprecate(user=alice, version=version, reason="Superseded by 2.0.0.")
    assert deprecated.status == "deprecated"
    assert AssetVersion.objects.get(pk=version.pk).deprecation_reason == "Superseded by 2.0.0."


def test_aliases_point_at_approved_versions_and_protected_ones_need_a_reviewer(version, alice, bob, dave, tmp_path):
    asset = version.asset
    with pytest.raises(Conflict, match="approved versions only"):
        alias_set(user=alice, asset=asset, name="champion", version=version)
    approved(version, submitter=bob, reviewer=dave)
    alias_set(user=bob, asset=asset, name="champion", version=version)
    assert version_by_alias(asset=asset, name="champion").pk == version.pk
    with pytest.raises(PermissionDenied, match="protected"):
        alias_set(user=alice, asset=asset, name="production", version=version)
    alias_set(user=dave, asset=asset, name="production", version=version)

    second = make_validated_version(alice, asset, tmp_path, version="2.0.0")
    approved(second, submitter=bob, reviewer=dave)
    alias_set(user=dave, asset=asset, name="production", version=second)
    assert version_by_alias(asset=asset, name="production").version == "2.0.0"
    move = AuditEvent.objects.filter(action="alias.moved").order_by("id").last()
    assert (move.data, move.before, move.after) == ({"alias": "production"}, {"version": "1.0.0"}, {"version": "2.0.0"})
    with pytest.raises(PermissionDenied, match="protected"):
        alias_delete(user=alice, asset=asset, name="production")
    with pytest.raises(InvalidInput, match="alias name"):
        alias_set(user=bob, asset=asset, name="Prod!", version=second)
    with pytest.raises(NotFound):
        alias_delete(user=bob, asset=asset, name="missing")


def test_submit_needs_a_card_as_complete_as_the_policy_asks(alice, asset, tmp_path, reviewers):
    from registry.cards.services import card_update

    version = make_validated_version(alice, asset, tmp_path, card=False)
    with pytest.raises(
        InvalidInput,
        match=r"card of version 1.0.0 is 0% complete; the review policy asks for at "
        r"least 50%",
    ):
        version_submit(user=alice, version=version)
    card_update(
        user=alice,
        version=version,
        fields={"sections": {"intended_use": "Sorting iris flowers by petal."}, "license": "mit"},
    )
    with pytest.raises(InvalidInput, match="is 18% complete"):
        version_submit(user=alice, version=version)
    ReviewPolicy.objects.filter(team__isnull=True).update(min_card_completeness=10)
    assert version_submit(user=alice, version=version).number == 1
    assert AuditEvent.objects.get(action="version.submitted").data["card_completeness"] == 18
