"""Which dataset column each input column of a model is, and what each output means: the feature map.

A model version states it in its card's front matter (the card editor's YAML) or in its upload metadata, as
`feature_map`:

    feature_map:
      inputs:
        input: [sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm]   # input[:, j] = column j
      outputs:
        label: label                 # label | probabilities | value
        probabilities: probabilities

`inputs` may also name single columns: `{"input[:, 0]": "sepal_length_cm"}`; an empty name leaves a column out.
When nothing is stated, the map is inferred when the training dataset's columns match the input's width in order
(all of them, or all but the last, which is then taken as the target), and the map says it was inferred and why.
Outputs without a stated role get one from their type: integer or text outputs are labels, a float output with
one column per class beside a label is the probabilities, a lone float output is the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from registry.kernel.errors import InvalidInput

OUTPUT_ROLES = ("label", "probabilities", "value")
_COLUMN_KEY = re.compile(r"^\s*([A-Za-z0-9_.:/-]+)\s*\[\s*:\s*,\s*(\d+)\s*\]\s*$")
# Validation records numpy-style dtypes ("int64", "string"); V2 metadata says "INT64", "BYTES".
_LABEL_TYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool", "string", "bytes"}


def _is_label(tensor: dict) -> bool:
    dtype = str(tensor.get("dtype") or tensor.get("datatype") or "").lower()
    return dtype in _LABEL_TYPES


@dataclass
class FeatureMap:
    # (input name, column) -> dataset column name
    inputs: dict[tuple[str, int], str] = field(default_factory=dict)
    # output name -> role
    outputs: dict[str, str] = field(default_factory=dict)
    source: str = "none"  # stated | inferred | none
    note: str = ""

    def feature_name(self, tensor: str, column: int, width: int) -> str:
        """The name a feature is shown and reported under: its dataset column, else `tensor[:, j]`."""
        mapped = self.inputs.get((tensor, column))
        if mapped:
            return mapped
        return tensor if width == 1 else f"{tensor}[:, {column}]"

    def output_with_role(self, role: str) -> str | None:
        return next((name for name, r in self.outputs.items() if r == role), None)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "note": self.note,
            "inputs": {f"{t}[:, {c}]": name for (t, c), name in sorted(self.inputs.items())},
            "outputs": dict(self.outputs),
        }


def _width(tensor: dict) -> int | None:
    shape = tensor.get("shape") or []
    if len(shape) == 1:
        return 1
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] > 0:
        return shape[1]
    return None


def feature_map_parse(value, *, signature: dict, dataset_columns: list[str] | None) -> FeatureMap:
    """A stated feature map checked against the model's signature and, when known, the dataset's columns.

    Raises InvalidInput naming what is wrong (an unknown tensor, a column past the tensor's width, a dataset
    column that does not exist, an unknown output role)."""
    if not isinstance(value, dict) or set(value) - {"inputs", "outputs"}:
        raise InvalidInput("feature_map is an object with 'inputs' and 'outputs'.", field="feature_map")
    tensors = {t.get("name"): t for t in (signature or {}).get("inputs") or []}
    outputs = {t.get("name"): t for t in (signature or {}).get("outputs") or []}
    known_columns = set(dataset_columns) if dataset_columns is not None else None
    stated = FeatureMap(source="stated", note="stated in the model's card or upload metadata")
    inputs = value.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise InvalidInput("feature_map.inputs maps input names to lists of dataset columns.", field="feature_map")
    for key, columns in inputs.items():
        match = _COLUMN_KEY.match(str(key))
        if match:
            name, pairs = match.group(1), [(int(match.group(2)), columns)]
        else:
            name = str(key)
            if isinstance(columns, str):
                columns = [columns]
            if not isinstance(columns, list):
                raise InvalidInput(f"feature_map.inputs.{name} must be a list of dataset columns.", field="feature_map")
            pairs = list(enumerate(columns))
        if name not in tensors:
            raise InvalidInput(
                f"feature_map names input '{name}', which the model does not have (inputs: {sorted(tensors)}).",
                field="feature_map",
            )
        width = _width(tensors[name])
        widest = max((column for column, _ in pairs), default=-1)
        if width is not None and widest >= width:
            raise InvalidInput(
                f"feature_map maps column {widest} of input '{name}', which has {width} columns.", field="feature_map"
            )
        for column, dataset_column in pairs:
            if dataset_column in (None, ""):
                continue
            if not isinstance(dataset_column, str):
                raise InvalidInput("feature_map names dataset columns as strings.", field="feature_map")
            if known_columns is not None and dataset_column not in known_columns:
                raise InvalidInput(
                    f"feature_map maps {name}[:, {column}] to '{dataset_column}', which the dataset does not have.",
                    field="feature_map",
                )
            stated.inputs[(name, column)] = dataset_column
    roles = value.get("outputs") or {}
    if not isinstance(roles, dict):
        raise InvalidInput("feature_map.outputs maps output names to roles.", field="feature_map")
    for name, role in roles.items():
        if name not in outputs:
            raise InvalidInput(
                f"feature_map names output '{name}', which the model does not have (outputs: {sorted(outputs)}).",
                field="feature_map",
            )
        if role not in OUTPUT_ROLES:
            raise InvalidInput(
                f"feature_map gives output '{name}' the role '{role}'; roles: {', '.join(OUTPUT_ROLES)}.",
                field="feature_map",
            )
        stated.outputs[name] = role
    _default_roles(stated, outputs)
    return stated


def feature_map_infer(*, signature: dict, dataset_columns: list[str] | None) -> FeatureMap:
    """The map inferred from the dataset's columns in order, or an empty map that says why there is none."""
    inputs = (signature or {}).get("inputs") or []
    outputs = {t.get("name"): t for t in (signature or {}).get("outputs") or []}
    inferred = FeatureMap(source="none")
    if dataset_columns is None:
        inferred.note = "no training dataset with a profile: features are named by their tensor columns"
    elif len(inputs) != 1 or _width(inputs[0]) is None:
        inferred.note = "the model has several inputs or one of variable width: state a feature_map to map them"
    else:
        name, width = inputs[0]["name"], _width(inputs[0])
        if len(dataset_columns) in (width, width + 1):
            for column, dataset_column in enumerate(dataset_columns[:width]):
                inferred.inputs[(name, column)] = dataset_column
            inferred.source = "inferred"
            extra = (
                f"; its last column '{dataset_columns[-1]}' is taken as the target"
                if len(dataset_columns) > width
                else ""
            )
            inferred.note = (
                f"inferred: the dataset's first {width} columns match the width of input '{name}' in order{extra}"
            )
        else:
            inferred.note = (
                f"the dataset has {len(dataset_columns)} columns and input '{name}' {width}: "
                "state a feature_map to map them"
            )
    _default_roles(inferred, outputs)
    return inferred


def _default_roles(feature_map: FeatureMap, outputs: dict) -> None:
    labels = [n for n, t in outputs.items() if n not in feature_map.outputs and _is_label(t)]
    for name in labels:
        feature_map.outputs[name] = "label"
    floats = [n for n in outputs if n not in feature_map.outputs]
    has_label = feature_map.output_with_role("label") is not None
    for name in floats:
        feature_map.outputs[name] = "probabilities" if has_label else "value"
