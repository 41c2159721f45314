"""No toys: GEMM and elementwise kernels drawn at random from the space issue 2 promises (block
sizes, grid shapes and roles, more blocks than cores and fewer, dtypes, pipeline depths, any number
of inputs, random expressions of + - * and constants), each lowered through F1 and run at L0 and
L9 against an independent NumPy computation.

Tolerances are nanott.api.TOLERANCE per output dtype; the draws are seeded, so a failure names a
configuration that can be replayed (its parameters are the test id).
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from nanott import api
from nanott.languages.l0_interp import np_dtype
from nanott.loader import load_kernel

KERNELS = Path(__file__).parent / "kernels"
LEVELS = ("L0", "L5", "L9")


def gemm_configs(n: int, seed: int = 2026) -> list[dict]:
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        bm, bn = rng.choice((32, 64, 96, 128, 256)), rng.choice((32, 64, 128, 256))
        bk = rng.choice((32, 64, 128))
        gm, gn, gk = rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 3)
        if bm * bn * gm * gn * bk * gk > 2**21:           # keep each case well under a second
            continue
        out.append(dict(M=bm * gm, N=bn * gn, K=bk * gk, bm=bm, bn=bn, bk=bk,
                        in_dtype=rng.choice(("bfloat16", "float32")),
                        out_dtype=rng.choice(("bfloat16", "float32")),
                        stages=rng.choice((1, 2, 3)), rows_first=rng.choice((False, True))))
    # and the two shapes of grid the work split must get right: more blocks than cores, and one
    out.append(dict(M=32 * 10, N=32 * 9, K=32, bm=32, bn=32, bk=32, in_dtype="bfloat16",
                    out_dtype="float32", stages=2, rows_first=False))
    out.append(dict(M=256, N=256, K=128, bm=256, bn=256, bk=128, in_dtype="float32",
                    out_dtype="float32", stages=1, rows_first=True))
    return out


def config_id(c: dict) -> str:
    return "-".join(f"{k}{v}" for k, v in c.items())


@pytest.mark.parametrize("config", gemm_configs(10), ids=config_id)
def test_gemm_family(config: dict) -> None:
    loaded = load_kernel(KERNELS / "gemm_family.py", "matmul", {k: repr(v) for k, v in config.items()})
    check_levels(loaded, lambda a: {"C": a["A"].astype(np.float64) @ a["B"].astype(np.float64)})


OPS = ("+", "-", "*")


def random_expression(rng: random.Random, names: list[str], depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.2:
            return repr(rng.choice((0.5, 2.0, -1.5, 3.0, 0.25)))
        return f"{rng.choice(names)}_s[i, j]"
    return (f"({random_expression(rng, names, depth - 1)} {rng.choice(OPS)} "
            f"{random_expression(rng, names, depth - 1)})")


ELEMENTWISE = '''
import nanott.language as T

@T.prim_func
def combine({params}, Out: T.Tensor(({M}, {N}), "{out_dtype}")):
    with T.Kernel({gx}, {gy}) as (bx, by):
{allocs}
        R = T.alloc_fragment(({bm}, {bn}), "float32")
{copies}
        for i, j in T.Parallel({bm}, {bn}):
            R[i, j] = {expr}
        T.copy(R, Out[by * {bm}, bx * {bn}])
'''


def elementwise_source(rng: random.Random) -> tuple[str, str, list[str], list[str]]:
    names = [f"X{k}" for k in range(rng.randint(1, 4))]
    dtypes = [rng.choice(("bfloat16", "float32")) for _ in names]
    bm, bn = rng.choice((32, 64, 128)), rng.choice((32, 64, 96))
    gx, gy = rng.randint(1, 3), rng.randint(1, 3)
    expr = random_expression(rng, names, rng.randint(1, 3))
    for n in names:                  # every input is used (nanott rejects a buffer nobody reads)
        if f"{n}_s[" not in expr:
            expr = f"({expr} {rng.choice(OPS)} {n}_s[i, j])"
    params = ", ".join(f'{n}: T.Tensor(({bm * gy}, {bn * gx}), "{d}")' for n, d in zip(names, dtypes))
    allocs = "\n".join(f'        {n}_s = T.alloc_shared(({bm}, {bn}), "{d}")' for n, d in zip(names, dtypes))
    copies = "\n".join(f"        T.copy({n}[by * {bm}, bx * {bn}], {n}_s)" for n in names)
    out_dtype = rng.choice(("bfloat16", "float32"))
    text = ELEMENTWISE.format(params=params, M=bm * gy, N=bn * gx, out_dtype=out_dtype, gx=gx, gy=gy,
                              allocs=allocs, bm=bm, bn=bn, copies=copies, expr=expr)
    return text, expr, names, [out_dtype]


@pytest.mark.parametrize("seed", range(8))
def test_random_elementwise(seed: int, tmp_path: Path) -> None:
    text, expr, names, (out_dtype,) = elementwise_source(random.Random(seed))
    path = tmp_path / f"elementwise_{seed}.py"
    path.write_text(text)
    loaded = load_kernel(path)

    def reference(arrays):           # the expression in float32, as the kernel's semantics say
        env = {f"{n}_s": _Indexed(arrays[n].astype(np.float32)) for n in names} | {"i": 0, "j": 0}
        value = eval(expr, {}, env)
        return {"Out": np.asarray(value, np.float32).astype(np_dtype(out_dtype))}

    check_levels(loaded, reference)


class _Indexed:
    """Lets `X0_s[i, j]` in the generated expression mean the whole float32 array."""

    def __init__(self, a: np.ndarray):
        self.a = a

    def __getitem__(self, _):
        return self.a


def check_levels(loaded, reference) -> None:
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=7)
    expected = reference(inputs)
    _, outputs = api.tensor_roles(kernel)
    for level in LEVELS:
        program = api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id)
        got = api.simulate(program, level, inputs)
        for name in outputs:
            dtype = next(p.dtype for p in kernel.params if p.name == name)
            assert api.within(got[name], expected[name], dtype), (
                f"{level} {name}: max rel err {api.max_rel_error(got[name], expected[name]):.3g}")
