"""The combine step of split-KV decoding, alone, as TileLang's DeepSeek MLA and GQA decode files
write it: per (head h, batch b), each of the `S` slices of the keys left its partial output in
Part[b, h, s, :] and its log-sum-exp (base 2) in Lse[b, h, s]. The combine reads those as scalars:
their max, the log of the sum of 2^(lse_s - max), and each slice's weight 2^(lse_s - lse), by which
it scales the slice's output. The progression chapter shows what P0b makes of the scalars.
"""
import nanott.language as T

B, H, S, D = 1, 4, 2, 64


@T.prim_func
def lse_combine(Lse: T.Tensor((B, H, S), "float32"), Part: T.Tensor((B, H, S, D), "float32"),
                Out: T.Tensor((B, H, D), "float32")):
    with T.Kernel(H, B, threads=128) as (h, b):
        po = T.alloc_fragment((D,), "float32")
        acc = T.alloc_fragment((D,), "float32")
        lse = T.alloc_var("float32")
        logsum = T.alloc_var("float32")
        lse_max = T.alloc_var("float32")
        scale = T.alloc_var("float32")
        T.clear(logsum)
        T.clear(acc)
        lse_max = -T.infinity("float32")
        for k in T.serial(S):
            lse_max = T.max(lse_max, Lse[b, h, k])
        for k in T.serial(S):
            lse = Lse[b, h, k]
            logsum += T.exp2(lse - lse_max)
        logsum = T.log2(logsum) + lse_max
        for k in T.serial(S):
            for i in T.Parallel(D):
                po[i] = Part[b, h, k, i]
            lse = Lse[b, h, k]
            scale = T.exp2(lse - logsum)
            for i in T.Parallel(D):
                acc[i] += po[i] * scale
        for i in T.Parallel(D):
            Out[b, h, i] = acc[i]
