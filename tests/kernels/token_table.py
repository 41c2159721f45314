"""A kernel whose index tables must agree with each other, as NSA's varlen kernel's do: block bx
takes 32 rows of X from the sequence Tok[bx, 0] at position Tok[bx, 1], the sequence's first row
being Offs[that sequence], and scales them by W at the first row. Random tables send
`Offs[n]` outside Offs (NT120, whose hint names Offs and Tok); tests/test_given_inputs.py gives
them with --inputs."""
import numpy as np

import nanott.language as T


@T.prim_func
def token_table(X: T.Tensor((128, 64), "float32"), W: T.Tensor((128,), "float32"), Offs: T.Tensor((3,), "int32"),
                Tok: T.Tensor((4, 2), "int32"), Y: T.Tensor((128, 64), "float32")):
    with T.Kernel(4) as bx:
        n = Tok[bx, 0]
        t = Tok[bx, 1]
        row = Offs[n] + t
        x = T.alloc_fragment((32, 64), "float32")
        T.copy(X[row:row + 32, :], x)
        for i, j in T.Parallel(32, 64):
            x[i, j] = x[i, j] * W[row]
        T.copy(x, Y[bx * 32:(bx + 1) * 32, :])


def reference(X, W, Offs, Tok):
    """Block by block in float64, rounded once: rows row..row+31 of X (zeros past its end) times W[row]."""
    out = np.zeros((128, 64))
    padded = np.concatenate([X.astype(np.float64), np.zeros((32, 64))])
    for b, (n, t) in enumerate(Tok):
        row = Offs[n] + t
        out[b * 32:(b + 1) * 32] = padded[row:row + 32] * W[row]
    return out.astype(np.float32)
