"""Rows routed from a table, as fused MoE's routed kernel reads them: block bx takes the Rows[bx]
rows of X from Start[bx] on and scales row i by W[Start[bx] + i] (a run of W from a start read
from DRAM: P0b's shift), the other rows of its block zeros. Given tables (tests/test_given_inputs.py)
have a block with no rows that starts at the end of X and W, as fused MoE's padding block does:
its run of W lies past the tensor, every element of it masked by `if i < n`."""
import numpy as np

import nanott.language as T


@T.prim_func
def routed_runs(X: T.Tensor((96, 64), "float32"), W: T.Tensor((96,), "float32"), Start: T.Tensor((4,), "int32"),
                Rows: T.Tensor((4,), "int32"), Y: T.Tensor((128, 64), "float32")):
    with T.Kernel(4) as bx:
        m_start = Start[bx]
        n = Rows[bx]
        x = T.alloc_fragment((32, 64), "float32")
        zeros = T.alloc_fragment((32, 64), "float32")
        T.copy(X[m_start:m_start + 32, :], x)
        T.clear(zeros)
        T.copy(zeros, Y[bx * 32:(bx + 1) * 32, :])
        for i, j in T.Parallel(32, 64):
            if i < n:
                Y[bx * 32 + i, j] = x[i, j] * W[m_start + i]


def reference(X, W, Start, Rows, Y):
    """Block by block in float64, rounded once: X's rows Start..Start+Rows-1 times W's."""
    out = np.zeros((128, 64))
    for b, (s, n) in enumerate(zip(Start, Rows)):
        out[b * 32:b * 32 + n] = X[s:s + n].astype(np.float64) * W[s:s + n, None]
    return out.astype(np.float32)
