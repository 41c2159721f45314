"""A kernel that reads a module-level value made by CUDA work: the skipped statement's error is
reported (NT920) because the kernel needs the name it would have bound. Asking for device 0's
properties fails on every machine without a GPU: with no torch (NameError), with a CPU build of
torch ("not compiled with CUDA") and with a CUDA build and no device; device_count() would not
(it returns 0 on a CPU build)."""
import torch
import tilelang
import tilelang.language as T

N = torch.cuda.get_device_properties(0).multi_processor_count


@tilelang.jit
def copy(A, block):
    A: T.Tensor((N, 32), T.float32)
    B = T.empty((N, 32), T.float32)
    with T.Kernel(1) as bx:
        s = T.alloc_shared((block, 32), T.float32)
        T.copy(A[0, 0], s)
        T.copy(s, B[0, 0])
    return B
