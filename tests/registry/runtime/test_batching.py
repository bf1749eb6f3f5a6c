"""Adaptive batching (registry.runtime.batching) against a fake model: grouping, splitting and fallbacks."""

import asyncio

import numpy as np
import pytest

from registry.runtime.batching import AdaptiveBatcher
from registry.runtime.interface import InferenceInputError


def test_requests_group_by_shape_split_back_and_fall_back_to_single_runs():
    calls = []

    async def double(inputs, output_names):
        x = inputs["x"]
        calls.append(x.shape[0])
        if (x < 0).any():
            raise InferenceInputError("negative values")
        return {"y": x * 2, "total": np.array([x.sum()])} if output_names == ["total"] else {"y": x * 2}

    async def scenario():
        sizes = []
        batcher = AdaptiveBatcher(double, max_batch_size=4, max_batch_delay_ms=20, on_batch=sizes.append)
        wide = [np.full((1, 3), i, np.float32) for i in range(5)]
        narrow = np.ones((2, 2), np.float32)
        results = await asyncio.gather(
            *(batcher.submit({"x": x}, None) for x in wide), batcher.submit({"x": narrow}, None)
        )
        for x, result in zip(wide, results, strict=False):
            assert np.array_equal(result["y"], x * 2)
        assert np.array_equal(results[-1]["y"], narrow * 2)
        assert sorted(calls) == [1, 2, 4]  # 4 wide rows at once, the fifth after the delay, the narrow apart
        calls.clear()

        good, bad = np.ones((1, 3), np.float32), -np.ones((1, 3), np.float32)
        outcomes = await asyncio.gather(
            batcher.submit({"x": good}, None), batcher.submit({"x": bad}, None), return_exceptions=True
        )
        assert np.array_equal(outcomes[0]["y"], good * 2) and isinstance(outcomes[1], InferenceInputError)
        assert calls == [2, 1, 1]  # the batch was refused, so each ran alone
        calls.clear()

        # an output without the batch dimension cannot be split: each request runs alone
        totals = await asyncio.gather(*(batcher.submit({"x": good * k}, ["total"]) for k in (1, 2)))
        assert [float(t["total"][0]) for t in totals] == [3.0, 6.0] and calls == [2, 1, 1]
        await batcher.close()
        return sizes

    sizes = asyncio.run(scenario())
    assert 4 in sizes and sum(sizes[:3]) == 7


def test_close_runs_waiting_requests_at_once():
    async def echo(inputs, output_names):
        return dict(inputs)

    async def scenario():
        batcher = AdaptiveBatcher(echo, max_batch_size=8, max_batch_delay_ms=10_000)
        waiting = asyncio.ensure_future(batcher.submit({"x": np.ones((1, 1))}, None))
        await asyncio.sleep(0)
        await asyncio.wait_for(batcher.close(), 1)
        assert (await waiting)["x"].shape == (1, 1)

    asyncio.run(scenario())


@pytest.mark.parametrize("rows", [0, 8, 9])
def test_empty_and_full_requests_run_by_themselves(rows):
    calls = []

    async def echo(inputs, output_names):
        calls.append(inputs["x"].shape[0])
        return dict(inputs)

    async def scenario():
        batcher = AdaptiveBatcher(echo, max_batch_size=8, max_batch_delay_ms=10_000)
        return await asyncio.wait_for(batcher.submit({"x": np.ones((rows, 1))}, None), 1)

    assert asyncio.run(scenario())["x"].shape == (rows, 1) and calls == [rows]
