"""`Asset.usage_count`: the live endpoints serving any of an asset's versions, kept by the endpoint services,
so the catalogue can sort by "most used" through an index (and keyset pages) at any size."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def count_usage(apps, schema_editor):
    Asset = apps.get_model("marketplace", "Asset")
    Endpoint = apps.get_model("registry", "Endpoint")
    live = (
        Endpoint.objects.filter(version__asset_id=OuterRef("pk"))
        .exclude(status="deleted")
        .order_by()
        .values("version__asset_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Asset.objects.filter(pk__in=Endpoint.objects.values("version__asset_id")).update(
        usage_count=Coalesce(Subquery(live), Value(0))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_search"),
        ("registry", "0008_endpoints"),
    ]

    operations = [
        migrations.AddField(
            model_name="asset",
            name="usage_count",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["usage_count", "updated_at", "id"], name="asset_usage_id_idx"),
        ),
        migrations.RunPython(count_usage, migrations.RunPython.noop),
    ]
