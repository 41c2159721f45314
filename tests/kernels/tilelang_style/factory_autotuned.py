"""A factory-style kernel under `@autotune(configs=...)` and `@tilelang.jit(out_idx=...)`, with the
module-level imports TileLang's examples carry (autotuner, testing, carver, tvm.DataType)."""
import itertools

import tilelang
import tilelang.testing
import tilelang.language as T
from tilelang.autotuner import *
from tilelang.carver.arch import CUDA
from tvm import DataType


def get_configs():
    return [dict(block_M=m, block_N=n) for m, n in itertools.product([32, 64], [32])]


@autotune(configs=get_configs(), warmup=3, rep=5)
@tilelang.jit(out_idx=[-1])
def scale_rows(M, N, block_M, block_N, dtype="float32"):
    assert DataType(dtype).bits == 32

    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            X_s = T.alloc_shared((block_M, block_N), dtype)
            Y_l = T.alloc_fragment((block_M, tilelang.math.next_power_of_2(block_N)), dtype)
            T.copy(X[by * block_M, bx * block_N], X_s)
            for i, j in T.Parallel(block_M, block_N):
                Y_l[i, j] = X_s[i, j] * 2.0 + 1.0
            T.copy(Y_l, Y[by * block_M, bx * block_N])

    return main


arch = CUDA("cuda")


def reference(X):
    return X * 2.0 + 1.0
