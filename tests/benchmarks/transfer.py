"""Benchmark: transfers through the Python client against curl on the same URL, in one run.

    .venv/bin/python tests/benchmarks/transfer.py [--size-mb 1024] [--keep]

Starts the real stack on a fresh data folder as tests/benchmarks/upload.py does (gunicorn, a Celery worker,
embedded SQLite, local storage), builds an ONNX model with --size-mb of external weights, and prints:
1. push: `Client.push` of the zip (one streamed request, SHA-256 sent along) against `curl -F` of the same zip, and
   of the zip's two files through resumable upload sessions (until the worker has verified them), medians of 3
   interleaved rounds;
2. pull: `Client.pull` of the version into an empty cache (every byte hashed on the way) against `curl -o` of
   the weights file, the largest, interleaved, medians of 5 rounds (the disk's write-back makes single runs vary
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

VERSION, RESUMED_VERSION = "1.0.0", "1.9.0"  # the first round's push is the version pulled
ROUNDS = 5
PUSH_ROUNDS = 3


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
    from marketplace.client import Client, downloads

    model = generate_model(root / "model", size_mb)
    stack = start_stack(root / "stack")
    start_processes(stack)
    try:
        url = f"http://127.0.0.1:{stack.port}"
        slug = f"{stack.slug}/{stack.slug}"
        auth = f"Authorization: Bearer {stack.token}"
        client = Client(url, stack.token, cache_folder=root / "cache", timeout=600)
        print(f"transfer benchmark: {model.zip_size / MB:.0f} MB zip, weights {model.weights_size / MB:.0f} MB")

        print(f"\n1. Push, medians of {PUSH_ROUNDS} interleaved rounds")
        files = root / "files"  # model.onnx and weights.bin, as a training job leaves them (no zip)
        files.mkdir()
        for name in ("model.onnx", "weights.bin"):
            os.link(model.folder / name, files / name)
        pushed, curled, sessioned = [], [], []
        for round_ in range(PUSH_ROUNDS):
            pushed.append(
                model.zip_size
                / timed(lambda: client.push(slug, f"1.{round_}.0", model.zip_path, wait=False, resumable=False))
            )
            curled.append(
                model.zip_size
                / timed(
                    lambda: curl(
                        "-H", auth, "-F", f"version=1.{round_}.1", "-F", f"file=@{model.zip_path}",
                        f"{url}/api/v1/assets/{slug}/versions/",
                    )
                )
            )  # fmt: skip
            sessioned.append(
                model.model_size / timed(lambda: client.push(slug, f"1.{round_}.2", files, wait=False, resumable=True))
            )
        one, by_curl, by_sessions = (statistics.median(rates) for rates in (pushed, curled, sessioned))
        print(
            f"   the zip in one streamed request: client {one / MB:7.0f} MB/s, curl -F {by_curl / MB:7.0f} MB/s; "
            f"rounds: client {[round(r / MB) for r in pushed]}, curl {[round(r / MB) for r in curled]}"
        )
        print(
            f"   the files through resumable sessions (parts, then the worker's SHA-256 check): {by_sessions / MB:7.0f} "
            f"MB/s; rounds {[round(r / MB) for r in sessioned]}"
        )
        print(
            f"   client/curl: {one / by_curl:.2f}; sessions/one request: {by_sessions / one:.2f} (target at least 0.8)"
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
        real_open = downloads.open_download

        def counted(url, **kwargs):  # the bytes the server sends for the weights, as the client reads them
            download = real_open(url, **kwargs)
            if url == weights["download_url"]:
                download.chunks = (sent.append(len(chunk)) or chunk for chunk in download.chunks)
            return download

        downloads.open_download = counted
        again = Client(url, stack.token, cache_folder=cache, timeout=600)
        try:
            again.pull(f"{slug}@{VERSION}")
        finally:
            downloads.open_download = real_open
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
