"""Benchmark: how many ~1 MB ONNX models one runtime host holds, and how fast it loads them.

    .venv/bin/python tests/benchmarks/runtime_density.py [--models 50] [--features 512] [--start-method spawn]

Builds --models distinct dense models (tanh(x @ W + b), W of features x features float32: 1 MiB at
512), loads them one after another into a ProcessModelHost (one worker process each, forked from the
numpy+onnxruntime zygote), runs one inference on each, and prints the load times and the memory:
PSS (proportional set size: shared pages divided among the processes sharing them) and RSS of every
worker, of the zygote and of this process. It fails (exit status 1) if the total PSS passes
--budget-mb (4096 by default: the target is 50 endpoints within 4 GB). `--start-method spawn` starts
every worker as a fresh interpreter instead, to show what the zygote saves.

"MB" means MiB throughout. Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20


async def measure(models: int, features: int, budget_mb: float, folder: Path, start_method: str) -> int:
    import numpy as np
    import psutil

    from registry.runtime.host import ProcessModelHost
    from registry.runtime.interface import ModelConfig
    from tests.registry.runtime import host_fixtures

    paths = [
        host_fixtures.save(host_fixtures.dense_model(features, features, seed=index), folder / "models", f"m{index}")[0]
        for index in range(models)
    ]
    import multiprocessing

    context = None if start_method == "forkserver" else multiprocessing.get_context(start_method)
    host = ProcessModelHost(state_dir=folder / "state", spawn_context=context)
    try:
        started = time.monotonic()
        await host.load(ModelConfig(name="m0", path=str(paths[0])))
        first = time.monotonic() - started  # includes starting the zygote
        times = []
        for index, path in enumerate(paths[1:], start=1):
            began = time.monotonic()
            await host.load(ModelConfig(name=f"m{index}", path=str(path)))
            times.append(time.monotonic() - began)
        total_load = time.monotonic() - started
        x = np.ones((1, features), np.float32)
        for index in range(models):
            await host.infer(f"m{index}", {"x": x}, None)

        workers = [psutil.Process(host.worker_pid(f"m{index}")).memory_full_info() for index in range(models)]
        me = psutil.Process()
        zygotes = [
            child for child in me.children() if child.pid not in {host.worker_pid(f"m{i}") for i in range(models)}
        ]
        others = [me.memory_full_info(), *(child.memory_full_info() for child in zygotes)]
        worker_pss = [info.pss / MIB for info in workers]
        worker_rss = [info.rss / MIB for info in workers]
        total = sum(worker_pss) + sum(info.pss / MIB for info in others)
        print(
            f"start method: {start_method}; models: {models} of {features * features * 4 / MIB:.2f} MiB of weights each"
        )
        print(
            f"load: first {first * 1000:.0f} ms (includes starting the zygote), then median "
            f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; all {models} in "
            f"{total_load:.2f} s"
        )
        print(
            f"per worker: PSS median {statistics.median(worker_pss):.1f} MiB (max {max(worker_pss):.1f}), "
            f"RSS median {statistics.median(worker_rss):.1f} MiB (max {max(worker_rss):.1f})"
        )
        print(
            f"host process PSS {others[0].pss / MIB:.1f} MiB, zygote PSS "
            f"{sum(info.pss for info in others[1:]) / MIB:.1f} MiB"
        )
        print(f"total PSS: {total:.0f} MiB for {models} endpoints (budget {budget_mb:.0f} MiB)")
        return 0 if total <= budget_mb else 1
    finally:
        await host.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--budget-mb", type=float, default=4096)
    parser.add_argument("--start-method", choices=["forkserver", "spawn"], default="forkserver")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    with tempfile.TemporaryDirectory(prefix="runtime-density-") as folder:
        return asyncio.run(measure(args.models, args.features, args.budget_mb, Path(folder), args.start_method))


if __name__ == "__main__":  # workers are forked from a zygote that imports this file again as __mp_main__
    sys.exit(main())
