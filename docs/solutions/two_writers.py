"""The kernels of exercise 4.3 (docs/04_C_circular_buffers_and_tiles.md): C = 2 * A.

`double` computes in place in the shared buffer the reader fills. TileLang accepts it (a shared
buffer is just memory); on a Tensix core A_s would be a circular buffer with two producers, the
reader (the copy from DRAM) and compute (the store of T.Parallel), so C2b stages the reader's
block in a CB of its own and copies it in. `double_fixed` gives compute its own buffer and needs
no repair.

    nanott explain docs/solutions/two_writers.py --kernel double --only C2b
    nanott run docs/solutions/two_writers.py --kernel double_fixed --level L9
"""
import nanott.language as T

M, N, block = 64, 64, 32


@T.prim_func
def double(A: T.Tensor((M, N), "float32"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), threads=128) as (bx, by):
        A_s = T.alloc_shared((block, block), "float32")
        T.copy(A[by * block, bx * block], A_s)
        for i, j in T.Parallel(block, block):
            A_s[i, j] = A_s[i, j] * 2.0
        T.copy(A_s, C[by * block, bx * block])


@T.prim_func
def double_fixed(A: T.Tensor((M, N), "float32"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), threads=128) as (bx, by):
        A_s = T.alloc_shared((block, block), "float32")
        C_l = T.alloc_fragment((block, block), "float32")
        T.copy(A[by * block, bx * block], A_s)
        for i, j in T.Parallel(block, block):
            C_l[i, j] = A_s[i, j] * 2.0
        T.copy(C_l, C[by * block, bx * block])


def reference(A):
    """C = 2 * A."""
    return A * 2
