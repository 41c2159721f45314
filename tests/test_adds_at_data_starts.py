"""Atomic adds whose rows start at a value read from DRAM (varlen attention backward's dQ, dK, dV):
a sequence's first row `start = cu_seqlens[bz]` need not be a multiple of 32, so a block of rows
from there spans the tile rows around it, which other blocks' rows share.

What nanott does instead of the GPU's atomics into DRAM, decided by analysis of each add's start:
  - adds that never meet (one block's dQ rows, k * 32 apart in its loop): B1 reads the rows, sums
    on chip and writes them back, the read a row gather and the write a row scatter (C1), each row
    alone, so the rows of the tiles that belong to other blocks stay as they are;
  - adds that meet across a slice of the grid (the heads of a group adding into their KV head's
    rows; every row block adding into the same dQ rows): P0c writes each block's partial to a
    scratch tensor at the same rows, and a launch with one grid block per *position* of the add
    (the block index without the slice, and the loops around it, whose trip count is data) reads
    the start again from DRAM and adds the slices in L0's order;
  - adds that may meet between positions (two sequences of a batch, whose blocks' rows past their
    ends overlap the next sequence's): NT323, as analysis cannot show they never meet.
Our own kernel, written as TileLang's varlen backward kernels write theirs, against NumPy on a
random start and length (neither a multiple of 32) at every level, and bit for bit against L0.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli

from nanott import api, pipeline
from nanott.diagnostics import NanottError
from nanott.ir import Launches

# X: a sequence of `seqlen` tokens from row `start` of a packed [tokens, heads, dim] tensor. Per
# (head bx, row block by): dKV's group head bx // 2 gets 2x of this head's rows (masked past the
# sequence's end, as the backward masks its probabilities), after the work; dX's rows get x + 1 of
# every query block k of the sequence, inside a loop whose trip count is read from DRAM, from every
# row block by (as dQ gets a share from every key block).
VARLEN = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def varlen_adds(UQ, heads, dim, max_seqlen, block_M=64, block_N=32, groups=2, batch=1):
    @T.prim_func
    def main(X: T.Tensor((UQ, heads, dim), "float32"), cu_seqlens: T.Tensor((batch + 1,), T.int32),
             dX: T.Tensor((UQ, heads, dim), "float32"), dKV: T.Tensor((UQ, heads // groups, dim), "float32")):
        with T.Kernel(heads, T.ceildiv(max_seqlen, block_M), batch, threads=128) as (bx, by, bz):
            x = T.alloc_shared((block_M, dim), "float32")
            acc = T.alloc_fragment((block_M, dim), "float32")
            q = T.alloc_shared((block_N, dim), "float32")
            part = T.alloc_fragment((block_N, dim), "float32")
            start = cu_seqlens[bz]
            seqlen = cu_seqlens[bz + 1] - start
            T.copy(X[start + by * block_M:start + (by + 1) * block_M, bx, :], x)
            for i, j in T.Parallel(block_M, dim):
                acc[i, j] = T.if_then_else(by * block_M + i < seqlen, x[i, j] * 2, 0)
            for k in T.Pipelined(T.ceildiv(seqlen, block_N), num_stages=1):
                T.copy(X[start + k * block_N:start + (k + 1) * block_N, bx, :], q)
                for i, j in T.Parallel(block_N, dim):
                    part[i, j] = T.if_then_else(k * block_N + i < seqlen, q[i, j] + 1, 0)
                T.atomic_add(dX[start + k * block_N:start + (k + 1) * block_N, bx, :], part)
            T.atomic_add(dKV[start + by * block_M:start + (by + 1) * block_M, bx // groups, :], acc)
    return main
'''
SETS = {"UQ": 192, "heads": 4, "dim": 64, "max_seqlen": 128}


def inputs(kernel, seed):
    """Random X, dX and dKV (the adds add to them) and a random sequence: start and length drawn so
    that neither is a multiple of 32 and the sequence stays inside X."""
    rng = np.random.default_rng(seed)
    arrays = api.random_inputs(kernel, seed)
    for name in ("dX", "dKV"):
        arrays[name] = rng.standard_normal(arrays[name].shape).astype(np.float32)
    start = int(rng.choice([s for s in range(1, 32)]))
    length = int(rng.choice([n for n in range(33, 129) if n % 32 and start + n <= 192]))
    arrays["cu_seqlens"] = np.array([start, start + length], np.int32)
    return arrays


def reference(arrays):
    """In float64: dKV's rows of the sequence get 2x summed over the group's 2 heads; dX's rows get
    x + 1 once per row block (2 of them); every other row keeps what it held."""
    x = arrays["X"].astype(np.float64)
    s, e = (int(v) for v in arrays["cu_seqlens"])
    dkv, dx = arrays["dKV"].astype(np.float64), arrays["dX"].astype(np.float64)
    dkv[s:e] += 2 * x[s:e].reshape(e - s, 2, 2, 64).sum(axis=2)
    dx[s:e] += 2 * (x[s:e] + 1)
    return {"dX": dx, "dKV": dkv}


def loaded(tmp_path, **more):
    return load_text(tmp_path, VARLEN, {**SETS, **more})


def test_the_adds_that_meet_are_summed_per_position_reading_the_start_again(tmp_path):
    p = pipeline.lower(loaded(tmp_path).prim_func, "P0c")
    assert isinstance(p, Launches) and [k.grid for k in p.launches] == [(4, 2, 1), (4, 1), (2, 2, 1)]
    work, dx_sum, dkv_sum = p.launches
    notes = [a.value for a in work.attrs if a.key == "partials"]
    assert "the adds into dX of blocks differing in by meet: 2 slices" in notes[0]
    assert "the adds into dKV of blocks differing in (bx % 2) meet: 2 slices" in notes[1]
    text = "\n".join(dx_sum.lines())
    assert "let start = cu_seqlens[bz]" in text and "for k in 0..(((seqlen + 32) - 1) // 32):" in text
    assert "copy dX_partial[s, (start + (k * 32)), bx, 0 +1x32x1x64] -> dX_part[32x64]" in text
    text = "\n".join(dkv_sum.lines())      # bx steps by 2 heads: the group's first head, whose start it is
    assert "copy dKV[(start + (by * 64)), bx, 0 +64x1x64] -> dKV_old[64x64]" in text
    assert "atomic_add" not in "\n".join(p.lines())


def test_a_block_at_a_data_row_is_written_row_by_row(tmp_path):
    """C1: the partial's write and the sum's write are row scatters (each row where it lies inside
    the tokens), the reads row gathers; B1 made no add of them a fold."""
    c1 = str(api.lower(loaded(tmp_path).prim_func, stop_after="C1"))
    assert "-> dX_partial.tiles[scattered, 0 +1x2] (row r" in c1
    assert "-> dKV.tiles[scattered, 0 +2x2] (row r" in c1 and "< 192))" in c1
    assert "read_to_cb dKV.tiles[gathered, 0 +2x2]" in c1


@pytest.mark.parametrize("seed", [3, 4])
def test_every_level_matches_numpy_and_the_atomic_adds_bits(tmp_path, seed):
    """float32 adds of 2 or 4 terms per element: within 1e-6 of the output's scale (a few ulps of
    the largest value), and bit for bit what L0's atomic adds give (same adds, same order)."""
    pf = loaded(tmp_path).prim_func
    arrays = inputs(api.lower(pf, "P0"), seed)
    ref = reference(arrays)
    atomic = api.simulate(api.lower(pf, "P0"), "L0", arrays)
    for level in ("L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"):
        got = api.simulate(api.lower(pf, stop_after=api.stage_for_level(level).id), level, arrays)
        for name in ("dX", "dKV"):
            assert np.max(np.abs(got[name] - ref[name])) <= 1e-6 * np.max(np.abs(ref[name])), (level, name)
            assert np.array_equal(got[name].view(np.uint32), atomic[name].view(np.uint32)), (level, name)


def test_sequences_of_a_batch_may_meet_and_stay_nt323(tmp_path):
    """With two sequences, a block's rows past its sequence's end are the next one's rows: the
    start reads the batch index, so no analysis shows the adds of two sequences apart."""
    with pytest.raises(NanottError) as e:
        api.lower(loaded(tmp_path, batch=2).prim_func)
    assert e.value.code == "NT323" and "may meet" in e.value.message and "start read from DRAM" in e.value.message


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches(tmp_path):
    """`nanott compile --execute`: the three launches' C++ on nanott's CPU runtime, random inputs."""
    path = tmp_path / "varlen_adds.py"
    path.write_text(VARLEN)
    sets = [x for k, v in SETS.items() for x in ("--set", f"{k}={v}")]
    out = nanott_cli("compile", str(path), *sets, "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS"), out
