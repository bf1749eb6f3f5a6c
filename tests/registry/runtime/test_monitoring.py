"""Per-model statistics and samples for drift monitoring, and the metrics' bookkeeping."""

import random

import numpy as np

from registry.runtime.metrics import RuntimeMetrics
from registry.runtime.monitoring import ModelMonitor, Monitoring


def test_running_statistics_match_numpy_across_folds():
    rng = np.random.default_rng(1)
    monitor = ModelMonitor()
    batches = [rng.normal(3, 2, size=(int(rng.integers(1, 9)), 3)) for _ in range(150)]
    for batch in batches:
        monitor.observe({"x": batch.astype(np.float32)}, {})
    monitor.observe({"x": np.array([[np.nan, 1, 1]], np.float32)}, {})
    stats = monitor.as_dict()["inputs"]["x"]
    rows = np.concatenate(batches).astype(np.float32).astype(np.float64)
    assert stats["count"] == len(rows) and stats["non_finite_rows"] == 1
    np.testing.assert_allclose(stats["mean"], rows.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(stats["variance"], rows.var(axis=0, ddof=1), rtol=1e-9)
    np.testing.assert_allclose(stats["max"], rows.max(axis=0))


def test_the_reservoir_is_bounded_and_summaries_are_small():
    monitor = ModelMonitor(sample_size=8, rng=random.Random(3))
    for i in range(1000):
        monitor.observe(
            {"x": np.full((1, 100), i, np.float32), "s": np.array([b"y" * 500], dtype=object)},
            {"label": np.array([i % 3])},
        )
    doc = monitor.as_dict()
    assert doc["requests"] == 1000 and len(doc["samples"]) == 8
    kept = sorted(s["inputs"]["x"]["values"][0] for s in doc["samples"])
    assert kept[-1] > 100  # later requests replace earlier ones
    sample = doc["samples"][0]["inputs"]
    assert len(sample["x"]["values"]) == 16 and sample["x"]["truncated"] and len(sample["s"]["values"][0]) == 64
    assert doc["outputs"]["label"] == {"values": {"0": 334, "1": 333, "2": 333}, "other": 0}
    assert "s" not in doc["inputs"]  # only numeric inputs have column statistics


def test_value_counts_are_capped():
    monitoring = Monitoring(max_values=5)
    for i in range(20):
        monitoring.observe("m", {}, {"label": np.array([f"class-{i}"], dtype=object)})
    counts = monitoring.stats("m")["outputs"]["label"]
    assert len(counts["values"]) == 5 and counts["other"] == 15
    monitoring.forget("m")
    assert monitoring.stats("m")["requests"] == 0


def test_metrics_forget_a_model():
    metrics = RuntimeMetrics()
    metrics.request_started()
    metrics.request_finished("m", 200, 0.001)
    metrics.observe_batch("m", 4)
    text = metrics.render().decode()
    assert 'modelhub_runtime_batch_size_sum{model="m"} 4.0' in text and 'code="200",model="m"' in text
    metrics.forget("m")
    assert 'model="m"' not in metrics.render().decode()


# --------------------------------------------------------------------------------- the last hour


def test_the_last_hour_counts_minutes_apart_and_forgets_older_ones():
    from registry.runtime.metrics import RecentLatency

    recent = RecentLatency()
    start = 1_800_000_000.0  # a minute boundary
    for _ in range(90):
        recent.observe(0.0007, start + 5)  # bucket (0.5 ms, 1 ms]
    for _ in range(10):
        recent.observe(0.2, start + 5)  # bucket (100 ms, 250 ms]
    recent.observe(0.003, start + 125)  # two minutes later
    window = recent.window(start + 130)
    assert window["requests"] == 101
    assert [m["minute"] for m in window["per_minute"]] == [start, start + 120]
    first = window["per_minute"][0]
    assert first["requests"] == 100 and 0.5 < first["latency_p50_ms"] <= 1.0 and 100 < first["latency_p95_ms"] <= 250
    assert window["per_minute"][1] == {
        "minute": start + 120,
        "requests": 1,
        "latency_p50_ms": 3.75,
        "latency_p95_ms": 4.875,
    }
    # An hour on, the first minute is out of the window, and its slot is reused with fresh counts.
    assert recent.window(start + 3600 + 1)["requests"] == 1
    recent.observe(0.0007, start + 3600 + 1)
    later = recent.window(start + 3600 + 2)
    assert later["requests"] == 2 and later["per_minute"][-1]["requests"] == 1
    assert recent.window(start + 3 * 3600)["per_minute"] == []
