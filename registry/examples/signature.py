"""Does an input example fit a model's inputs? Pure Python (no Django, no numpy), so the validation sandbox's
child, which imports nothing that imports Django, asks the same question as the API does.

An example is described by its tensors' {"name", "datatype" (V2), "shape" (ints)}; a model's inputs as
validation records them, {"name", "dtype" (numpy-style, "float32"), "shape" (int, str or None per dimension,
or None when the rank is unknown)}.
"""

from __future__ import annotations

# Validation's numpy-style dtype names -> V2 datatypes (the Open Inference Protocol's), and back.
V2_OF_DTYPE = {
    "bool": "BOOL",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
    "string": "BYTES",
}
DTYPE_OF_V2 = {v2: dtype for dtype, v2 in V2_OF_DTYPE.items()}
# What is listed of a long list of names in a message.
_NAMES_SHOWN = 10


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_NAMES_SHOWN])
    return shown + (f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else "")


def _shape_text(shape) -> str:
    if shape is None:
        return "any shape"
    return "[" + ", ".join("?" if dim is None else str(dim) for dim in shape) + "]"


def example_mismatches(example: list[dict], inputs: list[dict]) -> list[str]:
    """What keeps `example` from being fed to a model with `inputs`, one sentence per problem (empty: it fits).

    Every input of the model must be in the example and nothing else, with the model's datatype, rank and
    fixed dimensions; symbolic and unknown dimensions take any size.
    """
    problems = []
    by_name = {tensor["name"]: tensor for tensor in example}
    model_names = [spec["name"] for spec in inputs]
    missing = [name for name in model_names if name not in by_name]
    extra = [name for name in by_name if name not in set(model_names)]
    if missing:
        plural = len(missing) > 1
        problems.append(
            f"the model's input{'s' if plural else ''} {_names(missing)} {'are' if plural else 'is'} missing"
        )
    if extra:
        problems.append(
            f"{_names(extra)} {'are not inputs' if len(extra) > 1 else 'is not an input'} of the model "
            f"(its inputs: {_names(model_names) or 'none'})"
        )
    for spec in inputs:
        tensor = by_name.get(spec["name"])
        if tensor is None:
            continue
        wanted = V2_OF_DTYPE.get(spec.get("dtype") or "")
        if wanted is None:
            problems.append(f"input {spec['name']!r} has type {spec.get('dtype')}, which an example cannot give")
            continue
        if tensor["datatype"] != wanted:
            problems.append(f"{spec['name']!r} is {tensor['datatype']} in the example; the model takes {wanted}")
        shape = spec.get("shape")
        if shape is None:
            continue
        given = list(tensor["shape"])
        fixed_differs = any(isinstance(want, int) and want >= 0 and want != got for want, got in zip(shape, given))
        if len(given) != len(shape) or fixed_differs:
            problems.append(
                f"{spec['name']!r} has shape {_shape_text(given)} in the example; the model takes {_shape_text(shape)}"
            )
    return problems


def mismatch_reason(problems: list[str]) -> str:
    """One sentence for a validation report or an API error."""
    return "the input example does not fit the model's inputs: " + "; ".join(problems) + "."
