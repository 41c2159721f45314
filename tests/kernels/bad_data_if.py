"""A bad kernel: the K blocks to visit chosen by a mask copied from DRAM into a fragment, with an
`if` on the fragment around the copy (as TileLang's block-sparse attention writes it), but the
fragment is written again after its copy: P0 reads such a condition from DRAM, where the copy read
it (the reader reads it and sends it to compute), which is the fragment's value only while nothing
else writes it (NT302)."""
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
            for i in T.Parallel(32):
                m[i] = 0
        T.copy(acc, B[bx * 32, 0])
