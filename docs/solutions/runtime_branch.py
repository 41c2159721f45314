"""The kernel of exercise 1.2 (docs/01_source_P0.md): blocks of C copied from A in the first column
of blocks and from B elsewhere, decided by run-time `if`s.

    nanott explain docs/solutions/runtime_branch.py --only P0

P0 runs the kernel's Python once, with the block indices symbolic: `bx == 0` is not a Python bool
then. A store into an on-chip buffer under such an `if` becomes conditional
(nanott/language/predicate.py); a branch holding tile copies becomes a loop that runs once or never
(`for once in 0..if_then_else(c, 1, 0)`), which every role of the core later evaluates alike.
"""
import nanott.language as T

M, N, block = 64, 64, 32


@T.prim_func
def first_column(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32"),
                 C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), threads=128) as (bx, by):
        C_s = T.alloc_shared((block, block), "float32")
        if bx == 0:
            T.copy(A[by * block, bx * block], C_s)
        else:
            T.copy(B[by * block, bx * block], C_s)
        T.copy(C_s, C[by * block, bx * block])
