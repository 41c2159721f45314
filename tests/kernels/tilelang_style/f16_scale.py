"""Factory style, float16 in and out with a float32 fragment between: y = x * 0.5 - 1 per element,
written as TileLang's elementwise examples write it."""
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def scale(M, N, block_M=32, block_N=64, dtype="float16", accum_dtype="float"):

    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            X_s = T.alloc_shared((block_M, block_N), dtype)
            Y_l = T.alloc_fragment((block_M, block_N), accum_dtype)
            T.copy(X[by * block_M, bx * block_N], X_s)
            for i, j in T.Parallel(block_M, block_N):
                Y_l[i, j] = X_s[i, j] * 0.5 - 1.0
            T.copy(Y_l, Y[by * block_M, bx * block_N])

    return main
