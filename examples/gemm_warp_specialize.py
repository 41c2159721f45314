"""A warp-specialized GEMM, as TileLang's example_warp_specialize_gemm_copy_1_gemm_0 writes it: eager
style, a producer role (`T.ws(1)`: copies the next K block with `T.tma_copy`) and a consumer role
(`T.ws(0)`: multiplies it), and two barriers between them: `data_is_ready` (the producer's copies
have landed) and `compute_is_done` (the consumer has read them; the producer may overwrite).

The one new idea is that the roles and barriers are written by hand. On a Tensix core they are
what D1 and the circular buffers already do: D1 gives the copies to the reader and the gemm to the
compute kernel by the data flow, and each CB's reserve/push (the producer's arrive) and wait/pop
(the consumer's) synchronise them, with `num_stages` pages of slack. So nanott runs the statements
in program order (nanott/language/warp_specialize.py says why that is what the barriers allow) and
records the roles and barriers on the kernel. bfloat16 inputs, float32 accumulator and output.
M x N x K = 128 x 128 x 256 in 64 x 64 x 64 blocks: a 2 x 2 grid, 4 steps along K.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit
def matmul_warp_specialize(A, B, block_M, block_N, block_K, dtype=T.bfloat16, accum_dtype=T.float32):
    M, N, K = T.const("M, N, K")

    A: T.Tensor((M, K), dtype)
    B: T.Tensor((K, N), dtype)
    C = T.empty((M, N), accum_dtype)

    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=256) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_K), dtype)
        B_shared = T.alloc_shared((block_K, block_N), dtype)
        C_local = T.alloc_fragment((block_M, block_N), accum_dtype)

        data_is_ready = T.alloc_barrier(arrive_count=128)
        compute_is_done = T.alloc_barrier(arrive_count=128)

        with T.ws(0):
            T.clear(C_local)

        for ko in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
            with T.ws(1):
                T.barrier_wait(compute_is_done, (ko + 1) % 2)
                T.tma_copy(A[by * block_M, ko * block_K], A_shared, barrier=data_is_ready)
                T.tma_copy(B[ko * block_K, bx * block_N], B_shared, barrier=data_is_ready)
                T.barrier_arrive(data_is_ready)
            with T.ws(0):
                T.barrier_wait(data_is_ready, ko % 2)
                T.gemm(A_shared, B_shared, C_local)
                T.barrier_arrive(compute_is_done)

        with T.ws(0):
            T.copy(C_local, C[by * block_M, bx * block_N])

    return C


gemm_warp_specialize = matmul_warp_specialize.compile(M=128, N=128, K=256, block_M=64, block_N=64,
                                                      block_K=64)


def reference(A, B):
    """C = A @ B in float64, rounded once to float32."""
    return (A.astype(np.float64) @ B.astype(np.float64)).astype(np.float32)
