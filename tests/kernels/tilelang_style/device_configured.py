"""A factory that chooses its block size from the CUDA device it would run on, as TileLang's
attention-sink backward does (`torch.cuda.get_device_capability()`, then one configuration per
architecture and a ValueError on any other). nanott has no CUDA device; during the load it answers
the query as sm_90 (nanott/language/cuda_device.py), with torch installed or not, so the file takes
its sm_90 configuration: 64-row blocks."""
import torch
import tilelang
import tilelang.language as T


def get_configs():
    sm_major, sm_minor = torch.cuda.get_device_capability()
    sm_version = sm_major * 10 + sm_minor
    if sm_version == 80:
        return 32, 1
    elif sm_version >= 90:
        return 64, 2
    raise ValueError(f"Unsupported SM version: {sm_version}")


@tilelang.jit(out_idx=[-1])
def scale_rows(M, N, dtype: T.dtype = T.float32):
    block_M, num_stages = get_configs()

    @T.prim_func
    def main(A: T.Tensor((M, N), dtype), B: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            a = T.alloc_shared((block_M, N), dtype)
            b = T.alloc_fragment((block_M, N), dtype)
            T.copy(A[bx * block_M, 0], a)
            for i, j in T.Parallel(block_M, N):
                b[i, j] = a[i, j] * 3.0 - 1.0
            T.copy(b, B[bx * block_M, 0])

    return main
