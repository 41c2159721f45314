"""A bad kernel: the K blocks to visit chosen by a mask read from DRAM, with an `if` on the mask
around the copy (NT302, as TileLang's block-sparse attention writes it): the hint says to list the
blocks in an index tensor instead, which the reader reads (examples/blocksparse_attention.py)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 128), "float32"), Mask: T.Tensor((2, 32), "int32"), B: T.Tensor((64, 32), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((32, 32), "float32")
        m = T.alloc_fragment((32,), "int32")
        acc = T.alloc_fragment((32, 32), "float32")
        T.clear(acc)
        T.copy(Mask[bx, 0:32], m)
        for k in T.serial(4):
            if m[k] != 0:
                T.copy(A[bx * 32, k * 32], A_s)
                for i, j in T.Parallel(32, 32):
                    acc[i, j] += A_s[i, j]
        T.copy(acc, B[bx * 32, 0])
