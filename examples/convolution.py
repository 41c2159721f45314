"""A 2-D convolution as an implicit GEMM, written the way TileLang users write it (eager style, NHWC).

The output's pixels are the rows of a GEMM and its channels the columns: out[n, oh, ow, f] =
sum over (kh, kw, c) of data[n, oh * S + kh * D - P, ow * S + kw * D - P, c] * kernel[kh, kw, c, f].
Each K step gathers a block of the im2col matrix with index arithmetic in a T.Parallel (what
`T.im2col` stands for): row i is output pixel m = by * block_M + i, column j is reduction index
k = k_iter * block_K + j, that is tap (kh, kw) = (k // (KW * C), k // C % KW) and channel k % C; a
pixel whose window leaves the image reads zero. The weights are the B of an ordinary GEMM, seen
through a 2-D view of their storage (`T.Tensor((KH * KW * C, F), dtype, kernel.data)`), and the
output is written through a (N * OH * OW, F) view of it.

N = 2, H x W = 8 x 64, C = 32 channels in, F = 64 out, a 3 x 3 window, stride 1, padding 1:
OH x OW = 8 x 64, a 1024 x 64 x 288 GEMM in 64 x 32 x 32 blocks (a 2 x 16 grid, 9 K steps).
bfloat16 in and out, float32 accumulation.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def convolution(data, kernel, S, D, P, block_M, block_N, block_K, dtype=T.bfloat16, accum_dtype=T.float32):
    N, C, H, W, F, K = T.const("N, C, H, W, F, K")
    KH, KW = K, K
    OH = (H + 2 * P - D * (K - 1) - 1) // S + 1
    OW = (W + 2 * P - D * (K - 1) - 1) // S + 1

    data: T.Tensor((N, H, W, C), dtype)
    kernel: T.Tensor((KH, KW, C, F), dtype)
    out = T.empty((N, OH, OW, F), dtype)

    with T.Kernel(T.ceildiv(F, block_N), T.ceildiv(N * OH * OW, block_M), threads=128) as (bx, by):
        data_shared = T.alloc_shared((block_M, block_K), dtype)
        kernel_shared = T.alloc_shared((block_K, block_N), dtype)
        out_local = T.alloc_fragment((block_M, block_N), accum_dtype)
        out_shared = T.alloc_shared((block_M, block_N), dtype)

        kernel_flat = T.Tensor((KH * KW * C, F), dtype, kernel.data)
        out_flat = T.Tensor((N * OH * OW, F), dtype, out.data)

        T.clear(out_local)
        for k_iter in T.Pipelined(T.ceildiv(KH * KW * C, block_K), num_stages=2):
            for i, j in T.Parallel(block_M, block_K):
                k = k_iter * block_K + j
                m = by * block_M + i
                access_h = m % (OH * OW) // OW * S + k // (KW * C) * D - P
                access_w = m % OW * S + k // C % KW * D - P
                in_bound = (access_h >= 0) and (access_w >= 0) and (access_h < H) and (access_w < W)
                data_shared[i, j] = T.if_then_else(in_bound, data[m // (OH * OW), access_h, access_w, k % C], 0)
            T.copy(kernel_flat[k_iter * block_K, bx * block_N], kernel_shared)
            T.gemm(data_shared, kernel_shared, out_local)

        T.copy(out_local, out_shared)
        T.copy(out_shared, out_flat[by * block_M, bx * block_N])

    return out


conv = convolution.compile(N=2, C=32, H=8, W=64, F=64, K=3, S=1, D=1, P=1, block_M=64, block_N=32, block_K=32)


def reference(data, kernel):
    """The convolution by its definition: the zero-padded input's windows times the weights, in
    float32 from the bfloat16 inputs, rounded to bfloat16."""
    n, h, w, c = data.shape
    kh, kw, _, f = kernel.shape
    x = np.pad(data.astype(np.float32), ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros((n, h, w, f), np.float32)
    for a in range(kh):
        for b in range(kw):
            out += x[:, a:a + h, b:b + w, :] @ kernel[a, b].astype(np.float32)
    return out.astype(data.dtype)
