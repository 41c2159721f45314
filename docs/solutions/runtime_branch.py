"""The kernel of exercise 1.2 (docs/01_source_P0.md): a copy that runs only in the first column of
blocks, decided by a run-time `if`.

    nanott explain docs/solutions/runtime_branch.py --only P0

P0 runs the kernel's Python once, with the block indices symbolic: `bx == 0` is not a Python bool
then. P0 runs both branches and makes their stores into on-chip buffers conditional
(nanott/language/predicate.py); a tile copy cannot be made conditional that way, so P0 stops at
the first T.copy under the `if` with NT302.
"""
import nanott.language as T

M, N, block = 64, 64, 32


@T.prim_func
def first_column(A: T.Tensor((M, N), "float32"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), threads=128) as (bx, by):
        A_s = T.alloc_shared((block, block), "float32")
        if bx == 0:
            T.copy(A[by * block, bx * block], A_s)
            T.copy(A_s, C[by * block, bx * block])
