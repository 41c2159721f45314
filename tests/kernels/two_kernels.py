"""Two module-level kernels from one factory: the loader must be told which (NT901)."""
import nanott.language as T


def scale(M, N):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
        with T.Kernel(1) as bx:
            A_s = T.alloc_shared((M, N), "float32")
            T.copy(A, A_s)
            T.copy(A_s, B)

    return main


small = scale(32, 32)
large = scale(64, 64)
