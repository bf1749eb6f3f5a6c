"""Monitoring windows in the runtime: per-minute profiles, request ids, the spool and the shipper."""

import asyncio
import random

import httpx
import numpy as np
import orjson

from registry.profiles.columns import profile_from_dict, profile_merge
from registry.runtime.monitoring import Monitoring
from registry.runtime.shipper import WindowShipper, WindowSpool, source_id
from registry.runtime.windows import PREDICTION_ROWS

START = 1_800_000_000  # a minute boundary


def _closed() -> tuple[list, Monitoring]:
    closed: list[dict] = []
    return closed, Monitoring(window_seconds=60, predictions=50, on_close=closed.append)


def _observe(monitoring, x, *, at, request_id="r", version="1.0.0", label=None, latency=0.001):
    monitor = monitoring._monitor("m")
    outputs = {
        "label": label if label is not None else np.zeros(len(x), np.int64),
        "probabilities": np.c_[x[:, :1], x[:, :1]],
    }
    monitor.observe({"x": x}, outputs, request_id=request_id, latency=latency, version=version, now=at)


def test_a_window_profiles_every_column_as_the_data_itself():
    closed, monitoring = _closed()
    rng = np.random.default_rng(0)
    batches = [rng.normal([0, 10, -5], [1, 2, 3], size=(int(rng.integers(1, 6)), 3)) for _ in range(300)]
    for i, batch in enumerate(batches):
        _observe(
            monitoring,
            batch.astype(np.float32),
            at=START + i * 0.1,
            request_id=f"r{i}",
            label=(batch[:, 0] > 0).astype(np.int64),
        )
    monitoring.close_due(START + 61)
    assert len(closed) == 1
    window = closed[0]
    rows = np.concatenate(batches).astype(np.float32).astype(np.float64)
    assert window["start"] == START and window["seconds"] == 60 and window["version"] == "1.0.0"
    assert window["requests"] == 300 and window["rows"] == len(rows)
    for column in range(3):
        profile = profile_from_dict(window["inputs"]["x"][column])
        assert profile.count == len(rows)
        np.testing.assert_allclose(profile.mean, rows[:, column].mean(), rtol=1e-9)
        median = np.median(rows[:, column])
        assert abs(float(profile.cdf([median])[0]) - 0.5) < 0.03
    labels = profile_from_dict(window["outputs"]["label"][0])
    assert labels.frequencies() == {"1": int((rows[:, 0] > 0).sum()), "0": int((rows[:, 0] <= 0).sum())}
    assert len(window["outputs"]["probabilities"]) == 2  # one profile per column
    assert profile_from_dict(window["latency_ms"]).count == 300
    assert len(window["predictions"]) == 50 and window["predictions_seen"] == 300  # the reservoir is bounded
    request_id, outputs = window["predictions"][0]
    assert request_id.startswith("r") and len(outputs["label"]) <= PREDICTION_ROWS


def test_windows_roll_at_the_minute_and_on_a_new_version():
    closed, monitoring = _closed()
    x = np.ones((2, 3), np.float32)
    _observe(monitoring, x, at=START + 1)
    _observe(monitoring, x, at=START + 59)
    _observe(monitoring, x, at=START + 60)  # the next minute: the first window closes
    _observe(monitoring, x, at=START + 70, version="2.0.0")  # another version: a window of its own
    assert [(w["start"], w["requests"], w["version"]) for w in closed] == [
        (START, 2, "1.0.0"),
        (START + 60, 1, "1.0.0"),
    ]
    monitoring.forget("m")  # unload ships what is open
    assert closed[-1]["version"] == "2.0.0" and closed[-1]["requests"] == 1


def test_windows_of_replicas_merge_into_the_windows_of_one():
    rng = np.random.default_rng(5)
    data = rng.normal(size=(4000, 2))
    together_closed, together = _closed()
    parts = [_closed() for _ in range(2)]
    for i in range(0, 4000, 4):
        _observe(together, data[i : i + 4], at=START + 1)
        _observe(parts[i // 4 % 2][1], data[i : i + 4], at=START + 1)
    for _, monitoring in [(together_closed, together), *parts]:
        monitoring.close_all()
    merged = profile_merge(
        profile_from_dict(parts[0][0][0]["inputs"]["x"][1]), profile_from_dict(parts[1][0][0]["inputs"]["x"][1])
    )
    single = profile_from_dict(together_closed[0]["inputs"]["x"][1])
    assert merged.count == single.count == 4000
    np.testing.assert_allclose([merged.mean, merged.variance], [single.mean, single.variance], rtol=1e-9)
    for q in (0.1, 0.5, 0.9):
        assert abs(float(merged.cdf(single.quantiles([q]))[0]) - q) < 0.03


def test_failures_count_in_the_window_and_text_inputs_are_categories():
    closed, monitoring = _closed()
    monitor = monitoring._monitor("m")
    monitor.failure(version="1", now=START + 1)
    monitor.observe(
        {"city": np.array([b"paris", b"oslo", b"paris"], dtype=object)},
        {"y": np.array([1.0, 2.0, 3.0], np.float32)},
        request_id="a",
        version="1",
        now=START + 2,
    )
    monitoring.close_all()
    window = closed[0]
    assert window["failures"] == 1 and window["requests"] == 1
    assert profile_from_dict(window["inputs"]["city"][0]).frequencies() == {"paris": 2, "oslo": 1}
    assert profile_from_dict(window["outputs"]["y"][0]).kind == "numeric"


def test_an_idle_monitor_ships_nothing():
    closed, monitoring = _closed()
    monitoring.close_all()
    monitoring._monitor("m").failure(version="1", now=START)
    monitoring.close_due(START + 30)
    assert closed == []


# ----------------------------------------------------------------------------------- spool and shipper


def _window(start: int, wid: str) -> dict:
    return {"id": wid, "model": "m", "version": "1", "start": start, "seconds": 60, "requests": 1}


def test_the_spool_keeps_windows_in_time_order_and_drops_the_oldest_past_its_cap(tmp_path):
    spool = WindowSpool(tmp_path / "spool", max_files=3)
    for n in (3, 1, 2, 4):
        spool.put(_window(START + 60 * n, f"w{n:08d}"))
    assert [p.name.split("-")[1] for p in spool.pending()] == ["w00000002.json", "w00000003.json", "w00000004.json"]
    assert not list((tmp_path / "spool").glob(".*"))  # no partial files left


def test_the_source_id_survives_a_restart(tmp_path):
    assert source_id(tmp_path) == source_id(tmp_path)
    assert source_id(tmp_path) != source_id(tmp_path / "other")


def _shipper(tmp_path, handler):
    monitoring = Monitoring(window_seconds=60)
    spool = WindowSpool(tmp_path / "spool")
    monitoring.on_close = spool.put
    shipper = WindowShipper(
        monitoring,
        spool,
        portal_url="http://portal",
        runtime_secret="s" * 20,
        source="src-1",
        transport=httpx.MockTransport(handler),
    )
    return shipper, spool


def test_the_shipper_removes_windows_only_once_the_portal_took_them(tmp_path):
    answers = iter([httpx.Response(503), httpx.ConnectError("down"), httpx.Response(200, json={"accepted": 2})])
    bodies = []

    def handler(request):
        bodies.append(orjson.loads(request.content))
        assert request.headers["authorization"] == "Bearer " + "s" * 20
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    shipper, spool = _shipper(tmp_path, handler)
    spool.put(_window(START, "a" * 12))
    spool.put(_window(START + 60, "b" * 12))
    assert asyncio.run(shipper.tick()) == 0 and len(spool.pending()) == 2  # 503: kept
    assert asyncio.run(shipper.tick()) == 0 and len(spool.pending()) == 2  # unreachable: kept
    assert asyncio.run(shipper.tick()) == 2 and spool.pending() == []
    assert bodies[-1]["source"] == "src-1" and [w["id"] for w in bodies[-1]["windows"]] == ["a" * 12, "b" * 12]


def test_a_window_the_portal_refuses_is_set_aside_not_retried_forever(tmp_path):
    shipper, spool = _shipper(tmp_path, lambda request: httpx.Response(400, json={"detail": "bad"}))
    spool.put(_window(START, "c" * 12))
    asyncio.run(shipper.tick())
    assert spool.pending() == [] and len(list(spool.rejected.iterdir())) == 1


def test_closing_the_shipper_ships_the_open_windows(tmp_path):
    received = []
    shipper, spool = _shipper(tmp_path, lambda r: received.append(orjson.loads(r.content)) or httpx.Response(200))
    shipper.monitoring.observe("m", {"x": np.ones((1, 2), np.float32)}, {}, request_id="z", version="1")
    asyncio.run(shipper.close())
    assert [w["requests"] for w in received[0]["windows"]] == [1] and spool.pending() == []


def test_a_shipped_window_is_json_the_portal_can_read(tmp_path):
    closed, monitoring = _closed()
    _observe(monitoring, np.array([[np.nan, np.inf, 1.0]], np.float32), at=START, request_id="n")
    monitoring.close_all()
    spool = WindowSpool(tmp_path / "spool")
    raw = spool.put(closed[0]).read_bytes()
    window = orjson.loads(raw)
    first = profile_from_dict(window["inputs"]["x"][0])
    assert first.nulls == 1 and profile_from_dict(window["inputs"]["x"][1]).non_finite == 1
    assert window["predictions"][0][1]["probabilities"] == [[None, None]]


def test_the_reservoir_samples_uniformly():
    from scipy import stats

    from registry.runtime.windows import Reservoir

    rng = random.Random(1)
    included = np.zeros(100)
    for _ in range(4000):
        reservoir = Reservoir(10, rng)
        for item in range(100):
            slot = reservoir.offer()
            if slot is not None:
                reservoir.items[slot] = item
        assert len(reservoir.items) == 10 and len(set(reservoir.items)) == 10
        included[reservoir.items] += 1
    # Each item is kept with probability 10/100, early and late alike.
    assert stats.chisquare(included).pvalue > 0.001
    assert abs(included[:50].sum() - included[50:].sum()) < 0.05 * included.sum()


def test_windows_closed_before_a_restart_are_shipped_after_it(tmp_path):
    received = []

    def down(request):
        raise httpx.ConnectError("the portal is down")

    shipper, _ = _shipper(tmp_path, down)
    shipper.monitoring.observe("m", {"x": np.ones((3, 2), np.float32)}, {}, request_id="before", version="1")
    asyncio.run(shipper.close())  # SIGTERM: the open window is closed and spooled, the post fails
    # A new process over the same state folder, the portal back.
    shipper, spool = _shipper(tmp_path, lambda r: received.append(orjson.loads(r.content)) or httpx.Response(200))
    assert len(spool.pending()) == 1
    assert asyncio.run(shipper.tick()) == 1 and spool.pending() == []
    (window,) = received[0]["windows"]
    assert (window["requests"], window["rows"], window["predictions"][0][0]) == (1, 3, "before")


def test_a_shadows_window_sums_its_agreement_and_counts_what_it_shed():
    from registry.runtime.app import agreement

    live = {"label": np.array([0, 1, 2]), "score": np.array([[0.5], [1.0], [np.nan]]), "extra": np.zeros(3)}
    shadow = {"label": np.array([0, 2, 2]), "score": np.array([[0.25], [1.0], [2.0]]), "extra": np.zeros(4)}
    compared = agreement(live, shadow)
    assert compared == {
        "label": {"rows": 3, "differ": 1},
        "score": {"rows": 3, "abs_diff": 0.25, "values": 2},  # NaN left out
        "extra": {"rows": 3, "mismatched": 3},
    }
    closed, monitoring = _closed()
    for at in (START, START + 1):
        monitoring._monitor("m").observe(
            {"x": np.ones((3, 1), np.float32)}, shadow, request_id="r", version="1", now=at, agreement=compared
        )
    monitoring._monitor("m").shed(now=START + 2)
    monitoring.close_all()
    (window,) = closed
    assert window["agreement"]["label"] == {"rows": 6, "differ": 2} and window["shed"] == 1
