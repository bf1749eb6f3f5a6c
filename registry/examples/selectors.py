from registry.examples.arrays import ExampleArrays, npz_load_canonical
from registry.examples.models import InputExample
from registry.versions.models import AssetVersion


def input_example_get(*, version: AssetVersion) -> InputExample | None:
    """The example's summary row (its arrays deferred) of a version the caller may already see; None without one."""
    return InputExample.objects.filter(version=version).defer("data").select_related("updated_by").first()


def input_example_stored(*, version_id: int) -> InputExample | None:
    """The example's row with its canonical .npz (`data`), or None."""
    return InputExample.objects.filter(version_id=version_id).first()


def input_example_arrays(*, version_id: int) -> tuple[InputExample, ExampleArrays] | None:
    """The example of a version with its arrays (for validation, the endpoint check and the API's GET)."""
    example = InputExample.objects.filter(version_id=version_id).first()
    if example is None:
        return None
    return example, npz_load_canonical(example.data)


def input_example_v2_inputs(*, version_id: int) -> list[dict] | None:
    """The example as V2 JSON input tensors, or None when the version has none."""
    found = input_example_arrays(version_id=version_id)
    return found[1].v2_inputs() if found is not None else None
