"""Stage D3c split-reads-between-movers: of a step's two multicast blocks, the one shared along
columns of cores is read and multicast by the writer, the other by the reader; which one is found
from the multicast rectangles, not from names; the numbers are bit for bit the same."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, load_text, without
from nanott import api, pipeline
from nanott.ir import walk
from nanott.languages import l9
from nanott.languages.l9_interp import InterpL9
from nanott.loader import load_kernel
from nanott.passes.f1_verify import verify
from nanott.sim import lockstep
from nanott.target import WORMHOLE_N150

pytestmark = [pytest.mark.D3]

# examples/gemm.py with the grid's axes the other way round: block x walks M, block y walks N, so
# the cores of a column share A's block and those of a row B's
SWAPPED = '''
import numpy as np
import nanott.language as T

@T.prim_func
def main(A: T.Tensor((256, 256), "bfloat16"), B: T.Tensor((256, 256), "bfloat16"),
         C: T.Tensor((256, 256), "float")):
    with T.Kernel(4, 4, threads=128) as (bx, by):
        A_shared = T.alloc_shared((64, 32), "bfloat16")
        B_shared = T.alloc_shared((32, 64), "bfloat16")
        C_local = T.alloc_fragment((64, 64), "float")
        T.clear(C_local)
        for k in T.Pipelined(8, num_stages=2):
            T.copy(A[bx * 64, k * 32], A_shared)
            T.copy(B[k * 32, by * 64], B_shared)
            T.gemm(A_shared, B_shared, C_local)
        T.copy(C_local, C[bx * 64, by * 64])

def reference(A, B):
    return A.astype(np.float32) @ B.astype(np.float32)
'''


def movers(program):
    """kernel -> (the tensors it reads, the CBs it multicasts, its bindings)."""
    out = {}
    for role in ("reader", "writer"):
        body = program.kernel(role).body
        out[role] = ({x.tensor for x in walk(body) if isinstance(x, l9.NocReadPage)},
                     {x.cb for x in walk(body) if isinstance(x, l9.McastPages)},
                     [(b.tensor, b.cta_offset) for b in program.kernel(role).bindings])
    return out


def test_gemm_gives_the_column_shared_b_block_to_the_writer():
    program = pipeline.lower(load_kernel(ROOT / "examples" / "gemm.py").prim_func, "F1", WORMHOLE_N150)
    got = movers(program)
    assert got["reader"] == ({"A"}, {0}, [("A", 0)])
    assert got["writer"] == ({"B"}, {1}, [("B", 0), ("C", 1)])
    assert {cb.index: cb.producer for cb in program.cbs}[1] == "writer"
    writer = program.kernel("writer").body[0].body
    kinds = [type(s) for s in writer if not isinstance(s, l9.Let)]
    assert kinds.index(l9.For) < kinds.index(l9.CbWait)       # the block's B reads before its C writes


def test_the_choice_follows_the_sharing_not_the_names(tmp_path):
    program = pipeline.lower(load_text(tmp_path, SWAPPED).prim_func, "F1", WORMHOLE_N150)
    got = movers(program)
    assert got["writer"][:2] == ({"A"}, {0}) and got["reader"][:2] == ({"B"}, {1})
    assert "the writer reads and multicasts cb0" in dict((a.key, a.value) for a in program.attrs)["movers"]


@pytest.mark.parametrize("source", ["gemm", "swapped"])
def test_numbers_are_bit_identical_with_and_without(source, tmp_path):
    prim_func = (load_kernel(ROOT / "examples" / "gemm.py").prim_func if source == "gemm"
                 else load_text(tmp_path, SWAPPED).prim_func)
    arrays = api.random_inputs(api.lower(prim_func, "P0"), 2)
    split = pipeline.lower(prim_func, "F1", WORMHOLE_N150)
    whole = pipeline.lower(prim_func, "F1", WORMHOLE_N150, skip=("D3c",))
    outs = []
    for program in (split, whole):
        out = {k: v.copy() for k, v in arrays.items()}
        assert lockstep.simulate(program, out) == "lockstep"
        outs.append(out["C"])
    ref_out = {k: v.copy() for k, v in arrays.items()}
    InterpL9(seed=5).run(split, ref_out)                       # a random interleaving of the kernels
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], ref_out["C"])
    ref = arrays["A"].astype(np.float32) @ arrays["B"].astype(np.float32)
    # fp32 accumulation over K = 256 in another order than NumPy's: 1e-5 of the largest output
    assert np.abs(outs[0] - ref).max() <= 1e-5 * np.abs(ref).max()


def test_f1_rejects_the_writer_without_its_increment():
    """The writer's receivers no longer tell their sender they are ready: its wait can never end."""
    program = pipeline.lower(load_kernel(ROOT / "examples" / "gemm.py").prim_func, "F1", WORMHOLE_N150)
    writer = program.kernel("writer")
    inc = next(x for x in walk(writer.body) if isinstance(x, l9.SemInc))

    broken = without(program, writer.role, inc)
    with pytest.raises(Exception, match="cooperation.*writer.*can never end"):
        verify(broken, WORMHOLE_N150)
