"""The four problems of issue 12 written in TT-Lang, for tt-lang-sim (run by bench_simulator.py as
`tt-lang-sim peer_ttlang.py -- PROBLEM`, in a throwaway environment, never imported by nanott).

Written for this benchmark against TT-Lang's documented API (operation, dataflow buffers, reserve/
wait blocks, ttl.copy, block arithmetic): one node, the block shape the problem names, bf16, one
torch thread. Prints one JSON line: the problem and the CPU seconds of the operation call.
"""
import json
import sys
import time

import torch
import ttl
import ttnn

T = 32
PROBLEMS = {  # name: (kind, size, tiles per block side)
    "eltwise_1x1_1024": ("eltwise", 1024, 1),
    "eltwise_4x4_2048": ("eltwise", 2048, 4),
    "matmul_1x1x1_512": ("matmul", 512, 1),
    "matmul_4x4x4_1024": ("matmul", 1024, 4),
}


def eltwise_op(g):
    @ttl.operation(grid=(1, 1))
    def op(a, b, c, y):
        n = a.shape[0] // T // g
        ab, bb, cb = (ttl.make_dataflow_buffer_like(x, shape=(g, g), block_count=2) for x in (a, b, c))
        yb = ttl.make_dataflow_buffer_like(y, shape=(g, g), block_count=2)

        @ttl.compute()
        def compute():
            for _ in range(n * n):
                with ab.wait() as x, bb.wait() as z, cb.wait() as w, yb.reserve() as out:
                    out.store(x * z + w)

        @ttl.datamovement()
        def read():
            for i in range(n):
                for j in range(n):
                    rows, cols = slice(i * g, (i + 1) * g), slice(j * g, (j + 1) * g)
                    with ab.reserve() as x, bb.reserve() as z, cb.reserve() as w:
                        tx = ttl.copy(a[rows, cols], x)      # the peer accepts copies only as
                        tz = ttl.copy(b[rows, cols], z)      # `t = ttl.copy(...)` or bare calls
                        tw = ttl.copy(c[rows, cols], w)
                        tx.wait()
                        tz.wait()
                        tw.wait()

        @ttl.datamovement()
        def write():
            for i in range(n):
                for j in range(n):
                    with yb.wait() as out:
                        ttl.copy(out, y[i * g:(i + 1) * g, j * g:(j + 1) * g]).wait()
    return op


def matmul_op(g):
    @ttl.operation(grid=(1, 1))
    def op(a, b, c, y):
        n, k = a.shape[0] // T // g, a.shape[1] // T // g
        ab, bb = (ttl.make_dataflow_buffer_like(x, shape=(g, g), block_count=2) for x in (a, b))
        cb, acc, yb = (ttl.make_dataflow_buffer_like(x, shape=(g, g), block_count=2) for x in (c, y, y))

        @ttl.compute()
        def compute():
            for _ in range(n * n):
                with acc.reserve() as z:
                    z.store(ttl.block.fill(0, shape=z.shape))
                for _ in range(k):
                    with ab.wait() as x, bb.wait() as w, acc.wait() as before:
                        with acc.reserve() as after:
                            after.store(before + x @ w)
                with cb.wait() as bias, acc.wait() as total, yb.reserve() as out:
                    out.store(ttl.math.relu(bias + total))

        @ttl.datamovement()
        def read():
            for i in range(n):
                for j in range(n):
                    rows, cols = slice(i * g, (i + 1) * g), slice(j * g, (j + 1) * g)
                    with cb.reserve() as bias:
                        ttl.copy(c[rows, cols], bias).wait()
                    for kk in range(k):
                        ks = slice(kk * g, (kk + 1) * g)
                        with ab.reserve() as x, bb.reserve() as w:
                            tx = ttl.copy(a[rows, ks], x)
                            tw = ttl.copy(b[ks, cols], w)
                            tx.wait()
                            tw.wait()

        @ttl.datamovement()
        def write():
            for i in range(n):
                for j in range(n):
                    with yb.wait() as out:
                        ttl.copy(out, y[i * g:(i + 1) * g, j * g:(j + 1) * g]).wait()
    return op


def main(problem: str) -> None:
    torch.set_num_threads(1)
    kind, size, g = PROBLEMS[problem]
    device = ttnn.open_device(device_id=0)
    try:
        def dev(t):
            return ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device,
                                   memory_config=ttnn.DRAM_MEMORY_CONFIG)
        torch.manual_seed(0)
        a, b, c = (torch.rand((size, size), dtype=torch.bfloat16) for _ in range(3))
        y = dev(torch.zeros((size, size), dtype=torch.bfloat16))
        op = eltwise_op(g) if kind == "eltwise" else matmul_op(g)
        args = [dev(a), dev(b), dev(c), y]
        start = time.process_time()
        op(*args)
        cpu = time.process_time() - start
        got = ttnn.to_torch(y).float()
        want = a.float() * b.float() + c.float() if kind == "eltwise" else torch.relu(a.float() @ b.float() + c.float())
        err = float((got - want).abs().max() / want.abs().max())
        print(json.dumps({"problem": problem, "cpu_s": cpu, "max_rel_err": err}))
    finally:
        ttnn.close_device(device)


main(sys.argv[-1])
