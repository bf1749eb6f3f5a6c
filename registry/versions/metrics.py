"""A version's metrics as data: the numbers its card's `model-index` declares (kept in step with the card) and those
set directly through the API, each a name, a dataset (may be empty) and a finite value. The version list filters on
them (`?metric=accuracy>0.9`, `?metric=f1@iris>=0.8`)."""

import math
import re

from django.db import transaction

from registry.kernel.errors import InvalidInput
from registry.versions.models import AssetVersion, MetricSource, VersionMetric

MAX_METRICS = 200
_FILTER = re.compile(
    r"^(?P<name>[A-Za-z0-9_.\-/ ]{1,100})(?:@(?P<dataset>[^<>=!]{1,200}))?(?P<op>>=|<=|>|<|=)(?P<value>.+)$"
)
OPERATORS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "exact"}


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def metrics_from_model_index(model_index) -> list[tuple[str, str, float]]:
    """(name, dataset, value) for each numeric metric of a Hugging Face `model-index`; others are skipped."""
    found: dict[tuple[str, str], float] = {}
    for entry in model_index if isinstance(model_index, list) else []:
        for result in entry.get("results", []) if isinstance(entry, dict) else []:
            if not isinstance(result, dict):
                continue
            dataset = result.get("dataset") if isinstance(result.get("dataset"), dict) else {}
            where = str(dataset.get("name") or dataset.get("type") or "")[:200]
            for metric in result.get("metrics") or []:
                if not isinstance(metric, dict):
                    continue
                name, value = str(metric.get("type") or metric.get("name") or "")[:100], _number(metric.get("value"))
                if name and value is not None:
                    found[(name, where)] = value
    return [(name, where, value) for (name, where), value in list(found.items())[:MAX_METRICS]]


def _replace(version: AssetVersion, source: str, rows: list[tuple[str, str, float]]) -> None:
    VersionMetric.objects.filter(version=version, source=source).delete()
    VersionMetric.objects.bulk_create(
        VersionMetric(version=version, name=n, dataset=d, value=v, source=source) for n, d, v in rows
    )


def version_metrics_from_card(*, version: AssetVersion, model_index) -> None:
    """Inside the card's transaction: the version's card metrics become what `model_index` declares."""
    _replace(version, MetricSource.CARD, metrics_from_model_index(model_index))


def version_metrics_set(*, version: AssetVersion, metrics) -> list[VersionMetric]:
    """Replace the metrics set directly ([{"name", "value", "dataset"?}]); the card's stay. The caller has
    authorised the change (members of the asset's team). Transactional."""
    if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
        raise InvalidInput(f'metrics: a list of at most {MAX_METRICS} {{"name", "value", "dataset"}}.', field="metrics")
    rows: dict[tuple[str, str], float] = {}
    for item in metrics:
        if not isinstance(item, dict) or set(item) - {"name", "value", "dataset"}:
            raise InvalidInput('metrics: each is {"name", "value", "dataset"?}.', field="metrics")
        name, dataset, value = item.get("name"), item.get("dataset") or "", _number(item.get("value"))
        if not isinstance(name, str) or not 0 < len(name) <= 100 or not isinstance(dataset, str) or len(dataset) > 200:
            raise InvalidInput("metrics: a name of 1-100 characters and a dataset of at most 200.", field="metrics")
        if value is None:
            raise InvalidInput(f"metrics.{name[:100]}: the value is a finite number.", field="metrics")
        rows[(name, dataset)] = value
    with transaction.atomic():
        _replace(version, MetricSource.API, [(n, d, v) for (n, d), v in rows.items()])
    return list(VersionMetric.objects.filter(version=version))


def metric_filters(raw: list[str]) -> list[dict]:
    """`?metric=accuracy>0.9` / `f1@iris>=0.8` as lookups on VersionMetric; InvalidInput says how to write one."""
    filters = []
    for item in raw[:10]:
        match = _FILTER.match(item.strip())
        value = _number(match.group("value")) if match else None
        if match is None or value is None:
            raise InvalidInput(
                f"metric: {item[:80]!r} is not name[@dataset] then >, >=, <, <= or = and a number (accuracy>0.9).",
                field="metric",
            )
        lookup = {"name": match.group("name").strip(), f"value__{OPERATORS[match.group('op')]}": value}
        if match.group("dataset"):
            lookup["dataset"] = match.group("dataset").strip()
        filters.append(lookup)
    return filters
