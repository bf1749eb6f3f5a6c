from django.conf import settings
from django.db import models


class ModelCard(models.Model):
    """The documentation of one version: a model card (Mitchell et al.) or, for a dataset, a datasheet
    (Gebru et al.), plus a free Markdown body and the Hugging Face front-matter metadata.

    Written only by `registry.cards.services`, which validates every field (`registry.cards.fields`).
    """

    version = models.OneToOneField("registry.AssetVersion", on_delete=models.CASCADE, related_name="card")
    # {section key: Markdown}; the keys are those of the asset kind (registry.cards.sections).
    sections = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, help_text="Free Markdown: everything that is not one of the sections.")
    license = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    datasets = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=list, blank=True)
    base_model = models.JSONField(default=list, blank=True)
    library_name = models.CharField(max_length=100, blank=True)
    pipeline_tag = models.CharField(max_length=100, blank=True)
    # Hugging Face's `model-index` list (evaluation results), verbatim.
    model_index = models.JSONField(default=list, blank=True)
    # Every other front-matter key, verbatim, so an imported README loses nothing.
    extra = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"card of {self.version}"

    def as_fields(self) -> dict:
        """The card's content as the field dict services take and the README export writes."""
        return {
            "sections": dict(self.sections),
            "body": self.body,
            "license": self.license,
            "library_name": self.library_name,
            "pipeline_tag": self.pipeline_tag,
            "tags": list(self.tags),
            "datasets": list(self.datasets),
            "metrics": list(self.metrics),
            "base_model": list(self.base_model),
            "model_index": self.model_index,
            "extra": dict(self.extra),
        }
