"""A GEMM written with TileLang's TensorCoreIntrinEmitter, as a TileLang user writes one (ours, for the
tests of nanott/language/mma_emitter.py): per-thread fragments, ldmatrix / mma per k-slice, and the
accumulator stored in tile order, into a 2-D block, or straight to DRAM (`store`)."""
import numpy as np

import tilelang
import tilelang.language as T
from tilelang.cuda.intrinsics.macro.mma_macro_generator import TensorCoreIntrinEmitter


@tilelang.jit(out_idx=[-1])
def matmul(M=128, N=128, K=256, in_dtype=T.bfloat16, out_dtype=T.float32, accum_dtype=T.float32,
           a_transposed=False, b_transposed=True, store="tiles", row_warps=1, col_warps=2,
           warp_rows=64, warp_cols=32, chunk=64):
    block_M, block_N, block_K = row_warps * warp_rows, col_warps * warp_cols, chunk
    emitter = TensorCoreIntrinEmitter(a_dtype=in_dtype, b_dtype=in_dtype, accum_dtype=accum_dtype,
                                      a_transposed=a_transposed, b_transposed=b_transposed,
                                      block_row_warps=row_warps, block_col_warps=col_warps,
                                      warp_row_tiles=warp_rows, warp_col_tiles=warp_cols, chunk=chunk)
    mx, my, mk = emitter.micro_size_x, emitter.micro_size_y, emitter.micro_size_k
    a_shape = (K, M) if a_transposed else (M, K)
    b_shape = (N, K) if b_transposed else (K, N)
    a_block = (block_K, block_M) if a_transposed else (block_M, block_K)
    b_block = (block_N, block_K) if b_transposed else (block_K, block_N)

    @T.prim_func
    def main(A: T.Tensor(a_shape, in_dtype), B: T.Tensor(b_shape, in_dtype), C: T.Tensor((M, N), out_dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=emitter.threads) as (bx, by):
            a_s = T.alloc_shared(a_block, in_dtype)
            b_s = T.alloc_shared(b_block, in_dtype)
            a_frag = T.alloc_local((emitter.warp_rows * emitter.local_size_a), in_dtype)
            b_frag = T.alloc_local((emitter.warp_cols * emitter.local_size_b), in_dtype)
            acc = T.alloc_local((emitter.warp_rows * emitter.warp_cols * emitter.local_size_out), accum_dtype)
            T.clear(acc)
            for ko in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
                if a_transposed:
                    T.copy(A[ko * block_K, by * block_M], a_s)
                else:
                    T.copy(A[by * block_M, ko * block_K], a_s)
                if b_transposed:
                    T.copy(B[bx * block_N, ko * block_K], b_s)
                else:
                    T.copy(B[ko * block_K, bx * block_N], b_s)
                for ki in T.serial(block_K // mk):
                    emitter.ldmatrix_a(a_frag, a_s, ki)
                    emitter.ldmatrix_b(b_frag, b_s, ki)
                    emitter.mma(a_frag, b_frag, acc)
            if store == "global":
                emitter.stmatrix(acc, C, pid_m=by, pid_n=bx)
            elif store == "matrix":
                c_s = T.alloc_shared((block_M, block_N), out_dtype)
                emitter.stmatrix(acc, c_s)
                T.copy(c_s, C[by * block_M, bx * block_N])
            else:
                c_tiles = T.alloc_shared((block_M // mx, block_N // my, mx, my), out_dtype)
                emitter.stmatrix(acc, c_tiles)
                for i, j in T.Parallel(block_M, block_N):
                    C[by * block_M + i, bx * block_N + j] = c_tiles[i // mx, j // my, i % mx, j % my]

    return main


def reference(A, B):
    """The defaults' product, A @ B.T, in float32 from the bfloat16 inputs."""
    return A.astype(np.float32) @ B.astype(np.float32).T
