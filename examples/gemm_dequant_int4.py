"""A dequantized GEMM with int4 weights, as TileLang's dequantize_gemm examples write it: factory
style, activations A [M, K] in bfloat16, weights B [N, K // 2] stored two 4-bit codes to a uint8
byte (code k of a row in byte k // 2: the low nibble for even k, the high one for odd k), one
bfloat16 scale per output channel (Scale [N]); W = (code - 8) * Scale, C = A @ W^T in float32.

The one new idea is unpacking bits inside the kernel: each step along K copies a packed block of
B into L1 (block_K / 2 bytes a row), and the T.Parallel over the unpacked block reads byte
j // 2 and picks its nibble with a shift by 4 * (j % 2) and a mask, `&`, as the GPU kernel does.
On a Tensix core the shift and the mask are the SFPU's integer ops (right_shift, bitwise_and on
int32 tiles); reading byte j // 2 for column j moves bytes across columns, which no compute
engine does lane by lane, so C2 spreads the packed block with a matmul by a 0/1 matrix the reader
makes (exact: a byte is exact in bfloat16). Codes minus 8 are exact in bfloat16; each dequantized
weight is rounded once to bfloat16 when it is stored, as on the GPU.
M x N x K = 128 x 128 x 256 in 64 x 64 x 64 blocks: a 2 x 2 grid, 4 steps along K.
"""
import ml_dtypes
import numpy as np

import nanott.language as T


def matmul_dequant_int4(M, N, K, block_M, block_N, block_K, in_dtype="bfloat16", storage_dtype="uint8",
                        accum_dtype="float", num_bits=4, num_stages=2):
    num_elems_per_byte = 8 // num_bits
    mask = (1 << num_bits) - 1
    zero = 1 << (num_bits - 1)

    @T.prim_func
    def main(
        A: T.Tensor((M, K), in_dtype),
        B: T.Tensor((N, K // num_elems_per_byte), storage_dtype),
        Scale: T.Tensor((N,), in_dtype),
        C: T.Tensor((M, N), accum_dtype),
    ):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), in_dtype)
            B_shared = T.alloc_shared((block_N, block_K // num_elems_per_byte), storage_dtype)
            B_dequantize_local = T.alloc_fragment((block_N, block_K), in_dtype)
            Scale_shared = T.alloc_shared((block_N,), in_dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)

            T.copy(Scale[bx * block_N], Scale_shared)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[bx * block_N, k * block_K // num_elems_per_byte], B_shared)
                for i, j in T.Parallel(block_N, block_K):
                    code = (B_shared[i, j // num_elems_per_byte] >> (num_bits * (j % num_elems_per_byte))) & mask
                    B_dequantize_local[i, j] = (code.astype(in_dtype) - zero) * Scale_shared[i]
                T.gemm(A_shared, B_dequantize_local, C_local, transpose_B=True)

            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


gemm_dequant_int4 = matmul_dequant_int4(128, 128, 256, 64, 64, 64)


def reference(A, B, Scale):
    """C = A @ W^T in float64, rounded once to float32, where W = (code - 8) * Scale is rounded to
    bfloat16 as the kernel stores it; the codes unpacked from the bytes by NumPy's own stacking of
    low and high nibbles (an independent route to the kernel's shifts)."""
    codes = np.stack((B & 0x0F, B >> 4), axis=-1).reshape(B.shape[0], B.shape[1] * 2).astype(np.float32)
    W = ((codes - 8) * Scale.astype(np.float32)[:, None]).astype(ml_dtypes.bfloat16)
    return (A.astype(np.float64) @ W.astype(np.float64).T).astype(np.float32)
