"""Routed (grouped) MoE, as TileLang's fusedmoe example writes its routed experts: the tokens routed
to each expert are gathered, expert by expert, into consecutive rows; every grid block of
`block_token` rows reads which expert it serves from a table (`e = group_idx_for_bx[bx]`) and
multiplies its rows by that expert's weights, a 3-D tensor [expert, out, in] indexed by `e`. Two
launches: gate/up, then down.

  launch 1, per (row block bx, column block by of dexpert):
      g = x @ W_gate[e]^T,  u = x @ W_up[e]^T  (K loop over dhidden)
      up_logits = silu(g) * u,  silu(g) = g / (1 + 2^(-g log2 e))
  launch 2, per (row block bx, column block by of dhidden):
      output = (up_logits @ W_down[e]^T) * weight   (K loop over dexpert; weight: one per row)

What is new is that the expert, hence which weight pages the reader fetches, is data: the reader
alone reads the table's element (C1's Element, as in examples/gather_blocks.py) and computes the
pages of `W[e]` from it; compute runs the same GEMMs whatever expert they belong to. Here the host
has already padded each expert's group of tokens to whole blocks (TileLang's
`group_padded_offsets`), so every block's rows start on a tile boundary and every row is valid;
TileLang's own routed kernel starts each block at the unpadded offset and masks the rows past the
group's end (the progression chapter says what that needs on Tenstorrent). `reference` builds
the routing from the table: block b's rows go to expert group_idx_for_bx[b].

4 experts, dhidden 64, dexpert 64, 4 blocks of 32 routed rows: grids of 4 x 2 blocks. float16 in
and out (the example's dtype), float32 accumulators; up_logits is rounded to float16 between the
launches, as TileLang's is.
"""
import numpy as np

import nanott.language as T


def moe_routed(dhidden, dexpert, n_experts, n_rows, block_token=32, block_dhidden=32, block_dexpert=32,
               dtype="float16"):
    scale = 1.44269504                                   # log2(e): silu through exp2
    accum_dtype = "float"
    n_blocks = n_rows // block_token

    @T.prim_func
    def main(
        input: T.Tensor((n_rows, dhidden), dtype),
        W_gate: T.Tensor((n_experts, dexpert, dhidden), dtype),
        W_up: T.Tensor((n_experts, dexpert, dhidden), dtype),
        W_down: T.Tensor((n_experts, dhidden, dexpert), dtype),
        weights: T.Tensor((n_rows,), dtype),
        group_idx_for_bx: T.Tensor((n_blocks,), "int32"),
        up_logits: T.Tensor((n_rows, dexpert), dtype),
        output: T.Tensor((n_rows, dhidden), dtype),
    ):
        # launch 1: gate and up logits
        with T.Kernel(n_blocks, T.ceildiv(dexpert, block_dexpert), threads=128) as (bx, by):
            input_shared = T.alloc_shared((block_token, block_dhidden), dtype)
            gate_shared = T.alloc_shared((block_dexpert, block_dhidden), dtype)
            up_shared = T.alloc_shared((block_dexpert, block_dhidden), dtype)
            gate_local = T.alloc_fragment((block_token, block_dexpert), accum_dtype)
            up_local = T.alloc_fragment((block_token, block_dexpert), accum_dtype)

            e = group_idx_for_bx[bx]
            T.clear(gate_local)
            T.clear(up_local)
            for k in T.Pipelined(T.ceildiv(dhidden, block_dhidden), num_stages=1):
                T.copy(input[bx * block_token:(bx + 1) * block_token, k * block_dhidden:(k + 1) * block_dhidden],
                       input_shared)
                T.copy(W_gate[e, by * block_dexpert:(by + 1) * block_dexpert, k * block_dhidden:(k + 1) * block_dhidden],
                       gate_shared)
                T.gemm(input_shared, gate_shared, gate_local, transpose_B=True)
                T.copy(W_up[e, by * block_dexpert:(by + 1) * block_dexpert, k * block_dhidden:(k + 1) * block_dhidden],
                       up_shared)
                T.gemm(input_shared, up_shared, up_local, transpose_B=True)
            for i, j in T.Parallel(block_token, block_dexpert):
                gate_local[i, j] = gate_local[i, j] * (1.0 / (1.0 + T.exp2(-gate_local[i, j] * scale)))
                up_local[i, j] = up_local[i, j] * gate_local[i, j]
            T.copy(up_local, up_logits[bx * block_token, by * block_dexpert])

        # launch 2: down projection, scaled by each row's routing weight
        with T.Kernel(n_blocks, T.ceildiv(dhidden, block_dhidden), threads=128) as (bx, by):
            up_shared2 = T.alloc_shared((block_token, block_dexpert), dtype)
            down_shared = T.alloc_shared((block_dhidden, block_dexpert), dtype)
            weight_shared = T.alloc_shared((block_token,), dtype)
            output_local = T.alloc_fragment((block_token, block_dhidden), accum_dtype)

            e = group_idx_for_bx[bx]
            T.clear(output_local)
            for k in T.Pipelined(T.ceildiv(dexpert, block_dexpert), num_stages=1):
                T.copy(up_logits[bx * block_token:(bx + 1) * block_token, k * block_dexpert:(k + 1) * block_dexpert],
                       up_shared2)
                T.copy(W_down[e, by * block_dhidden:(by + 1) * block_dhidden, k * block_dexpert:(k + 1) * block_dexpert],
                       down_shared)
                T.gemm(up_shared2, down_shared, output_local, transpose_B=True)
            T.copy(weights[bx * block_token:(bx + 1) * block_token], weight_shared)
            for i, j in T.Parallel(block_token, block_dhidden):
                output_local[i, j] = output_local[i, j] * weight_shared[i]
            T.copy(output_local, output[bx * block_token, by * block_dhidden])

    return main


fused_moe = moe_routed(64, 64, 4, 128)


def reference(input, W_gate, W_up, W_down, weights, group_idx_for_bx, up_logits, block_token=32):
    """Per row block, its expert's SwiGLU MLP in float64; up_logits rounded to float16 once (it is a
    float16 tensor between the launches), output rounded once. up_logits comes in too (launch 2
    reads what launch 1 wrote, so it is both an input and an output); its contents are not used."""
    x, wg, wu, wd = (a.astype(np.float64) for a in (input, W_gate, W_up, W_down))
    expert = np.repeat(group_idx_for_bx, block_token)              # the routing: row -> expert
    g = np.einsum("rk,rnk->rn", x, wg[expert])
    u = np.einsum("rk,rnk->rn", x, wu[expert])
    h = (g / (1 + np.exp(-g)) * u).astype(input.dtype)
    out = np.einsum("rk,rnk->rn", h.astype(np.float64), wd[expert]) * weights.astype(np.float64)[:, None]
    return h, out.astype(input.dtype)
