"""Eager style over integer and bool tensors: y = x * 3 - 2 per element, x and y of any of int32,
int8, uint8, with a mask `m` (bool) kept where it is set: z = y if m else 0 (y * m)."""
import tilelang
import tilelang.language as T


@tilelang.jit
def affine(X, Mask, in_dtype, out_dtype, block=32):
    M, N = T.const("M, N")
    X: T.Tensor((M, N), in_dtype)
    Mask: T.Tensor((M, N), T.bool)
    Y = T.empty((M, N), out_dtype)

    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block)) as (bx, by):
        x_s = T.alloc_shared((block, block), in_dtype)
        m_s = T.alloc_shared((block, block), T.bool)
        y_l = T.alloc_fragment((block, block), out_dtype)
        T.copy(X[by * block, bx * block], x_s)
        T.copy(Mask[by * block, bx * block], m_s)
        for i, j in T.Parallel(block, block):
            y_l[i, j] = (x_s[i, j] * 3 - 2) * m_s[i, j]
        T.copy(y_l, Y[by * block, bx * block])

    return Y
