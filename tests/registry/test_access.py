"""registry.kernel.access.restrict: every scoped read narrows each model alike for alice (maintainer), bob
(teammate), charlie (outsider), a superuser, an anonymous and an inactive user; the search scope agrees."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.assets.models import Asset
from registry.endpoints.models import Endpoint
from registry.governance.models import ReviewRound
from registry.kernel import access
from registry.kernel.access import Permission, TeamRole, Visibility, asset_scope, restrict
from registry.kernel.audit.models import AuditEvent
from registry.kernel.audit.services import audit_record
from registry.kernel.events import Event
from registry.search.backends.fallback import FallbackSearchBackend
from registry.search.backends.postgres import PostgresSearchBackend
from registry.search.query import parse_search
from registry.teams.models import Team
from registry.versions.models import AssetVersion
from tests.factories import bare_versions, make_asset, make_team, make_user

pytestmark = pytest.mark.django_db

PEOPLE = ("alice", "bob", "charlie", "root", "anonymous", "inactive")


@pytest.fixture
def world(alice, bob, charlie, team):
    """vision (alice maintains it, bob is a member) holds a private and an internal asset; charlie's own team
    holds a private one; each asset has a version and an endpoint; bob acted once outside any team."""
    elsewhere = make_team(charlie, slug="elsewhere")
    assets = {
        "private": make_asset(alice, team, slug="private", visibility=Visibility.PRIVATE),
        "internal": make_asset(alice, team, slug="internal", visibility=Visibility.INTERNAL),
        "elsewhere": make_asset(charlie, elsewhere, slug="theirs", visibility=Visibility.PRIVATE),
    }
    versions = {name: bare_versions(asset, 1)[0] for name, asset in assets.items()}
    endpoints = {
        name: Endpoint.objects.create(team=asset.team, name=f"ep-{name}", version=versions[name])
        for name, asset in assets.items()
    }
    bobs_own = audit_record(actor=bob, action=Event.TOKEN_CREATED, target=bob)
    users = {
        "alice": alice,
        "bob": bob,
        "charlie": charlie,
        "root": make_user("root", is_superuser=True),
        "anonymous": AnonymousUser(),
        "inactive": make_user("gone", is_active=False),
    }
    # The inactive user was in the team: membership alone opens nothing.
    team.memberships.create(user=users["inactive"], role=TeamRole.MEMBER)
    return {
        "team": team,
        "elsewhere": elsewhere,
        "assets": assets,
        "versions": versions,
        "endpoints": endpoints,
        "bobs_own": bobs_own,
        "users": users,
    }


def _seen(queryset, user, permission, names: dict) -> set[str]:
    ids = set(restrict(queryset, user, permission).values_list("pk", flat=True))
    return {name for name, row in names.items() if row.pk in ids}


ASSETS_SEEN = {
    "alice": {"private", "internal"},
    "bob": {"private", "internal"},
    "charlie": {"internal", "elsewhere"},
    "root": {"private", "internal", "elsewhere"},
    "anonymous": set(),
    "inactive": set(),
}


@pytest.mark.parametrize("who", PEOPLE)
def test_assets_are_the_team_s_and_every_internal_one(world, who):
    user = world["users"][who]
    assert _seen(Asset.objects.all(), user, Permission.ASSET_VIEW, world["assets"]) == ASSETS_SEEN[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_versions_are_seen_with_their_asset(world, who):
    user = world["users"][who]
    assert _seen(AssetVersion.objects.all(), user, Permission.ASSET_VIEW, world["versions"]) == ASSETS_SEEN[who]


@pytest.mark.parametrize(
    "who, expected",
    [
        ("alice", {"private", "internal"}),
        ("bob", {"private", "internal"}),
        ("charlie", {"elsewhere"}),  # internal assets do not open their team's endpoints
        ("root", {"private", "internal", "elsewhere"}),
        ("anonymous", set()),
        ("inactive", set()),
    ],
)
def test_endpoints_are_their_team_s_only(world, who, expected):
    user = world["users"][who]
    assert _seen(Endpoint.objects.all(), user, Permission.ENDPOINT_VIEW, world["endpoints"]) == expected


@pytest.mark.parametrize("permission", [Permission.ENDPOINT_VIEW, Permission.WEBHOOK_VIEW])
@pytest.mark.parametrize(
    "who, expected",
    [
        ("alice", {"team"}),
        ("bob", {"team"}),
        ("charlie", {"elsewhere"}),
        ("root", {"team", "elsewhere"}),
        ("anonymous", set()),
        ("inactive", set()),
    ],
)
def test_teams_are_their_members(world, permission, who, expected):
    teams = {"team": world["team"], "elsewhere": world["elsewhere"]}
    assert _seen(Team.objects.all(), world["users"][who], permission, teams) == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_audit_events_are_the_team_s_and_one_s_own(world, who):
    user = world["users"][who]
    everything = AuditEvent.objects.all()
    seen = set(restrict(everything, user, Permission.AUDIT_VIEW))
    if who == "root":
        assert seen == set(everything)
    elif who in ("anonymous", "inactive"):
        assert seen == set()
    else:
        mine = {e for e in everything if e.actor_id == user.pk}
        teams = {e for e in everything if e.team_id in set(user.memberships.values_list("team_id", flat=True))}
        assert seen == mine | teams
        assert (world["bobs_own"] in seen) == (who == "bob")
        assert {e.team_id for e in seen} - {None} == (
            {world["elsewhere"].pk} if who == "charlie" else {world["team"].pk}
        )


@pytest.mark.parametrize(
    "who, expected",
    [
        ("alice", []),  # in no reviewer group: her team's round is not hers to review
        ("dave", ["vision", "elsewhere"]),  # in both groups of vision's round: it comes once
        ("erin", ["vision"]),
        ("root", ["vision", "elsewhere"]),
        ("anonymous", []),
        ("inactive", []),
    ],
)
def test_review_rounds_are_their_reviewer_groups(world, reviewers, dave, erin, who, expected):
    seniors = Group.objects.create(name="seniors")
    dave.groups.add(seniors)
    rounds = {}
    for name, groups in (("vision", [reviewers, seniors]), ("elsewhere", [seniors])):
        version = world["versions"]["private" if name == "vision" else "elsewhere"]
        rounds[name] = ReviewRound.objects.create(
            version=version, number=1, approvals_required=1, forbid_owning_team=True
        )
        rounds[name].reviewer_groups.set(groups)
    users = {**world["users"], "dave": dave, "erin": erin}
    narrowed = restrict(ReviewRound.objects.all(), users[who], Permission.VERSION_REVIEW)
    assert sorted(narrowed.values_list("pk", flat=True)) == sorted(rounds[name].pk for name in expected)


def test_a_rule_that_needs_maintainers_leaves_members_out(world, monkeypatch):
    monkeypatch.setitem(access._REQUIRED_ROLE, Permission.WEBHOOK_VIEW, TeamRole.MAINTAINER)
    teams = {"team": world["team"], "elsewhere": world["elsewhere"]}
    users = world["users"]
    assert _seen(Team.objects.all(), users["alice"], Permission.WEBHOOK_VIEW, teams) == {"team"}
    assert _seen(Team.objects.all(), users["bob"], Permission.WEBHOOK_VIEW, teams) == set()


def test_a_model_without_a_rule_is_refused_even_for_nobody(world):
    with pytest.raises(ImproperlyConfigured, match="registry.Endpoint under webhook.view"):
        restrict(Endpoint.objects.all(), AnonymousUser(), Permission.WEBHOOK_VIEW)


def test_restrict_runs_no_query_of_its_own(world):
    bob = world["users"]["bob"]
    with CaptureQueriesContext(connection) as captured:
        narrowed = restrict(AssetVersion.objects.all(), bob, Permission.ASSET_VIEW)
        assert len(captured.captured_queries) == 0
        list(narrowed)
    assert len(captured.captured_queries) == 1
    with CaptureQueriesContext(connection) as captured:
        assert list(restrict(Asset.objects.all(), AnonymousUser(), Permission.ASSET_VIEW)) == []
    assert captured.captured_queries == []


@pytest.mark.parametrize("who", PEOPLE)
def test_the_search_scope_is_restrict_s_rule_as_data(world, who):
    """asset_scope is the asset rule for search engines that cannot take a queryset: the scope read as data,
    and the search backends that apply it, let through what restrict does."""
    user = world["users"][who]
    scope = asset_scope(user)
    by_restrict = set(restrict(Asset.objects.all(), user, Permission.ASSET_VIEW).values_list("pk", flat=True))
    by_scope = {
        asset.pk
        for asset in Asset.objects.all()
        if not scope.nothing
        and (scope.everything or asset.visibility == Visibility.INTERNAL or asset.team_id in scope.team_ids)
    }
    assert by_scope == by_restrict
    backends = [FallbackSearchBackend()] + ([PostgresSearchBackend()] if connection.vendor == "postgresql" else [])
    for backend in backends:
        found = backend.search(scope=scope, query=parse_search({"page_size": "100"}))
        assert (set(found.ids), found.count) == (by_restrict, len(by_restrict)), type(backend).__name__
