"""A kernel that reads a module-level value made by CUDA work: the skipped statement's error is
reported (NT920) because the kernel needs the name it would have bound."""
import torch
import tilelang
import tilelang.language as T

N = torch.cuda.device_count()


@tilelang.jit
def copy(A, block):
    A: T.Tensor((N, 32), T.float32)
    B = T.empty((N, 32), T.float32)
    with T.Kernel(1) as bx:
        s = T.alloc_shared((block, 32), T.float32)
        T.copy(A[0, 0], s)
        T.copy(s, B[0, 0])
    return B
