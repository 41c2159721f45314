"""Issue 13: TileLang's GQA decoder as it writes its log-sum-exp, one value per row into a column of a
scratch tensor, and its combine as it reads it back (P0b's step element_rows, _p0b_element_rows.py).

The split stores `if i < valid_block_H: glse[bid, hid * valid_block_H + i, sid] = logsum[i]` into
`glse = T.alloc_global([batch, heads, num_split])`: the other splits' cores write the other columns
of the same rows. The tensor is the program's own (scratch: the host never sees it), so nanott
chooses its layout: a row of W columns per element (W = 128 here: the combine broadcasts each
element over a T.Parallel of 128), written whole by the block that computes it. The combine's
`lse_local[k, j] = glse[bz, by, k]` over (num_split, 128) becomes a copy of those rows, its
`T.reduce_max(lse_local, dim=0)` and row reads P0a's row vectors; its `o[i] += p[i] * scale[i]`
over `dim` (64) reads the first tiles of the 128-long `scale` (C2's prefix read). The same store
into a parameter (a tensor the host reads back as it gave it, as the block-sparse decoders pass
glse) goes to a scratch twin with rows of its own, carried in and out by two small launches.

Checked: numbers against NumPy at every level (float16 output: api.within's float16 tolerance,
relative to the output's scale) and through `compile --execute`; the IR says what was chosen; the
mutation that sends two splits to one row caught by the simulator (rule "owner").
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import nanott_cli
import test_gqa_decode_rows as decode_rows
from test_generality import check_levels
from test_gqa_decode_rows import ARGS, SETS, reference

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import launches_of, replace
from nanott.languages import l9
from nanott.sim import lockstep
from nanott.sim.errors import ProtocolError

# factory style, the lse kept and combined as example_gqa_decode.py keeps and combines it
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
        glse = T.alloc_global([batch, heads, num_split], dtype)
        Output_partial = T.alloc_global([batch, heads, num_split, dim], dtype)
        with T.Kernel(batch, heads // valid_block_H, num_split, threads=128) as (bx, by, bz):
            Q_shared = T.alloc_shared([block_H, dim], dtype)
            K_shared = T.alloc_shared([block_N, dim], dtype)
            V_shared = T.alloc_shared([block_N, dim], dtype)
            O_shared = T.alloc_shared([valid_block_H, dim], dtype)
            acc_s = T.alloc_fragment([block_H, block_N], accum_dtype)
            acc_s_cast = T.alloc_fragment([block_H, block_N], dtype)
            acc_o = T.alloc_fragment([block_H, dim], accum_dtype)
            scores_max = T.alloc_fragment([block_H], accum_dtype)
            scores_max_prev = T.alloc_fragment([block_H], accum_dtype)
            scores_scale = T.alloc_fragment([block_H], accum_dtype)
            scores_sum = T.alloc_fragment([block_H], accum_dtype)
            logsum = T.alloc_fragment([block_H], accum_dtype)

            bid, hid, sid = bx, by, bz
            cur_kv_head = hid // (kv_group_num // valid_block_H)
            T.copy(Q[bid, hid * valid_block_H:hid * valid_block_H + block_H, :], Q_shared)
            T.fill(acc_o, 0)
            T.fill(logsum, 0)
            T.fill(scores_max, -T.infinity(accum_dtype))
            for k in T.Pipelined(T.ceildiv(part, block_N), num_stages=2):
                T.copy(K[bid, part * sid + k * block_N:part * sid + (k + 1) * block_N, cur_kv_head, :], K_shared)
                T.clear(acc_s)
                T.gemm(Q_shared, K_shared, acc_s, transpose_B=True)
                for i, j in T.Parallel(block_H, block_N):
                    acc_s[i, j] = T.if_then_else(j < part, acc_s[i, j], -T.infinity(accum_dtype))
                T.copy(scores_max, scores_max_prev)
                T.fill(scores_max, -T.infinity(accum_dtype))
                T.reduce_max(acc_s, scores_max, dim=1, clear=False)
                for i in T.Parallel(block_H):
                    scores_max[i] = T.max(scores_max[i], scores_max_prev[i])
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
                T.copy(V[bid, part * sid + k * block_N:part * sid + (k + 1) * block_N, cur_kv_head, :], V_shared)
                T.gemm(acc_s_cast, V_shared, acc_o)
            for i, j in T.Parallel(block_H, dim):
                acc_o[i, j] /= logsum[i]
            for i in T.Parallel(block_H):
                logsum[i] = T.log2(logsum[i]) + scores_max[i] * scale
            for i in T.Parallel(block_H):
                if i < valid_block_H:
                    glse[bid, hid * valid_block_H + i, sid] = logsum[i]
            T.copy(acc_o[:valid_block_H, :], O_shared)
            T.copy(O_shared, Output_partial[bid, hid * valid_block_H:(hid + 1) * valid_block_H, sid, :])
        with T.Kernel(heads, batch, threads=128) as (by, bz):
            po_local = T.alloc_fragment([dim], dtype)
            o_accum_local = T.alloc_fragment([dim], accum_dtype)
            lse_local = T.alloc_fragment([num_split, 128], dtype)
            lse_logsum_local = T.alloc_fragment([128], accum_dtype)
            lse_max_local = T.alloc_fragment([128], accum_dtype)
            scale_local = T.alloc_fragment([128], accum_dtype)
            T.clear(lse_logsum_local)
            T.clear(o_accum_local)
            for k, j in T.Parallel(num_split, 128):
                lse_local[k, j] = glse[bz, by, k]
            T.reduce_max(lse_local, lse_max_local, dim=0, clear=True)
            for k in T.serial(num_split):
                for j in T.Parallel(128):
                    lse_logsum_local[j] += T.exp2(lse_local[k, j] - lse_max_local[j])
            for j in T.Parallel(128):
                lse_logsum_local[j] = T.log2(lse_logsum_local[j]) + lse_max_local[j]
            for k in T.serial(num_split):
                for i in T.Parallel(dim):
                    po_local[i] = Output_partial[bz, by, k, i]
                for j in T.Parallel(128):
                    scale_local[j] = T.exp2(lse_local[k, j] - lse_logsum_local[j])
                for i in T.Parallel(dim):
                    o_accum_local[i] += po_local[i] * scale_local[i]
            for i in T.Parallel(dim):
                Output[bz, by, i] = o_accum_local[i]

    return main
'''

def loaded(tmp_path, text=GQA_DECODE):
    return decode_rows.loaded(tmp_path, text)


def test_the_kernel_matches_numpy_at_every_level(tmp_path):
    """Every level against NumPy, and the fast simulators against the interpreters."""
    check_levels(loaded(tmp_path), reference)


def test_the_scratch_tensor_gets_a_row_per_element_and_the_ir_says_why(tmp_path):
    """After P0b: glse is [1, 8, 2, 128], both launches record the choice, the split's store is a
    row scatter through a fragment, and the combine's broadcast loop is a copy of 2 rows."""
    p0b = str(api.lower(loaded(tmp_path).prim_func, stop_after="P0b"))
    assert "scratch glse: float16[1x8x2x128]" in p0b
    assert p0b.count("element_rows=glse: a row of 128 per element") == 2
    assert "copy glse[bz, by, 0, 0 +1x1x2x128] -> lse_local[2x128]" in p0b
    assert "glse[bid, ((hid * 4) + i), sid, c] = if_then_else((i < 4), glse_rows[i, c]" in p0b
    p0 = str(api.lower(loaded(tmp_path).prim_func, stop_after="P0"))
    assert "j < 128" not in p0 and "-inf" in p0, "the mask `j < part` holds over the loop: P0 drops it"


def test_two_splits_sent_to_one_row_break_the_owner_rule(tmp_path):
    """The split's writer with its slice index pinned to 0: both splits of a head write the same
    rows of glse (and Output_partial). The lockstep simulator refuses it (rule "owner")."""
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


PARAM = GQA_DECODE.replace("        glse = T.alloc_global([batch, heads, num_split], dtype)\n", "").replace(
    "             Output: T.Tensor([batch, heads, dim], dtype)):",
    "             Output: T.Tensor([batch, heads, dim], dtype),\n"
    "             glse: T.Tensor([batch, heads, num_split], dtype)):")


def reference_with_lse(inputs):
    """reference, and glse: per batch, query head h and split s, log2 of the sum over the split's
    keys of 2^(q.k * log2(e) / sqrt(dim)), in float64 (what the split stores, base 2)."""
    q = inputs["Q"].astype(np.float64)
    k = np.repeat(inputs["K"].astype(np.float64).transpose(0, 2, 1, 3), SETS["heads"] // SETS["groups"], axis=1)
    x = np.einsum("bhd,bhsd->bhs", q, k) * (1.0 / SETS["dim"]) ** 0.5 * 1.44269504
    x = x.reshape(*x.shape[:2], SETS["num_split"], -1)                  # [b, h, split, keys]
    top = x.max(axis=-1)
    lse = np.log2(np.exp2(x - top[..., None]).sum(axis=-1)) + top
    return reference(inputs) | {"glse": lse.astype(np.float16)}


def test_a_parameter_gets_a_scratch_twin_and_two_launches_of_whole_rows(tmp_path):
    """The same store into a tensor the host passes in (the block-sparse decoders' glse): the host
    reads glse back in its own layout, so the program works on a twin, glse_wide, with a launch
    before that carries glse into it and one after that carries it back. Output and glse against
    NumPy at every level."""
    p0b = str(api.lower(loaded(tmp_path, PARAM).prim_func, stop_after="P0b"))
    assert "glse: float16[1x8x2]):" in p0b.splitlines()[0] and "scratch glse_wide: float16[1x8x2x128]" in p0b
    assert "kernel glse_to_rows(" in p0b.split("launch 1:")[0] and "kernel glse_from_rows(" in p0b.split("launch 3:")[1]
    assert "copy glse_wide[d0, (r * 32), s, 0 +1x32x1x32] -> glse_block[32x32]" in p0b
    check_levels(loaded(tmp_path, PARAM), reference_with_lse)


def test_a_column_store_beside_other_stores_stays_refused(tmp_path):
    """The store in a T.Parallel that stores something else too is not widened: NT302, with why."""
    text = PARAM.replace("""                if i < valid_block_H:
                    glse[bid, hid * valid_block_H + i, sid] = logsum[i]""", """                scores_sum[i] = logsum[i]
                if i < valid_block_H:
                    glse[bid, hid * valid_block_H + i, sid] = scores_sum[i]""")
    assert "= scores_sum[i]" in text
    with pytest.raises(NanottError) as e:
        api.lower(loaded(tmp_path, text).prim_func, stop_after="P0b")
    assert e.value.code == "NT302" and "into column sid of glse" in e.value.message


def test_a_longer_vector_is_read_by_its_first_tiles_but_never_stored_so(tmp_path):
    """C2's prefix read: `o[i] += p[i] * scale[i]` over 64 reads the 128-long scale's first tiles;
    a store into a longer vector from a shorter loop stays NT317."""
    text = GQA_DECODE.replace("                    o_accum_local[i] += po_local[i] * scale_local[i]",
                              "                    scale_local[i] = po_local[i] * scale_local[i]\n"
                              "                for i in T.Parallel(dim):\n"
                              "                    o_accum_local[i] += scale_local[i]")
    with pytest.raises(NanottError) as e:
        api.lower(loaded(tmp_path, text).prim_func, stop_after="C2")
    assert e.value.code == "NT317" and "scale_local is 128" in e.value.message


def test_compile_execute_matches_numpy(tmp_path):
    path = tmp_path / "gqa_decode.py"
    path.write_text(GQA_DECODE)
    out = nanott_cli("compile", str(path), *ARGS, "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS"), out
