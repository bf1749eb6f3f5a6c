"""Benchmark: transfers through the Python client against curl on the same URL, in one run.

    .venv/bin/python tests/benchmarks/transfer.py [--size-mb 1024] [--keep]

Starts the real stack on a fresh data folder as tests/benchmarks/upload.py does (gunicorn, a Celery worker,
embedded SQLite, local storage), builds an ONNX model with --size-mb of external weights, and prints:
1. push: `Client.push` of the zip (one streamed request, SHA-256 sent along) against `curl -F` of the same zip, and
   of the zip's two files through resumable upload sessions (until the worker has verified them);
2. pull: `Client.pull` of the version into an empty cache (every byte hashed on the way) against `curl -o` of
   the weights file, the largest, interleaved, medians of 3 rounds (the disk's write-back makes single runs vary
   by 2-3x here);
3. resume: `modelhub pull` killed (SIGKILL) once half of the weights have arrived, then run again: the bytes the
   second transfer asked for against the bytes missing at the kill;
4. push resume: `modelhub push --resumable` killed once half of the weights' parts have arrived, then run again:
   the bytes of the parts sent again against the bytes of the parts missing at the kill.
"MB" is MiB. Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.upload import MB, generate_model, start_processes, start_stack  # noqa: E402

VERSION, CURL_VERSION, SESSION_VERSION, RESUMED_VERSION = "1.0.0", "1.0.1", "1.0.2", "1.0.3"
ROUNDS = 3


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def curl(*args: str) -> None:
    subprocess.run(["curl", "-sS", "--fail", *args], check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    if shutil.which("curl") is None:
        print("curl is not installed: nothing to compare with")
        return 1
    root = Path(tempfile.mkdtemp(prefix="transfer-bench-"))
    try:
        return run(root, args.size_mb)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, size_mb: int) -> int:
    from marketplace.client import Client

    model = generate_model(root / "model", size_mb)
    stack = start_stack(root / "stack")
    start_processes(stack)
    try:
        url = f"http://127.0.0.1:{stack.port}"
        slug = f"{stack.slug}/{stack.slug}"
        auth = f"Authorization: Bearer {stack.token}"
        client = Client(url, stack.token, cache_folder=root / "cache", timeout=600)
        print(f"transfer benchmark: {model.zip_size / MB:.0f} MB zip, weights {model.weights_size / MB:.0f} MB")

        print("\n1. Push: one streamed request")
        pushed = timed(lambda: client.push(slug, VERSION, model.zip_path, wait=False, resumable=False))
        curled = timed(
            lambda: curl(
                "-H", auth, "-F", f"version={CURL_VERSION}", "-F", f"file=@{model.zip_path}",
                f"{url}/api/v1/assets/{slug}/versions/",
            )
        )  # fmt: skip
        files = root / "files"  # model.onnx and weights.bin, as a training job leaves them (no zip)
        files.mkdir()
        for name in ("model.onnx", "weights.bin"):
            os.link(model.folder / name, files / name)
        sessioned = timed(lambda: client.push(slug, SESSION_VERSION, files, wait=False, resumable=True))
        rate = model.zip_size / MB
        print(f"   client {rate / pushed:7.0f} MB/s ({pushed:.1f} s); curl {rate / curled:7.0f} MB/s ({curled:.1f} s)")
        session_rate = model.model_size / MB / sessioned
        print(
            f"   the files through resumable sessions (parts, then the worker's SHA-256 check): {session_rate:7.0f} MB/s "
            f"({sessioned:.1f} s)"
        )
        print(
            f"   client/curl: {curled / pushed:.2f}; sessions/one request: {session_rate / (rate / pushed):.2f} "
            "(target at least 0.8)"
        )

        print(f"\n2. Pull into an empty cache (hashed as it arrives) against curl -o, medians of {ROUNDS} rounds each")
        detail = client.show(f"{slug}@{VERSION}")
        weights = next(f for f in detail["files"] if f["path"] == "weights.bin")
        total = sum(f["size"] for f in detail["files"])
        curl_rates, client_rates = [], []
        for round_ in range(ROUNDS):  # interleaved: the page cache and the disk's write-back fall on both alike
            out = root / "curl-weights.bin"
            curl_rates.append(
                weights["size"] / timed(lambda: curl("-H", auth, "-o", str(out), weights["download_url"]))
            )
            out.unlink()
            fresh = Client(url, stack.token, cache_folder=root / f"cache-{round_}", timeout=600)
            client_rates.append(total / timed(lambda: fresh.pull(f"{slug}@{VERSION}")))
            shutil.rmtree(root / f"cache-{round_}")
        curl_rate, client_rate = statistics.median(curl_rates), statistics.median(client_rates)
        print(
            f"   curl {curl_rate / MB:7.0f} MB/s (weights); client {client_rate / MB:7.0f} MB/s (every file); "
            f"rounds: curl {[round(r / MB) for r in curl_rates]}, client {[round(r / MB) for r in client_rates]}"
        )
        print(f"   client/curl throughput: {client_rate / curl_rate:.2f} (target at least 0.9)")

        print("\n3. Resume: the pull killed at half of the weights, then run again")
        cache = root / "cache-resume"
        env = {**os.environ, "MODELHUB_URL": url, "MODELHUB_TOKEN": stack.token, "MODELHUB_CACHE": str(cache)}
        partial = cache / f"models--{stack.slug}--{stack.slug}" / "blobs" / f"{weights['sha256']}.incomplete"
        command = [sys.executable, "-m", "marketplace.client.cli", "-q", "pull", f"{slug}@{VERSION}"]
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
        while not partial.exists() or partial.stat().st_size < weights["size"] // 2:
            if process.poll() is not None:
                print("   the pull ended before half of the weights arrived: use a larger --size-mb")
                return 1
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kept = partial.stat().st_size
        missing = weights["size"] - kept
        sent = []
        again = Client(url, stack.token, cache_folder=cache, timeout=600)
        again._http.event_hooks["response"] = [
            lambda response: (
                sent.append(int(response.headers.get("Content-Length") or 0))
                if str(response.url) == weights["download_url"]
                else None
            )
        ]
        again.pull(f"{slug}@{VERSION}")
        sent_again = sum(sent)
        print(
            f"   killed with {kept / MB:.0f} of {weights['size'] / MB:.0f} MB on disk; the resume was sent "
            f"{sent_again / MB:.1f} MB, {sent_again / missing:.3f} of the missing part (target at most 1.02)"
        )

        print("\n4. Resume a push: `modelhub push --resumable` killed at half of its parts, then run again")
        command = [sys.executable, "-m", "marketplace.client.cli", "-q", "push", "--resumable", "--no-wait"]
        process = subprocess.Popen([*command, slug, RESUMED_VERSION, str(files)], env=env, cwd=REPO)
        while True:
            sessions = [
                s
                for s in client._http.get(f"/api/v1/assets/{slug}/uploads/").json()
                if s["status"] == "open" and s["filename"] == "weights.bin"
            ]
            if sessions and sessions[0]["received"] >= sessions[0]["part_count"] // 2:
                break
            if process.poll() is not None:
                print("   the push ended before half of its parts arrived: use a larger --size-mb")
                return 1
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        session = client._http.get(sessions[0]["url"]).json()
        missing = sum(part["size"] for part in session["missing"])
        put = []
        resumed = Client(url, stack.token, cache_folder=cache, timeout=600)
        resumed._http.event_hooks["request"] = [
            lambda request: put.append(int(request.headers["Content-Length"])) if request.method == "PUT" else None
        ]
        resumed.push(slug, RESUMED_VERSION, files, wait=False, resumable=True)
        print(
            f"   killed with {session['received']} of {session['part_count']} parts received; the resume sent "
            f"{sum(put) / MB:.1f} MB, {sum(put) / missing:.3f} of the missing part (target at most 1.02)"
        )
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
