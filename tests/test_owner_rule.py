"""Rule "owner" (sim/noc.py): within a launch each row of a DRAM page has one writer, unless every
writer writes the same bytes. A grid axis the addresses never use (TileLang's varlen NSA forward
over its batch axis) repeats a block's work on another core: the same row, the same bytes, which
silicon leaves the same whichever write lands last. Both simulators run it and give NumPy's
result; the same program with one repeat's values changed is refused by both."""
from dataclasses import replace

import numpy as np
import pytest

import nanott.language as T
from nanott import api
from nanott.ir import walk
from nanott.languages import l9
from nanott.languages.l9_interp import InterpL9
from nanott.sim import lockstep
from nanott.sim.errors import ProtocolError
from nanott.sim.noc import Dram
from test_lockstep import _map


def repeated(M, N, bm, repeats):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(M, bm), repeats, threads=128) as (bx, rep):
            A_s = T.alloc_shared((bm, N), "float32")
            B_l = T.alloc_fragment((bm, N), "float32")
            T.copy(A[bx * bm, 0], A_s)
            for i, j in T.Parallel(bm, N):
                B_l[i, j] = A_s[i, j] * 3.0 + 1.0
            T.copy(B_l, B[bx * bm, 0])
    return main


def _run_both(program, inputs):
    fast = {k: v.copy() for k, v in inputs.items()}
    lockstep.simulate(program, fast)
    slow = {k: v.copy() for k, v in inputs.items()}
    InterpL9().run(program, slow)
    return fast, slow


def test_cores_repeating_a_block_write_its_rows_with_the_same_bytes(monkeypatch):
    prim_func = repeated(128, 64, 32, 2)
    program = api.lower(prim_func, "F1")
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=1)
    expected = inputs["A"].astype(np.float64) * 3.0 + 1.0
    for out in _run_both(program, inputs):
        # fp32 arithmetic of one multiply-add: within a few ulps of the float64 reference
        np.testing.assert_allclose(out["B"], expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    # the repeats do write each row twice: without the bytes, the rule refuses the second writer
    claim = Dram.claim
    monkeypatch.setattr(Dram, "claim", lambda self, t, page, row, core, values=None: claim(self, t, page, row, core))
    with pytest.raises(ProtocolError, match=r"both write row \d+ of B\.page\[\d+\] in one launch"):
        _run_both(program, inputs)


def test_two_blocks_sent_to_one_tile_break_the_rule_in_both_simulators():
    """The mutation: the writer's block index pinned to block 0 (core.start + blk -> blk), so the
    cores of different blocks write their different bytes into block 0's rows (pages 0 and 1): refused by both."""
    prim_func = repeated(128, 64, 32, 2)
    program = api.lower(prim_func, "F1")
    inputs = api.random_inputs(api.lower(prim_func, "P0"), seed=1)
    writer = next(k for k in program.kernels if k.role == "writer")

    def zero_start(s):
        if isinstance(s, l9.Let) and s.var == "block_id":
            return replace(s, value=l9.Var(s.value.rhs.name))
        return s
    assert any(isinstance(s, l9.Let) and s.var == "block_id" for s in walk(writer.body))
    mutated = replace(program, kernels=tuple(replace(k, body=_map(k.body, zero_start)) if k is writer else k
                                             for k in program.kernels))
    with pytest.raises(ProtocolError, match=r"both write row \d+ of B\.page\[[01]\] in one launch"):
        lockstep.simulate(mutated, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(ProtocolError, match=r"both write row \d+ of B\.page\[[01]\] in one launch"):
        InterpL9().run(mutated, {k: v.copy() for k, v in inputs.items()})
