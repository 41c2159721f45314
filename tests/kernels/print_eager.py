"""T.print in TileLang's eager style (tests/test_print.py): the block indices, printed per block."""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def scale(A, block_M, block_N, dtype=T.float32):
    M, N = T.const("M, N")

    A: T.Tensor((M, N), dtype)
    C = T.empty((M, N), dtype)

    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M)) as (bx, by):
        A_s = T.alloc_shared((block_M, block_N), dtype)
        C_l = T.alloc_fragment((block_M, block_N), dtype)
        T.print(bx, "bx")
        T.print(by, "by")
        T.copy(A[by * block_M, bx * block_N], A_s)
        for i, j in T.Parallel(block_M, block_N):
            C_l[i, j] = A_s[i, j] * 2.0
        T.copy(C_l, C[by * block_M, bx * block_N])

    return C


scale_f32 = scale.compile(M=64, N=96, block_M=32, block_N=32)


def reference(A):
    return A * np.float32(2.0)
