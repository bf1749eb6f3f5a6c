"""Pruning the asset change log (`registry.search.models.SearchState`: `pruned_below`, `prune_next`)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0012_search_change_log")]

    operations = [
        migrations.AddField(
            model_name="searchstate", name="pruned_below", field=models.BigIntegerField(db_default=0, default=0)
        ),
        migrations.AddField(
            model_name="searchstate", name="prune_next", field=models.BigIntegerField(db_default=0, default=0)
        ),
    ]
