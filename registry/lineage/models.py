from django.conf import settings
from django.db import models
from django.db.models import F, Q

from registry.assets.models import AssetKind


class LineageKind(models.TextChoices):
    TRAINED_ON = "trained_on", "Trained on (model -> dataset)"
    DERIVED_FROM = "derived_from", "Derived from (model -> model: fine-tuned, quantised, ...)"
    USES = "uses", "Uses (solution -> model or dataset)"


# Which asset kinds each edge kind joins: the source's kind, and the kinds its target may have.
LINEAGE_KIND_RULES: dict[str, tuple[str, frozenset[str]]] = {
    LineageKind.TRAINED_ON: (AssetKind.MODEL, frozenset({AssetKind.DATASET})),
    LineageKind.DERIVED_FROM: (AssetKind.MODEL, frozenset({AssetKind.MODEL})),
    LineageKind.USES: (AssetKind.SOLUTION, frozenset({AssetKind.MODEL, AssetKind.DATASET})),
}


class LineageEdge(models.Model):
    """`source` depends on `target`: a model version was trained on a dataset version, derived from
    another model version, or a solution version uses a model or dataset version.

    Upstream of a version are the targets of its edges (transitively); downstream are the sources
    of the edges pointing at it. The graph is acyclic: the services refuse an edge that closes a cycle.
    """

    source = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="lineage_out")
    target = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="lineage_in")
    kind = models.CharField(max_length=16, choices=LineageKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_id", "target_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"],
                name="lineage_edge_unique",
                violation_error_message="This lineage edge is already declared.",
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")),
                name="lineage_edge_not_self",
                violation_error_message="A version cannot be its own lineage.",
            ),
        ]
        # (source, ...) is served by the unique constraint's index; walking downstream needs target.
        indexes = [models.Index(fields=["target"], name="lineage_edge_target_idx")]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.kind}-> {self.target_id}"
