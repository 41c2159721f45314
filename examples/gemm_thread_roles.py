"""A warp-specialized GEMM written with the thread index, as TileLang's MLA decode (`_ws`) writes its
roles: `tx = T.get_thread_binding()`, then `if tx < 128:` consumer 0, `elif tx < 256:` consumer 1,
`else:` the producer, each role a loop over the same K steps, synchronised by barriers.

The producer copies the K step's block of A and the two halves of B's block into shared memory and
arrives on `full`; each consumer waits on `full`, multiplies A by its half of B into its own
accumulator (the two halves of C's block), and arrives on `empty`, whose 256 arrivals (both
consumers) let the producer overwrite the buffers. Parities follow the phases: the k-th wait on a
barrier waits for its phase k, parity k % 2; the producer's first wait on `empty` passes at once
(parity 1, the phase "before" the first).

The one new idea: the roles run concurrently on the GPU; P0 fuses them into one program in an order
the barriers allow (nanott/language/role_fusion.py: coroutines over the loop, barrier phases,
happens-before for races), then drops the barriers, and D1 splits reader, compute and writer again by
the data flow. bfloat16 inputs, float32 accumulators and output; 128 x 256 x 256 in 64 x 128 x 64
blocks: a 2 x 2 grid, 4 K steps.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit
def gemm_roles(M, N, K, block_M, block_N, block_K, dtype=T.bfloat16, accum_dtype=T.float32):
    half = block_N // 2

    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), accum_dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=384) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_left = T.alloc_shared((block_K, half), dtype)
            B_right = T.alloc_shared((block_K, half), dtype)
            C_left = T.alloc_fragment((block_M, half), accum_dtype)
            C_right = T.alloc_fragment((block_M, half), accum_dtype)

            full = T.alloc_barrier(arrive_count=128)
            empty = T.alloc_barrier(arrive_count=256)

            tx = T.get_thread_binding()

            if tx < 128:
                T.set_max_nreg(240, 1)
                T.clear(C_left)
                for k in T.serial(T.ceildiv(K, block_K)):
                    T.barrier_wait(full, k % 2)
                    T.gemm(A_shared, B_left, C_left)
                    T.barrier_arrive(empty)
                T.copy(C_left, C[by * block_M, bx * block_N])
            elif tx >= 128 and tx < 256:
                T.set_max_nreg(240, 1)
                T.clear(C_right)
                for k in T.serial(T.ceildiv(K, block_K)):
                    T.barrier_wait(full, k % 2)
                    T.gemm(A_shared, B_right, C_right)
                    T.barrier_arrive(empty)
                T.copy(C_right, C[by * block_M, bx * block_N + half])
            else:
                T.set_max_nreg(80, 0)
                for k in T.serial(T.ceildiv(K, block_K)):
                    T.barrier_wait(empty, (k % 2) ^ 1)
                    T.copy(A[by * block_M, k * block_K], A_shared)
                    T.copy(B[k * block_K, bx * block_N], B_left)
                    T.copy(B[k * block_K, bx * block_N + half], B_right)
                    T.barrier_arrive(full)

    return main


gemm_thread_roles = gemm_roles(128, 256, 256, 64, 128, 64)


def reference(A, B):
    """C = A @ B in float64, rounded once to float32."""
    return (A.astype(np.float64) @ B.astype(np.float64)).astype(np.float32)
