"""A persistent split-K GEMM with a grid barrier, written as TileLang's persistent MLA decode writes
its split and combine: as many blocks as `driver.get_num_sms()` answers, each walking tiles
`sm_num * w + block_id` wave by wave behind a guard. Phase 1 computes, per (row block, column block,
K slice), the slice's product into Partial (a DRAM tensor); `T.sync_grid()` waits for every block;
phase 2 sums the slices of each output block with block copies and an elementwise add, into C.
The on-chip buffers are all declared at the top, each used on one side of the barrier only."""
import numpy as np

import tilelang
import tilelang.language as T
from tilelang.carver.arch import driver


@tilelang.jit(out_idx=[-1])
def split_k_persistent(M=192, N=192, K=128, block_M=32, block_N=32, block_K=32, num_split=2,
                       dtype=T.bfloat16, accum_dtype=T.float32):
    sm_num = driver.get_num_sms()
    m_blocks, n_blocks = T.ceildiv(M, block_M), T.ceildiv(N, block_N)
    k_slice = K // num_split

    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype),
             Partial: T.Tensor((num_split, M, N), accum_dtype), C: T.Tensor((M, N), accum_dtype)):
        with T.Kernel(sm_num, threads=128) as block_id:
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            acc = T.alloc_fragment((block_M, block_N), accum_dtype)
            part = T.alloc_shared((block_M, block_N), accum_dtype)
            total = T.alloc_fragment((block_M, block_N), accum_dtype)
            T.use_swizzle(10)

            waves = T.ceildiv(m_blocks * n_blocks * num_split, sm_num)
            for w in T.serial(waves):
                tile_id = sm_num * w + block_id
                bm = tile_id // (n_blocks * num_split)
                bn = tile_id // num_split % n_blocks
                sid = tile_id % num_split
                if bm < m_blocks:
                    T.clear(acc)
                    for k in T.Pipelined(T.ceildiv(k_slice, block_K), num_stages=2):
                        T.copy(A[bm * block_M, sid * k_slice + k * block_K], A_shared)
                        T.copy(B[sid * k_slice + k * block_K, bn * block_N], B_shared)
                        T.gemm(A_shared, B_shared, acc)
                    T.copy(acc, Partial[sid, bm * block_M, bn * block_N])

            T.sync_grid()
            waves = T.ceildiv(m_blocks * n_blocks, sm_num)
            for w in T.serial(waves):
                tile_id = sm_num * w + block_id
                bm = tile_id // n_blocks
                bn = tile_id % n_blocks
                if bm < m_blocks:
                    T.clear(total)
                    for s in T.serial(num_split):
                        T.copy(Partial[s, bm * block_M, bn * block_N], part)
                        for i, j in T.Parallel(block_M, block_N):
                            total[i, j] += part[i, j]
                    T.copy(total, C[bm * block_M, bn * block_N])

    return main


def reference(A, B, Partial):
    """Partial[s] = A[:, slice s] @ B[slice s, :] and C = their sum, in float64. (Partial is an input
    too: phase 2 reads it; its values on entry do not matter, phase 1 overwrites every element.)"""
    a, b, num_split = A.astype(np.float64), B.astype(np.float64), Partial.shape[0]
    k = a.shape[1] // num_split
    partial = np.stack([a[:, s * k:(s + 1) * k] @ b[s * k:(s + 1) * k] for s in range(num_split)])
    return partial.astype(np.float32), partial.sum(axis=0).astype(np.float32)
