"""A closed-loop HTTP/1.1 load generator for the serving benchmark (run in its own process).

    python loadgen.py HOST PORT PATH BODY_FILE CONCURRENCY SECONDS WARMUP [HEADER ...]

Each of CONCURRENCY keep-alive connections sends the same POST, waits for the whole answer, and sends
again, for SECONDS after WARMUP seconds. Prints one JSON line: requests, errors, seconds, throughput
(req/s), latency percentiles in milliseconds and every latency in microseconds (so that the runs of
several slices can be merged). Requests are pre-encoded and answers read
by Content-Length (or chunks), so the generator costs far less than any server it measures.
"""

import asyncio
import json
import socket
import sys
import time


async def _read_answer(reader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    start = lower.find(b"content-length:")
    if start != -1:
        end = lower.find(b"\r\n", start)
        await reader.readexactly(int(head[start + 15 : end]))
    elif b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _connection(host, port, request, warmup_end, deadline, latencies, errors):
    reader, writer = await asyncio.open_connection(host, port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            started = time.perf_counter()
            if started >= deadline:
                return
            writer.write(request)
            status = await _read_answer(reader)
            if started >= warmup_end:
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(status)
    finally:
        writer.close()


async def run(host, port, path, body, concurrency, seconds, warmup, headers) -> dict:
    extra = "".join(f"{h}\r\n" for h in headers)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors: list[int] = []
    now = time.perf_counter()
    warmup_end, deadline = now + warmup, now + warmup + seconds
    await asyncio.gather(
        *(_connection(host, port, request, warmup_end, deadline, latencies, errors) for _ in range(concurrency))
    )
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 3) if latencies else None

    return {
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": seconds,
        "throughput": round(len(latencies) / seconds, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "latencies_us": [round(latency * 1e6) for latency in latencies],
    }


def main() -> None:
    host, port, path, body_file, concurrency, seconds, warmup, *headers = sys.argv[1:]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    body = open(body_file, "rb").read()
    print(
        json.dumps(
            asyncio.run(run(host, int(port), path, body, int(concurrency), float(seconds), float(warmup), headers))
        )
    )


if __name__ == "__main__":
    main()
