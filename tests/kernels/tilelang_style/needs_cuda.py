"""A kernel that reads a module-level value made by CUDA work: the skipped statement's error is
reported because the kernel needs the name it would have bound. Making a tensor on the GPU fails on
every machine without one: with no torch (NT920, nanott's stand-in declines it), with a CPU build of
torch ("not compiled with CUDA") and with a CUDA build and no device. (A device query would not:
nanott answers those during the load, cuda_device.py.)"""
import torch
import tilelang
import tilelang.language as T

N = torch.zeros(64, device="cuda").shape[0]


@tilelang.jit
def copy(A, block):
    A: T.Tensor((N, 32), T.float32)
    B = T.empty((N, 32), T.float32)
    with T.Kernel(1) as bx:
        s = T.alloc_shared((block, 32), T.float32)
        T.copy(A[0, 0], s)
        T.copy(s, B[0, 0])
    return B
