"""Benchmark: what monitoring costs and how well it detects, in one run.

    .venv/bin/python tests/benchmarks/monitoring.py [--seconds 3] [--rounds 4] [--profile-mb 1000] [--trials 20]

Prints:
1. The runtime's throughput, p99 and CPU time per request at 16 connections with monitoring windows on and off:
   three runtimes side by side (one on, two off: the second off one gives the noise floor), each as
   tests/benchmarks/runtime_http.py starts one (its HTTP layer over the in-process host with the `add` model, 4 float
   features in and out), loaded in interleaved slices so that whatever else the machine does falls on all alike;
   and the cost of the recording itself per request, timed in-process. On a 2-core machine the load generator
   shares the cores, so throughput slices are noisy; the runtime's CPU seconds per request (psutil) are the steadier
   measure of what monitoring costs, and the off/off ratio says how far to trust it.
2. False alarms over 100 evaluations of unshifted data (4 normal features, periods of 500 rows, the default
   thresholds: each metric's 99.9th percentile on the reference, alarm after 2 periods in a row).
3. Rows needed to raise the alarm for a 0.2 standard-deviation shift of one feature (median and worst of
   --trials trials) at the same defaults.
4. Profile speed of a CSV of --profile-mb MB against pyarrow.csv reading it alone.
5. Sketch bytes per feature per window (JSON, as the runtime ships them) at several window sizes.
Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.runtime_http import KEY, MODEL, SECRET  # noqa: E402

FEATURES = 4
PERIOD_ROWS = 500
ALARM_AFTER = 2


def serve(port: int, model_dir: str, monitoring: bool) -> None:
    from registry.runtime import http_server
    from registry.runtime.app import RuntimeSettings, create_app
    from registry.runtime.auth import StaticAuthorizer
    from registry.runtime.metrics import RuntimeMetrics
    from registry.runtime.monitoring import Monitoring
    from registry.runtime.shipper import WindowSpool
    from tests.registry.runtime.conftest import load_all
    from tests.registry.runtime.inprocess_host import InProcessHost, write_models

    metrics = RuntimeMetrics()
    host = InProcessHost(metrics)
    load_all(host, {MODEL: write_models(Path(model_dir))[MODEL]})
    spool = WindowSpool(Path(model_dir) / "spool")
    app = create_app(
        host,
        auth=StaticAuthorizer({"*": {hashlib.sha256(KEY.encode()).hexdigest()}}),
        metrics=metrics,
        settings=RuntimeSettings(runtime_secret=SECRET, monitoring=monitoring),
        monitoring=Monitoring(on_close=spool.put),
    )
    http_server.run(app, host="127.0.0.1", port=port, max_body=app.settings.max_body)


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, process) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("a runtime did not start") from None
            time.sleep(0.1)


def hot_path(seconds: float, rounds: int) -> None:
    print("\n1. The runtime with monitoring windows on and off, 16 connections, JSON, interleaved slices")
    # A second runtime with monitoring off measures the noise floor: what two equal runtimes differ by here.
    modes = {"on": True, "off": False, "off (again)": False}
    results = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as scratch:
        servers = {}
        for mode, monitoring in modes.items():
            port, folder = _free_port(), tempfile.mkdtemp(dir=scratch)
            process = subprocess.Popen(
                [sys.executable, __file__, "--_serve", str(port), folder, "1" if monitoring else "0"], cwd=ROOT
            )
            servers[mode] = (port, process)
        try:
            for port, process in servers.values():
                _wait_listening(port, process)
            order = list(modes)
            for round_ in range(rounds + 1):
                for mode in order[round_ % len(order) :] + order[: round_ % len(order)]:
                    port, process = servers[mode]
                    cpu_before = _cpu_seconds(process.pid)
                    done = subprocess.run(
                        [
                            sys.executable,
                            str(ROOT / "tests/benchmarks/runtime_http.py"),
                            "--_load",
                            str(port),
                            "16",
                            str(seconds),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    if round_:  # the first round warms them up
                        row = json.loads(done.stdout)
                        row["cpu_us"] = (_cpu_seconds(process.pid) - cpu_before) / max(row["requests"], 1) * 1e6
                        results[mode].append(row)
        finally:
            for _, process in servers.values():
                process.terminate()
                process.wait(10)
    summary = {}
    for mode, rows in results.items():
        rps = sum(r["requests"] for r in rows) / (seconds * len(rows))
        p99 = float(np.median([r["p99_ms"] for r in rows]))
        cpu = float(np.median([r["cpu_us"] for r in rows]))
        summary[mode] = (rps, p99, cpu)
        print(
            f"   monitoring {mode:11}: {rps:9.0f} req/s, p99 {p99:.3f} ms, "
            f"runtime CPU {cpu:.1f} us per request (medians of {len(rows)} slices)"
        )
    ratio = summary["on"][0] / summary["off"][0]
    print(f"   throughput on/off: {ratio:.3f} (the load generator shares the 2 cores: slices vary by +-25%)")
    capacity = summary["off"][2] / summary["on"][2]
    floor = summary["off"][2] / summary["off (again)"][2]
    print(
        f"   capacity on/off (runtime CPU per request, off/on): {capacity:.3f} "
        f"({(1 - capacity) * 100:+.1f}% fewer requests per CPU second with monitoring; target at most 3%); "
        f"noise floor off/off (again): {floor:.3f}"
    )
    print(f"   p99 on/off: {summary['on'][1] / summary['off'][1]:.3f}")

    from registry.runtime.monitoring import Monitoring

    closed = []
    monitoring = Monitoring(on_close=closed.append)
    x = np.random.default_rng(0).normal(size=(1, FEATURES)).astype(np.float32)
    outputs = {"y": x.copy()}
    n = 200_000
    started = time.perf_counter()
    for i in range(n):
        monitoring.observe(MODEL, {"x": x}, outputs, request_id=f"r{i}", latency=0.0002, version="1")
    monitoring.close_all()
    per = (time.perf_counter() - started) / n * 1e6
    print(f"   recording in-process: {per:.2f} us per request of 1 row x {FEATURES} features and {FEATURES} outputs")


def _reference(rows: int, seed: int):
    from registry.profiles.columns import NumericProfile

    data = np.random.default_rng(seed).normal(size=(rows, FEATURES))
    profiles = []
    for j in range(FEATURES):
        profile = NumericProfile()
        profile.update(data[:, j])
        profiles.append(profile)
    return profiles


def _period(data: np.ndarray):
    from registry.profiles.columns import NumericProfile

    profiles = []
    for j in range(data.shape[1]):
        profile = NumericProfile()
        profile.update(data[:, j])
        profiles.append(profile)
    return profiles


def _drifted(reference, thresholds, period) -> list[int]:
    from registry.profiles.drift import drift_scores

    over = []
    for j, (ref, cur) in enumerate(zip(reference, period)):
        scores = drift_scores(ref, cur)
        if any(scores[m] > thresholds[j][m] for m in scores if m in thresholds[j]):
            over.append(j)
    return over


def detection(trials: int) -> None:
    from registry.profiles.calibration import calibrate, rows_bucket

    reference = _reference(20_000, seed=1)
    bucket = rows_bucket(PERIOD_ROWS)  # as registry.monitoring.evaluation calibrates
    started = time.perf_counter()
    thresholds = [calibrate(profile, window_rows=bucket) for profile in reference]
    calibration = time.perf_counter() - started
    rng = np.random.default_rng(2)
    print(
        f"\n2. False alarms over 100 periods of {PERIOD_ROWS} unshifted rows ({FEATURES} features; calibration took {calibration:.2f} s)"
    )
    flags = [
        bool(_drifted(reference, thresholds, _period(rng.normal(size=(PERIOD_ROWS, FEATURES))))) for _ in range(100)
    ]
    alarms = sum(1 for i in range(1, len(flags)) if flags[i] and flags[i - 1] and not (i > 1 and flags[i - 2]))
    print(
        f"   periods with a feature over its threshold: {sum(flags)} of 100; alarms (2 in a row): {alarms} (target at most 1)"
    )

    print(
        f"\n3. Rows until the alarm for a 0.2 sd shift of one feature ({trials} trials, periods of {PERIOD_ROWS} rows)"
    )
    needed = []
    for _ in range(trials):
        streak, rows = 0, 0
        while streak < ALARM_AFTER and rows < 100_000:
            data = rng.normal(size=(PERIOD_ROWS, FEATURES))
            data[:, 0] += 0.2
            rows += PERIOD_ROWS
            streak = streak + 1 if 0 in _drifted(reference, thresholds, _period(data)) else 0
        needed.append(rows)
    print(f"   median {int(np.median(needed))} rows, worst {max(needed)} (target at most 2,000)")


def profile_speed(megabytes: int) -> None:
    import pyarrow.csv as pacsv

    from registry.validation.datasets import profile_dataset

    print(f"\n4. Profiling a CSV of {megabytes} MB against pyarrow.csv reading it alone")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        rng = np.random.default_rng(3)
        with open(path, "w") as out:
            out.write(",".join([f"f{j}" for j in range(10)] + ["count", "colour"]) + "\n")
            colours = np.array(["red", "green", "blue", "amber"])
            while out.tell() < megabytes * 1_000_000:
                block = rng.normal(size=(20_000, 10))
                counts = rng.integers(0, 1000, 20_000)
                picks = colours[rng.integers(0, 4, 20_000)]
                lines = [",".join(f"{v:.6g}" for v in row) + f",{c},{p}" for row, c, p in zip(block, counts, picks)]
                out.write("\n".join(lines) + "\n")
        size = path.stat().st_size / 1e6
        started = time.perf_counter()
        with pacsv.open_csv(path) as reader:
            for _ in reader:
                pass
        arrow = time.perf_counter() - started
        started = time.perf_counter()
        profile = profile_dataset(path, filename="data.csv")
        ours = time.perf_counter() - started
    print(
        f"   pyarrow.csv: {size / arrow:.0f} MB/s; profile_dataset: {size / ours:.0f} MB/s; ratio {arrow / ours:.2f} (target at least 0.5)"
    )
    sizes = [len(json.dumps(p)) for p in (profile.get("profiles") or {}).values()]
    if sizes:
        print(f"   profile bytes per column: {min(sizes)} to {max(sizes)}")


def sketch_bytes() -> None:
    from registry.runtime.windows import Window

    print("\n5. Sketch bytes per feature per window (JSON as shipped)")
    rng = np.random.default_rng(4)
    for rows in (1, 60, 6_000, 600_000):
        window = Window("m", "1", 0, 60, predictions=0, rng=random.Random(0))
        data = rng.normal(size=(rows, FEATURES)).astype(np.float32)
        for start in range(0, rows, 1000):
            chunk = data[start : start + 1000]
            window.fold([("r", {"x": chunk}, {"label": (chunk[:, 0] > 0).astype(np.int64)}, 0.001)])
        numeric = np.mean([len(json.dumps(p.to_dict())) for p in window.inputs["x"]])
        label = len(json.dumps(window.outputs["label"][0].to_dict()))
        print(f"   {rows:>7} rows: {numeric:6.0f} bytes per numeric feature, {label:5d} per label output")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per load slice")
    parser.add_argument("--rounds", type=int, default=4, help="slices per mode")
    parser.add_argument("--profile-mb", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--skip", default="", help="comma-separated sections to skip (1-5)")
    parser.add_argument("--_serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._serve:
        serve(int(args._serve[0]), args._serve[1], args._serve[2] == "1")
        return 0
    skip = set(args.skip.split(","))
    print(f"monitoring benchmark, {os.cpu_count()} CPUs")
    if "1" not in skip:
        hot_path(args.seconds, args.rounds)
    if "2" not in skip:
        detection(args.trials)
    if "4" not in skip:
        profile_speed(args.profile_mb)
    if "5" not in skip:
        sketch_bytes()
    return 0


if __name__ == "__main__":
    sys.exit(main())
