"""Adaptive batching: concurrent requests to one model run as one inference.

A request waits at most `max_batch_delay_ms` for others with the same non-batch shapes, dtypes and
requested outputs; the group runs as soon as it holds `max_batch_size` rows or the delay passes. The
inputs are concatenated along dimension 0, run once, and every output is split back by each
request's rows, so a caller gets what an unbatched run would give it. The host batches a model only
when every input and output has a variable first dimension; if a batched run still returns an output
whose first dimension is not the total of rows, or refuses the batch's values, each request is run on
its own instead, so one bad request never fails the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from registry.runtime.interface import InferenceInputError

Tensors = dict[str, np.ndarray]
Run = Callable[[Tensors, list[str] | None], Awaitable[Tensors]]


@dataclass
class _Request:
    inputs: Tensors
    rows: int
    future: asyncio.Future


@dataclass
class _Group:
    output_names: list[str] | None
    requests: list[_Request] = field(default_factory=list)
    rows: int = 0
    timer: asyncio.TimerHandle | None = None


class AdaptiveBatcher:
    def __init__(
        self, run: Run, *, max_batch_size: int, max_batch_delay_ms: float, on_batch: Callable[[int], None] | None = None
    ):
        self._run, self._max_rows, self._delay_s = run, max_batch_size, max(max_batch_delay_ms, 0) / 1000
        self._on_batch = on_batch
        self._groups: dict[tuple, _Group] = {}
        self._running: set[asyncio.Task] = set()

    async def submit(self, inputs: Tensors, output_names: list[str] | None) -> Tensors:
        rows = {array.shape[0] if array.ndim else -1 for array in inputs.values()}
        count = rows.pop() if len(rows) == 1 else -1
        if not 0 < count < self._max_rows:  # mixed or no rows, or a batch by itself
            self._observe(max(count, 1))
            return await self._run(inputs, output_names)
        key = (
            tuple(sorted((name, array.dtype.str, array.shape[1:]) for name, array in inputs.items())),
            None if output_names is None else tuple(output_names),
        )
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(output_names)
            group.timer = asyncio.get_running_loop().call_later(self._delay_s, self._flush, key, group)
        elif group.rows + count > self._max_rows:
            self._flush(key, group)
            return await self.submit(inputs, output_names)
        future = asyncio.get_running_loop().create_future()
        group.requests.append(_Request(inputs, count, future))
        group.rows += count
        if group.rows >= self._max_rows:
            self._flush(key, group)
        return await future

    async def close(self) -> None:
        """Run every waiting group now, and return when every batch has finished."""
        for key, group in list(self._groups.items()):
            self._flush(key, group)
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _observe(self, rows: int) -> None:
        if self._on_batch is not None:
            self._on_batch(rows)

    def _flush(self, key: tuple, group: _Group) -> None:
        if self._groups.get(key) is not group:
            return
        del self._groups[key]
        if group.timer is not None:
            group.timer.cancel()
        task = asyncio.get_running_loop().create_task(self._run_group(group))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run_group(self, group: _Group) -> None:
        requests = [request for request in group.requests if not request.future.done()]
        if not requests:
            return
        if len(requests) == 1:
            await self._run_one(requests[0], group.output_names)
            return
        total = sum(request.rows for request in requests)
        self._observe(total)
        batch = {
            name: np.concatenate([request.inputs[name] for request in requests], axis=0) for name in requests[0].inputs
        }
        try:
            outputs = await self._run(batch, group.output_names)
        except InferenceInputError:
            await self._run_each(requests, group.output_names)
            return
        except Exception as exc:
            for request in requests:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        if not all(array.ndim and array.shape[0] == total for array in outputs.values()):
            await self._run_each(requests, group.output_names)
            return
        start = 0
        for request in requests:
            end = start + request.rows
            if not request.future.done():
                request.future.set_result({name: array[start:end] for name, array in outputs.items()})
            start = end

    async def _run_each(self, requests: list[_Request], output_names: list[str] | None) -> None:
        await asyncio.gather(*(self._run_one(request, output_names) for request in requests))

    async def _run_one(self, request: _Request, output_names: list[str] | None) -> None:
        self._observe(request.rows)
        try:
            result = await self._run(request.inputs, output_names)
        except Exception as exc:
            if not request.future.done():
                request.future.set_exception(exc)
        else:
            if not request.future.done():
                request.future.set_result(result)
