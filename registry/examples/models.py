from django.conf import settings
from django.db import models


class InputExample(models.Model):
    """An input a version's model runs on: validation's smoke inference, the endpoint conformance check and the
    portal's copy-paste snippets use it instead of generated values.

    `data` is the canonical .npz of the arrays (registry.examples.arrays), at most a few MiB
    (MODELHUB_INPUT_EXAMPLE_MAX_BYTES), kept in the row so it commits and rolls back with the version and
    needs no blob collection; reads that only describe it defer it. `tensors` is the summary:
    [{"name", "datatype", "shape", "values", "head"}] in order, `head` the first of its `values`; `inline` the whole
    example as V2 inputs when it is small enough to show in a snippet, else null.
    """

    version = models.OneToOneField("registry.AssetVersion", on_delete=models.CASCADE, related_name="input_example")
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of `data`, the canonical .npz.")
    size = models.PositiveIntegerField(help_text="Bytes of the arrays, decoded.")
    tensors = models.JSONField(default=list)
    inline = models.JSONField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["version_id"]

    def __str__(self) -> str:
        return f"input example of version {self.version_id}"

    @property
    def names(self) -> list[str]:
        return [tensor["name"] for tensor in self.tensors]
