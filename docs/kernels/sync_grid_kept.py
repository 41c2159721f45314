"""A row sum kept on chip across T.sync_grid: phase 1 sums each block's rows into a fragment,
phase 2 reads that fragment back. On a GPU the block's registers survive the barrier; nanott
lowers the barrier to a new launch, where they do not, and says so (NT332). The fix is the
persistent MLA decode's: write the sums to DRAM before the barrier, read them back after.
docs/10_progression.md shows the diagnostic.
"""
import nanott.language as T


@T.prim_func
def kept_sums(A: T.Tensor((64, 64), "float32"), S: T.Tensor((64, 32), "float32")):
    with T.Kernel(2) as bx:
        a = T.alloc_fragment((32, 64), "float32")
        sums = T.alloc_fragment((32,), "float32")
        out = T.alloc_fragment((32, 32), "float32")
        T.copy(A[bx * 32, 0], a)
        T.reduce_sum(a, sums, dim=1)
        T.sync_grid()
        for i, j in T.Parallel(32, 32):
            out[i, j] = sums[i]
        T.copy(out, S[bx * 32, 0])
