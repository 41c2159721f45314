"""Our test kernel for thread roles (nanott/language/role_fusion.py), written as TileLang's MLA `_ws`
decode writes its roles: `tx = T.get_thread_binding()` and an `if / elif / else` on it, barriers
between the roles, two consumer groups exchanging a block through shared memory.

O = exp(Q K^T * scale) V, unnormalised, over blocks of K and V:
- the producer (tx 256..383) copies the step's K and V blocks, arrives on `kv_ready`, and waits on
  `kv_free` (both consumers done with them) before the next copy;
- consumer 0 (tx 0..127) computes S = Q K^T, P = exp(S * scale) into shared `P_shared`, arrives on
  `p_ready`, and before writing `P_shared` again waits on `p_free`;
- consumer 1 (tx 128..255) waits on `p_ready`, accumulates O += P V, arrives on `p_free`.

`producer="threads"` copies K and V thread by thread (T.ptx_cp_async of T.access_ptr elements, 8 per
thread), `halves=True` computes S from the two halves of the head dim (T.gemm on parts of the shared
buffers), as the MLA `_ws` file does both. `mutation` breaks it for the diagnostics tests: "no_arrive" drops the producer's arrive, "parity"
makes consumer 1 wait with the wrong parity, "no_wait" drops consumer 1's wait on p_ready. (Consumer 0's wait on
p_free is implied: its next step waits on kv_ready, which waits on consumer 1's arrive on kv_free.)
"""
import tilelang
import tilelang.language as T


@tilelang.jit
def attention(heads=64, seq=256, dim=64, block_N=64, mutation="none", producer="blocks", halves=False):
    scale = dim ** -0.5
    steps = seq // block_N

    @T.prim_func
    def main(Q: T.Tensor((heads, dim), "bfloat16"), Kt: T.Tensor((seq, dim), "bfloat16"),
             V: T.Tensor((seq, dim), "bfloat16"), O: T.Tensor((heads, dim), "float32")):
        with T.Kernel(1, threads=384) as bx:
            Q_shared = T.alloc_shared((heads, dim), "bfloat16")
            K_shared = T.alloc_shared((block_N, dim), "bfloat16")
            V_shared = T.alloc_shared((block_N, dim), "bfloat16")
            P_shared = T.alloc_shared((heads, block_N), "bfloat16")
            S = T.alloc_fragment((heads, block_N), "float32")
            acc = T.alloc_fragment((heads, dim), "float32")

            q_ready = T.alloc_barrier(arrive_count=384)
            kv_ready = T.alloc_barrier(arrive_count=128)
            kv_free = T.alloc_barrier(arrive_count=256)
            p_ready = T.alloc_barrier(arrive_count=128)
            p_free = T.alloc_barrier(arrive_count=128)

            tx = T.get_thread_binding()
            T.copy(Q[0, 0], Q_shared)
            T.barrier_arrive(q_ready)

            if tx < 128:
                T.barrier_wait(q_ready, 0)
                for k in T.serial(steps):
                    T.barrier_wait(kv_ready, k % 2)
                    if halves:               # S from the two halves of the head dim: parts of the buffers
                        T.gemm(Q_shared[:, : dim // 2], K_shared[:, : dim // 2], S, transpose_B=True, clear_accum=True)
                        T.gemm(Q_shared[:, dim // 2 :], K_shared[:, dim // 2 :], S, transpose_B=True)
                    else:
                        T.gemm(Q_shared, K_shared, S, transpose_B=True, clear_accum=True)
                    T.barrier_arrive(kv_free)
                    if k != 0:
                        T.barrier_wait(p_free, (k - 1) % 2)
                    for i, j in T.Parallel(heads, block_N):
                        P_shared[i, j] = T.exp(S[i, j] * scale)
                    T.barrier_arrive(p_ready)
            elif tx < 256:
                T.clear(acc)
                for k in T.serial(steps):
                    if mutation != "no_wait":
                        T.barrier_wait(p_ready, (k + 1) % 2 if mutation == "parity" else k % 2)
                    T.gemm(P_shared, V_shared, acc)
                    T.barrier_arrive(kv_free)
                    T.barrier_arrive(p_free)
                T.copy(acc, O[0, 0])
            else:
                for k in T.serial(steps):
                    T.barrier_wait(kv_free, (k % 2) ^ 1)
                    if producer == "threads":    # each thread 8 elements of each row group, as the _ws MLA
                        for r in T.serial(block_N // 16):
                            row = r * 16 + (tx - 256) // 8
                            for u in T.serial(dim // 64):
                                col = 64 * u + (tx - 256) % 8 * 8
                                T.ptx_cp_async(T.access_ptr(K_shared[row, col], "w", 8),
                                               T.access_ptr(Kt[k * block_N + row, col], "r", 8), 8)
                                T.ptx_cp_async(T.access_ptr(V_shared[row, col], "w", 8),
                                               T.access_ptr(V[k * block_N + row, col], "r", 8), 8)
                    else:
                        T.copy(Kt[k * block_N, 0], K_shared)
                        T.copy(V[k * block_N, 0], V_shared)
                    if mutation != "no_arrive":
                        T.barrier_arrive(kv_ready)

    return main
