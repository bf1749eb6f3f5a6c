"""A small catalogue for the portal's tests: the shared users (alice, bob, charlie, dave) and what they see.

vision (alice maintains, bob is a member) owns:
  flowers 1.0.0        dataset, internal, validated
  clf 1.0.0            model, internal, approved and signed, trained_on flowers 1.0.0, @production
  clf 1.1.0            model, in review (uploaded by alice, submitted by bob): waits in dave's queue
  vision-notes         dataset, private (no version)
secret (mallory maintains) owns:
  hidden-model         model, private: charlie (outsider) and dave must never see it
"""

from dataclasses import dataclass

from registry.cards.services import card_update
from registry.governance.services import alias_set, version_submit
from registry.kernel.access import Visibility
from registry.lineage.services import lineage_edge_add
from registry.teams.models import Team
from registry.validation.services import validation_claim, validation_finish
from registry.versions.models import AssetVersion
from tests.factories import complete_card_fields, make_asset, make_team, make_user, make_validated_version, make_version
from tests.registry.endpoint_fixtures import LINEAR_SIGNATURE, approve

CSV = b"sepal_length,sepal_width,species\n5.1,3.5,setosa\n6.2,2.9,versicolor\n"


@dataclass
class Portal:
    team: object
    flowers: object
    clf: object
    approved: object
    in_review: object
    notes: object
    hidden: object


def build_portal(*, alice, bob, dave, tmp_path) -> Portal:
    team = make_team(alice, slug="vision", members=[bob])
    Team.objects.filter(pk=team.pk).update(name="Vision lab")
    team.refresh_from_db()
    flowers = make_asset(
        alice,
        team,
        kind="dataset",
        slug="flowers",
        name="Flowers",
        license="CC-BY-4.0",
        task="tabular-classification",
        summary="Measurements of iris flowers, three species.",
        tags=["tabular", "botany"],
    )
    flowers_v1 = make_version(alice, flowers, tmp_path, CSV, filename="flowers.csv")
    columns = [
        {"name": "sepal_length", "type": "float", "nulls": 0},
        {"name": "sepal_width", "type": "float", "nulls": 0},
        {"name": "species", "type": "string", "nulls": 0},
    ]
    validation_claim(version_id=flowers_v1.pk, task_id="portal-data")
    validation_finish(
        version_id=flowers_v1.pk,
        task_id="portal-data",
        passed=True,
        reason="CSV with 3 columns and 2 rows.",
        signature={"columns": columns},
        details={"profile": {"format": "csv", "row_count": 2, "column_count": 3, "columns": columns}},
    )
    card_update(user=alice, version=flowers_v1, fields=complete_card_fields("dataset"))
    clf = make_asset(
        alice,
        team,
        slug="clf",
        name="Flower classifier",
        license="MIT",
        task="tabular-classification",
        summary="A linear classifier of flower species from four measurements.",
        tags=["tabular", "linear"],
        description="Predicts the **species** from sepal and petal sizes.",
    )
    v1 = make_validated_version(alice, clf, tmp_path, version="1.0.0")
    lineage_edge_add(user=alice, source=v1, kind="trained_on", asset="vision/flowers", version="1.0.0")
    approved = approve(v1, submitter=bob, reviewer=dave)
    alias_set(user=dave, asset=clf, name="production", version=approved)
    v2 = make_validated_version(alice, clf, tmp_path, version="1.1.0")
    AssetVersion.objects.filter(pk=v2.pk).update(signature=LINEAR_SIGNATURE, metadata={"accuracy": 0.97})
    fields = complete_card_fields("model")
    fields["sections"]["metrics"] = "Accuracy 0.97 on the held-out split, up from 0.95 in 1.0.0."
    card_update(user=alice, version=v2, fields=fields)
    v2.refresh_from_db()
    version_submit(user=bob, version=v2, note="Better accuracy.")
    notes = make_asset(
        alice,
        team,
        kind="dataset",
        slug="vision-notes",
        name="Vision notes",
        visibility=Visibility.PRIVATE,
        summary="Internal lab notes.",
    )
    mallory = make_user("mallory")
    secret = make_team(mallory, slug="secret")
    Team.objects.filter(pk=secret.pk).update(name="Secret lab")
    hidden = make_asset(
        mallory,
        secret,
        slug="hidden-model",
        name="Hidden flower model",
        visibility=Visibility.PRIVATE,
        summary="A private flower model nobody else may see.",
        tags=["tabular"],
    )
    return Portal(team=team, flowers=flowers, clf=clf, approved=approved, in_review=v2, notes=notes, hidden=hidden)
