"""Stage D3a batch-read-barriers: a reader's block reads that the compute kernel consumes together
share one barrier; reads consumed apart keep theirs; the numbers are bit for bit the same."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.ir import walk
from nanott.languages import l8
from nanott.loader import load_kernel
from nanott.sim import cycles
from nanott.target import DEFAULT_TARGET

pytestmark = [pytest.mark.D3]
ROOT = Path(__file__).resolve().parent.parent


def example(name: str):
    return load_kernel(ROOT / "examples" / f"{name}.py").prim_func


def reader_calls(prim_func, skip=()):
    """The reader's CB calls and barriers, in program order, after D3a (or without it)."""
    p = pipeline.lower(prim_func, "D4", DEFAULT_TARGET, skip=skip)
    kinds = (l8.CbReserve, l8.CbPush, l8.NocReadBarrier)
    return [x.head() for x in walk(p.kernel("reader").body) if isinstance(x, kinds)]


def test_a_gemm_step_reads_its_a_and_b_blocks_under_one_barrier():
    assert reader_calls(example("gemm"), skip=("D3a",)) == [
        "cb_reserve_back cb0, 2", "noc_async_read_barrier", "cb_push_back cb0, 2",
        "cb_reserve_back cb1, 2", "noc_async_read_barrier", "cb_push_back cb1, 2"]
    assert reader_calls(example("gemm"), skip=("D3c",)) == [      # D3c would give cb1 to the writer
        "cb_reserve_back cb0, 2", "cb_reserve_back cb1, 2", "noc_async_read_barrier",
        "cb_push_back cb0, 2", "cb_push_back cb1, 2"]


def test_blocks_the_consumer_takes_apart_keep_their_barriers():
    # flash attention pops its K block before it waits for V: pushing K only after V's reserve
    # could wait for a V page the compute kernel frees only after it has K
    calls = reader_calls(example("flash_attention"))
    assert calls.count("noc_async_read_barrier") == 3


@pytest.mark.parametrize("name", ["gemm", "elementwise_add", "gemm_splitk", "masked_int8"])
def test_numbers_are_bit_identical_with_and_without(name):
    prim_func = example(name)
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 1)
    batched = api.simulate(pipeline.lower(prim_func, "F1", DEFAULT_TARGET), "L9", arrays)
    apart = api.simulate(pipeline.lower(prim_func, "F1", DEFAULT_TARGET, skip=("D3a",)), "L9", arrays)
    for k in arrays:
        assert np.array_equal(batched[k].view(np.uint8), apart[k].view(np.uint8)), k


def test_the_reader_waits_at_fewer_barriers_in_the_model():
    prim_func = example("gemm")
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 0)
    waits = []
    for skip in (("D3a", "D3b"), ("D3b",)):          # D3b (multicast) needs D3a: both without it
        _, model = cycles.simulate_timed(pipeline.lower(prim_func, "F1", DEFAULT_TARGET, skip=skip), arrays,
                                         DEFAULT_TARGET)
        waits.append(sum(v for c in model.cores.values() for (e, cb), v in c.stalls.items()
                         if e == "reader" and cb == cycles.NOC))
    assert waits[1] < waits[0]
