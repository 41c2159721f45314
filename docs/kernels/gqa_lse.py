"""The log-sum-exp of TileLang's GQA decoder, alone: how its split stores one value per row into a
column of a scratch tensor, and how its combine reads the column back.

The split (grid: batch, KV head, slice) holds a block of 32 rows of which the first G are its KV
head's query heads; it computes one value per row (here the row max of its slice of X) and
stores the valid rows' values into column `sid` of `glse = T.alloc_global([B, H, S])`, under
`if i < G`, as example_gqa_decode.py stores its lse. The combine (grid: head, batch) reads the
slices' values broadcast over 128 columns, `lse[k, j] = glse[b, h, k]`, and takes their max.
The progression chapter shows what P0b makes of both.
"""
import nanott.language as T

B, H, G, S, D = 1, 8, 4, 2, 64


@T.prim_func
def gqa_lse(X: T.Tensor((B, H, S, D), "float32"), Out: T.Tensor((B, H, 128), "float32")):
    glse = T.alloc_global((B, H, S), "float32")
    with T.Kernel(B, H // G, S, threads=128) as (bx, by, bz):
        xs = T.alloc_shared((32, D), "float32")
        m = T.alloc_fragment((32,), "float32")
        T.copy(X[bx, by * G:by * G + 32, bz, :], xs)
        T.reduce_max(xs, m, dim=1)
        for i in T.Parallel(32):
            if i < G:
                glse[bx, by * G + i, bz] = m[i]
    with T.Kernel(H, B, threads=128) as (h, b):
        lse = T.alloc_fragment((S, 128), "float32")
        lse_max = T.alloc_fragment((128,), "float32")
        for k, j in T.Parallel(S, 128):
            lse[k, j] = glse[b, h, k]
        T.reduce_max(lse, lse_max, dim=0)
        for j in T.Parallel(128):
            Out[b, h, j] = lse_max[j]
