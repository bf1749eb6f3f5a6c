"""Live performance of an endpoint: its sampled predictions joined with the ground truth sent for them, measured
with scikit-learn's metrics, and compared with what the model card declares; without labels, an estimate."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

from registry.monitoring.features import FeatureMap
from registry.monitoring.models import GroundTruth, Prediction

# Metrics where higher is better and that live in [0, 1]: a tolerance is an absolute drop.
HIGHER_IS_BETTER = ("accuracy", "f1", "roc_auc", "r2", "precision", "recall")
LOWER_IS_BETTER = ("mae", "rmse")
MIN_LABELS = 30


def _rows(value) -> list:
    return value if isinstance(value, list) else [value]


def _flat(outputs: dict, name: str | None) -> list:
    if name is None or name not in outputs:
        return []
    return _rows(outputs[name])


def labelled_rows(predictions, truths: dict, feature_map: FeatureMap) -> dict:
    """Rows of predictions that have ground truth: y_true, y_pred, and probabilities where the model gives them."""
    label = feature_map.output_with_role("label")
    probabilities = feature_map.output_with_role("probabilities")
    value = feature_map.output_with_role("value")
    y_true, y_pred, y_prob = [], [], []
    for request_id, outputs in predictions:
        truth = truths.get(request_id)
        if truth is None:
            continue
        truth_rows = _rows(truth)
        predicted = _flat(outputs, label) or _flat(outputs, value)
        probs = _flat(outputs, probabilities)
        for row, true in enumerate(truth_rows[: len(predicted)]):
            if true is None or predicted[row] is None:
                continue
            y_true.append(true)
            y_pred.append(predicted[row])
            y_prob.append(probs[row] if row < len(probs) else None)
    return {"y_true": y_true, "y_pred": y_pred, "y_prob": y_prob, "task": "classification" if label else "regression"}


def measure(rows: dict) -> dict:
    """scikit-learn's metrics of labelled rows: accuracy, macro F1 and ROC AUC (one-vs-rest, when the labels are
    the probability columns' indices) for a classifier; MAE, RMSE and R2 for a regressor."""
    y_true, y_pred = rows["y_true"], rows["y_pred"]
    n = len(y_true)
    result = {"labels": n, "task": rows["task"], "metrics": {}}
    if n == 0:
        return result
    if rows["task"] == "classification":
        true = [str(v) for v in y_true]
        pred = [str(v) for v in y_pred]
        result["metrics"]["accuracy"] = float(skm.accuracy_score(true, pred))
        result["metrics"]["f1"] = float(skm.f1_score(true, pred, average="macro", zero_division=0))
        auc = _roc_auc(y_true, rows["y_prob"])
        if auc is not None:
            result["metrics"]["roc_auc"] = auc
        return result
    try:
        true = np.asarray(y_true, dtype=np.float64)
        pred = np.asarray([_first(v) for v in y_pred], dtype=np.float64)
    except (TypeError, ValueError):
        return result
    result["metrics"]["mae"] = float(skm.mean_absolute_error(true, pred))
    result["metrics"]["rmse"] = float(math.sqrt(skm.mean_squared_error(true, pred)))
    if n > 1:
        result["metrics"]["r2"] = float(skm.r2_score(true, pred))
    return result


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def _roc_auc(y_true: list, y_prob: list) -> float | None:
    if any(p is None or not isinstance(p, list) for p in y_prob):
        return None
    probs = np.asarray(y_prob, dtype=np.float64)
    try:
        labels = np.asarray([int(v) for v in y_true])
    except (TypeError, ValueError):
        return None
    classes = probs.shape[1] if probs.ndim == 2 else 0
    present = np.unique(labels)
    if classes < 2 or labels.min() < 0 or labels.max() >= classes or len(present) < 2:
        return None
    try:
        if classes == 2:
            return float(skm.roc_auc_score(labels, probs[:, 1]))
        if len(present) < classes:
            return None  # one-vs-rest needs every class among the labels
        return float(skm.roc_auc_score(labels, probs, multi_class="ovr"))
    except ValueError:
        return None


def estimate(predictions, feature_map: FeatureMap) -> dict | None:
    """A classifier's expected accuracy from its own probabilities, as NannyML's CBPE estimates it: the mean of
    the probability of the predicted class. It holds when the probabilities are calibrated (a model from
    scikit-learn's logistic regression or a calibrated classifier); it is shown as an estimate."""
    probabilities = feature_map.output_with_role("probabilities")
    if probabilities is None or feature_map.output_with_role("label") is None:
        return None
    confidences = []
    for _, outputs in predictions:
        for row in _flat(outputs, probabilities):
            if isinstance(row, list) and row and all(isinstance(p, int | float) and p is not None for p in row):
                confidences.append(max(row))
    if not confidences:
        return None
    return {"accuracy": float(np.mean(confidences)), "rows": len(confidences), "method": "confidence (CBPE)"}


def endpoint_performance(*, endpoint, feature_map: FeatureMap, start, end) -> dict:
    """Measured (where ground truth arrived) and estimated performance of the predictions sampled in [start, end)."""
    predictions = list(
        Prediction.objects.filter(endpoint=endpoint, predicted_at__gte=start, predicted_at__lt=end).values_list(
            "request_id", "outputs"
        )
    )
    truths = dict(
        GroundTruth.objects.filter(endpoint=endpoint, request_id__in=[p[0] for p in predictions]).values_list(
            "request_id", "value"
        )
    )
    measured = measure(labelled_rows(predictions, truths, feature_map))
    return {"predictions": len(predictions), "measured": measured, "estimated": estimate(predictions, feature_map)}


def declared_metrics(version) -> dict[str, float]:
    """The metrics the version declares: its model card's Hugging Face model-index results, then the `metrics`
    of its upload metadata (`{"accuracy": 0.97}`, as MLflow logs them): {type: value}."""
    card = getattr(version, "card", None)  # no card: the reverse one-to-one raises an AttributeError
    declared = {}
    for model in _dicts(card.model_index if card is not None else []):
        for result in _dicts(model.get("results")):
            for metric in _dicts(result.get("metrics")):
                kind, value = str(metric.get("type", "")).lower(), metric.get("value")
                if kind and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                    declared.setdefault(kind, float(value))
    logged = (version.metadata or {}).get("metrics") if isinstance(version.metadata, dict) else None
    for kind, value in (logged or {}).items() if isinstance(logged, dict) else ():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            declared.setdefault(str(kind).lower(), float(value))
    return declared


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def degraded(measured: dict, declared: dict, tolerance: float) -> tuple[bool, dict] | None:
    """Whether live performance fell below the declared one by more than `tolerance` (absolute for scores in
    [0, 1], relative for errors); None when no declared metric can be measured."""
    compared = {}
    for name, live in (measured.get("metrics") or {}).items():
        if name not in declared:
            continue
        target = declared[name]
        if name in HIGHER_IS_BETTER:
            compared[name] = {"live": live, "declared": target, "degraded": live < target - tolerance}
        elif name in LOWER_IS_BETTER:
            compared[name] = {"live": live, "declared": target, "degraded": live > target * (1 + tolerance)}
    if not compared or measured.get("labels", 0) < MIN_LABELS:
        return None
    return any(c["degraded"] for c in compared.values()), compared
