"""Issue 13: GQA flash decoding, where a grid block's 32 rows hold a KV head's few query heads.

TileLang's GQA decoders (flash_decoding/example_gqa_decode.py and the block-sparse ones) give each
grid block one KV head: block_H = 32 rows, of which only valid_block_H = heads // groups (4 here)
are that head's query heads. The block reads `Q[b, hid * 4:hid * 4 + 32, :]`, a start inside a
tile (C1 makes it a RowGather: rows past `heads` read zeros), and writes only rows i < 4: through
a [valid_block_H, dim] block O_shared, as example_gqa_decode.py does (P0a gives it 32 rows and
scatters its first 4, _p0a_staged_rows.py), or under `if i < valid_block_H`. Those writes share DRAM pages: Output_partial's stored matrix has a row
per (batch, head, split), so the 2 splits and the 2 KV heads' blocks write different rows of the
same tiles. nanott's decision (docs/10_progression.md, "GQA and attention sinks"): cores share a
DRAM page only by whole rows, one core per row (a row scatter writes each row alone, two face runs
of 16 elements: whole 16-B units, disjoint bytes); the simulators refuse two writers of one row
(rule "owner", sim/noc.py), and a value per row stored into a column (TileLang's
`glse[b, hid * 4 + i, sid] = logsum[i]`) of a tensor the host passes in is NT302, since one element
is a read-modify-write of a row that another core's split writes too (into a T.alloc_global, nanott
gives each element a row: tests/test_element_rows.py). The kernel here keeps each split's lse as a row of its
own, repeated along the head's `dim` columns, which the combine then reads element for element
next to the partial output.

Checked: numbers against NumPy at every level and through `compile --execute`; the mutation that
sends two splits to one row caught by the simulator; the TileLang form refused with the reason.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import launches_of, replace, walk
from nanott.languages import l9
from nanott.loader import load_kernel
from nanott.sim import lockstep
from nanott.sim.errors import ProtocolError

# factory style, as example_gqa_decode.py: a split over the keys, then a combine (two launches)
GQA_DECODE = '''
import tilelang
import tilelang.language as T


def gqa_decode(batch, heads, groups, seqlen_kv, dim, block_N, block_H, num_split):
    scale = (1.0 / dim) ** 0.5 * 1.44269504  # log2(e)
    dtype, accum_dtype = "float16", "float32"
    kv_group_num = heads // groups
    valid_block_H = min(block_H, kv_group_num)
    part = seqlen_kv // num_split

    @T.prim_func
    def main(Q: T.Tensor([batch, heads, dim], dtype),
             K: T.Tensor([batch, seqlen_kv, groups, dim], dtype),
             V: T.Tensor([batch, seqlen_kv, groups, dim], dtype),
             Output: T.Tensor([batch, heads, dim], dtype)):
        glse = T.alloc_global([batch, heads, num_split, dim], accum_dtype)
        Output_partial = T.alloc_global([batch, heads, num_split, dim], accum_dtype)
        # split
        with T.Kernel(batch, heads // valid_block_H, num_split, threads=128) as (bx, by, bz):
            Q_shared = T.alloc_shared([block_H, dim], dtype)
            K_shared = T.alloc_shared([block_N, dim], dtype)
            V_shared = T.alloc_shared([block_N, dim], dtype)
            acc_s = T.alloc_fragment([block_H, block_N], accum_dtype)
            acc_s_cast = T.alloc_fragment([block_H, block_N], dtype)
            acc_o = T.alloc_fragment([block_H, dim], accum_dtype)
            scores_max = T.alloc_fragment([block_H], accum_dtype)
            scores_max_prev = T.alloc_fragment([block_H], accum_dtype)
            scores_scale = T.alloc_fragment([block_H], accum_dtype)
            scores_sum = T.alloc_fragment([block_H], accum_dtype)
            logsum = T.alloc_fragment([block_H], accum_dtype)
            lse_rows = T.alloc_fragment([block_H, dim], accum_dtype)
            O_shared = T.alloc_shared([valid_block_H, dim], accum_dtype)

            bid, hid, sid = bx, by, bz
            cur_kv_head = hid // (kv_group_num // valid_block_H)
            T.copy(Q[bid, hid * valid_block_H:hid * valid_block_H + block_H, :], Q_shared)
            T.fill(acc_o, 0)
            T.fill(logsum, 0)
            T.fill(scores_max, -T.infinity(accum_dtype))
            for k in T.Pipelined(part // block_N, num_stages=2):
                T.copy(K[bid, sid * part + k * block_N:sid * part + (k + 1) * block_N, cur_kv_head, :], K_shared)
                T.clear(acc_s)
                T.gemm(Q_shared, K_shared, acc_s, transpose_B=True)
                T.copy(scores_max, scores_max_prev)
                T.reduce_max(acc_s, scores_max, dim=1, clear=False)
                for i in T.Parallel(block_H):
                    scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
                for i, j in T.Parallel(block_H, block_N):
                    acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
                T.reduce_sum(acc_s, scores_sum, dim=1)
                for i in T.Parallel(block_H):
                    logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
                T.copy(acc_s, acc_s_cast)
                for i, j in T.Parallel(block_H, dim):
                    acc_o[i, j] *= scores_scale[i]
                T.copy(V[bid, sid * part + k * block_N:sid * part + (k + 1) * block_N, cur_kv_head, :], V_shared)
                T.gemm(acc_s_cast, V_shared, acc_o)
            for i, j in T.Parallel(block_H, dim):
                acc_o[i, j] /= logsum[i]
            for i, j in T.Parallel(block_H, dim):
                lse_rows[i, j] = T.log2(logsum[i]) + scores_max[i] * scale
            T.copy(acc_o[:valid_block_H, :], O_shared)
            T.copy(O_shared, Output_partial[bid, hid * valid_block_H:(hid + 1) * valid_block_H, sid, :])
            for i, j in T.Parallel(block_H, dim):
                if i < valid_block_H:
                    glse[bid, hid * valid_block_H + i, sid, j] = lse_rows[i, j]
        # combine
        with T.Kernel(heads, batch, threads=128) as (by, bz):
            po_local = T.alloc_fragment([dim], accum_dtype)
            lse_local = T.alloc_fragment([dim], accum_dtype)
            lse_max = T.alloc_fragment([dim], accum_dtype)
            lse_logsum = T.alloc_fragment([dim], accum_dtype)
            o_accum = T.alloc_fragment([dim], accum_dtype)
            T.clear(lse_logsum)
            T.clear(o_accum)
            T.fill(lse_max, -T.infinity(accum_dtype))
            for k in T.serial(num_split):
                T.copy(glse[bz, by, k, :], lse_local)
                for j in T.Parallel(dim):
                    lse_max[j] = T.max(lse_max[j], lse_local[j])
            for k in T.serial(num_split):
                T.copy(glse[bz, by, k, :], lse_local)
                for j in T.Parallel(dim):
                    lse_logsum[j] += T.exp2(lse_local[j] - lse_max[j])
            for j in T.Parallel(dim):
                lse_logsum[j] = T.log2(lse_logsum[j]) + lse_max[j]
            for k in T.serial(num_split):
                T.copy(Output_partial[bz, by, k, :], po_local)
                T.copy(glse[bz, by, k, :], lse_local)
                for j in T.Parallel(dim):
                    o_accum[j] += po_local[j] * T.exp2(lse_local[j] - lse_logsum[j])
            T.copy(o_accum, Output[bz, by, :])

    return main
'''

SETS = {"batch": 1, "heads": 8, "groups": 2, "seqlen_kv": 256, "dim": 64, "block_N": 64, "block_H": 32,
        "num_split": 2}
ARGS = ["--kernel", "gqa_decode", *(x for k, v in SETS.items() for x in ("--set", f"{k}={v}"))]


def loaded(tmp_path, text=GQA_DECODE):
    path = tmp_path / "gqa_decode.py"
    path.write_text(text)
    return load_kernel(path, "gqa_decode", {k: str(v) for k, v in SETS.items()})


def reference(inputs):
    """softmax(q K^T / sqrt(dim)) V per batch and query head over all the keys of its KV head
    (h // (heads // groups)), in float64: the split and the combine together are plain attention."""
    q = inputs["Q"].astype(np.float64)                                   # [b, heads, dim]
    k, v = (inputs[n].astype(np.float64).transpose(0, 2, 1, 3) for n in ("K", "V"))   # [b, groups, s, dim]
    group = SETS["heads"] // SETS["groups"]
    k, v = (np.repeat(x, group, axis=1) for x in (k, v))                # a KV head per query head
    s = np.einsum("bhd,bhsd->bhs", q, k) / np.sqrt(SETS["dim"])
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return {"Output": np.einsum("bhs,bhsd->bhd", p / p.sum(axis=-1, keepdims=True), v).astype(np.float16)}


def test_the_kernel_matches_numpy_at_every_level(tmp_path):
    """Every level against the NumPy reference (float16 output: api.within's float16 tolerance,
    relative to the output's scale), and the fast simulators against the interpreters."""
    check_levels(loaded(tmp_path), reference)


def test_the_q_read_is_a_row_gather_and_the_splits_write_rows_of_shared_pages(tmp_path):
    """C1: Q's 32 rows from hid * 4 are gathered row by row (zeros past the 8 heads); the split
    writes Output_partial and glse row by row under the row's condition. At L9 the writers of the
    two splits and two KV heads write rows of the same pages, each row once (rule "owner" holds)."""
    c1 = str(api.lower(loaded(tmp_path).prim_func, stop_after="C1"))
    assert "(row r <- row (((bid * 64) + (hid * 4)) + r) if ((((hid * 4) + r) >= 0) and (((hid * 4) + r) < 8))" in c1
    program = api.lower(loaded(tmp_path).prim_func, stop_after="F1")
    split = launches_of(program)[0]
    writer = next(k for k in split.kernels if k.role == "writer")
    rows = [s for s in walk(writer.body) if isinstance(s, l9.NocWritePage) and s.row is not None]
    assert {s.tensor for s in rows} == {"Output_partial", "glse"}


def test_the_4_row_staging_block_becomes_a_tile_whose_first_rows_are_scattered(tmp_path):
    """P0a: O_shared, [valid_block_H, dim] = 4 x 64, only carries acc_o's first 4 rows to DRAM, so
    it gets 32 rows and its copy into Output_partial becomes a row scatter of rows i < 4."""
    p0a = str(api.lower(loaded(tmp_path).prim_func, stop_after="P0a"))
    assert "staged_rows=O_shared: 4 of 32 rows written" in p0a
    assert "O_shared = alloc_shared(32x64, float32)" in p0a and "copy acc_o[32x64] -> O_shared[32x64]" in p0a
    assert ("Output_partial[bid, ((hid * 4) + i1), sid, (0 + j1)] = if_then_else((i1 < 4), O_shared[i1, j1], "
            "Output_partial[bid, ((hid * 4) + i1), sid, (0 + j1)])") in p0a       # i, j are the kernel's


def test_a_staging_block_read_any_other_way_keeps_its_shape(tmp_path):
    """A 4-row block that is also read by a T.Parallel is not only a staging block: P0a's NT111."""
    text = GQA_DECODE.replace("            T.copy(O_shared, Output_partial[", """            for i, j in T.Parallel(valid_block_H, dim):
                acc_o[i, j] = O_shared[i, j] * 2
            T.copy(O_shared, Output_partial[""")
    with pytest.raises(NanottError) as e:
        api.lower(loaded(tmp_path, text).prim_func, stop_after="A1")
    assert e.value.code == "NT111" and "other than as the start of 4-row copies" in e.value.message


def test_two_splits_sent_to_one_row_break_the_owner_rule(tmp_path):
    """The split's writer with its slice index sid pinned to 0: both splits of a head write the
    same rows of Output_partial and glse. The lockstep simulator refuses it (rule "owner")."""
    program = api.lower(loaded(tmp_path).prim_func, stop_after="F1")
    split = launches_of(program)[0]
    pins = []

    def pin(s):
        if isinstance(s, l9.Let) and s.var in ("bz", "sid"):
            pins.append(s.var)
            return replace(s, value=l9.Const(0, "int32"))
        return replace(s, body=tuple(pin(x) for x in s.body)) if isinstance(s, l9.For) else s
    kernels = tuple(replace(k, body=tuple(pin(s) for s in k.body)) if k.role == "writer" else k
                    for k in split.kernels)
    assert pins, "the writer recovers the slice index from its block id"
    inputs = api.random_inputs(api.lower(loaded(tmp_path).prim_func, stop_after="P0"), seed=0)
    arrays = {k: v.copy() for k, v in inputs.items()} | api.scratch_arrays(program)
    with pytest.raises(ProtocolError, match=r"both write row \d+ of (Output_partial|glse)\.page\[\d+\] in one launch"):
        lockstep.simulate(replace(split, kernels=kernels), arrays)


def test_compile_execute_matches_numpy(tmp_path):
    path = tmp_path / "gqa_decode.py"
    path.write_text(GQA_DECODE)
    out = nanott_cli("compile", str(path), *ARGS, "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS"), out


def test_a_value_per_row_into_a_column_under_the_if_is_refused_with_the_reason(tmp_path):
    """TileLang's form, `glse[b, hid * 4 + i, sid] = logsum[i]` under `if i < valid_block_H`, in a
    T.Parallel that also stores something else: one value per row into column sid, whose other
    columns the other splits write: NT302, saying so (alone in its loop, nanott gives each element
    a row: tests/test_element_rows.py)."""
    text = GQA_DECODE.replace(
        "             Output: T.Tensor([batch, heads, dim], dtype)):",
        "             Output: T.Tensor([batch, heads, dim], dtype),\n"
        "             lse: T.Tensor([batch, heads, num_split], accum_dtype)):").replace(
        """            for i, j in T.Parallel(block_H, dim):
                if i < valid_block_H:
                    glse[bid, hid * valid_block_H + i, sid, j] = lse_rows[i, j]""",
        """            for i in T.Parallel(block_H):
                scores_sum[i] = logsum[i]
                if i < valid_block_H:
                    lse[bid, hid * valid_block_H + i, sid] = scores_sum[i]""")
    assert "lse[bid, hid * valid_block_H + i, sid] = scores_sum[i]" in text
    with pytest.raises(NanottError) as e:
        api.lower(loaded(tmp_path, text).prim_func, stop_after="P0b")
    assert e.value.code == "NT302" and "into column sid of lse" in e.value.message
    assert "stores with other values of sid put other columns into the same rows" in e.value.message
    assert "a row of its own" in e.value.hint and "alone (after lets) in a 1-D T.Parallel" in e.value.hint
