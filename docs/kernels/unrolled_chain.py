"""An unrolled elementwise chain (course ch. 4, C2c's webs): long_chain.py's recurrence, with its K
loop unrolled (`T.unroll`), as TileLang users unroll a short loop.

Block bx of Y is the sum over the K blocks of h[steps - 1], where h[0] = x / 8 and
h[k] = h[k - 1] / 2 + c(k) x, c(k) = (k mod 5 + 1) / 8, x the K block of X. Unrolled, each step's
fragment is written once per K block, each time by a statement of its own. Measured from its first
touch to its last, every fragment is alive across all the K blocks (34 at once, with x, acc and
C2b's staging 37 CBs: more than a core has); a fragment rewritten whole holds nothing between its
last read in one K block and its write in the next, so C2c splits it into webs and two CBs hold
the chain.
"""
import nanott.language as T


def make_unrolled_chain(steps=34, k_blocks=2):
    @T.prim_func
    def main(X: T.Tensor((64, 32 * k_blocks), "float32"), Y: T.Tensor((64, 32), "float32")):
        with T.Kernel(2, threads=128) as bx:
            x = T.alloc_shared((32, 32), "float32")
            acc = T.alloc_fragment((32, 32), "float32")
            h = [T.alloc_fragment((32, 32), "float32") for _ in range(steps)]
            T.clear(acc)
            for kb in T.unroll(k_blocks):
                T.copy(X[bx * 32, kb * 32], x)
                for i, j in T.Parallel(32, 32):
                    h[0][i, j] = x[i, j] * 0.125
                for k in T.unroll(1, steps):
                    for i, j in T.Parallel(32, 32):
                        h[k][i, j] = h[k - 1][i, j] * 0.5 + x[i, j] * ((k % 5 + 1) / 8)
                for i, j in T.Parallel(32, 32):
                    acc[i, j] += h[steps - 1][i, j]
            T.copy(acc, Y[bx * 32, 0])

    return main


unrolled_chain = make_unrolled_chain()
