"""A bad kernel: the consumer waits on a barrier the producer never arrives on (NT329): on the GPU it
would wait forever; nanott, which runs the roles in program order, says so instead."""
import nanott.language as T

M = N = K = 64


@T.prim_func
def bad(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 32), "bfloat16")
        B_s = T.alloc_shared((32, 64), "bfloat16")
        C_l = T.alloc_fragment((64, 64), "float")
        ready = T.alloc_barrier(arrive_count=128)
        T.clear(C_l)
        for k in T.Pipelined(2, num_stages=2):
            with T.ws(1):
                T.copy(A[0, k * 32], A_s)
                T.copy(B[k * 32, 0], B_s)
            with T.ws(0):
                T.barrier_wait(ready, k % 2)
                T.gemm(A_s, B_s, C_l)
        T.copy(C_l, C[0, 0])
