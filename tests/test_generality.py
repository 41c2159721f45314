"""No toys: GEMM and elementwise kernels drawn at random from the space issues 2 and 4 promise (block
sizes, grid shapes and roles, more blocks than cores and fewer, dtypes, pipeline depths, any number
of inputs, random expressions of + - * and constants; then the math of issue 4: / , unary minus,
T.max/T.min, the SFPU functions, T.cast, GEMMs with transposed operands and epilogues, ragged
GEMMs whose M, N, K are no multiples of 32 or of the block, and split-K GEMMs), each
lowered through F1 and run at L0, L5 and L9 against an independent NumPy computation; at L0 and
L5 the compiled closures' result and at L9 the lockstep simulator's are also compared bit for bit
with the reference interpreter's (InterpL0, InterpL5, InterpL9).

Tolerances are nanott.api.TOLERANCE per output dtype; the draws are seeded, so a failure names a
configuration that can be replayed (its parameters are the test id).
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from nanott import api, pipeline
from nanott.ir import Launches, launches_of
from nanott.languages.l0_interp import np_dtype, scratch_arrays
from nanott.languages.l9_interp import InterpL9
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


def ragged_gemm_configs(n: int, seed: int = 2028) -> list[dict]:
    """M, N, K anywhere from 1 to three blocks, mostly no multiple of 32 nor of the block."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bm, bn, bk = rng.choice((32, 64, 96)), rng.choice((32, 64)), rng.choice((32, 64))
        out.append(dict(M=rng.randint(1, 3 * bm), N=rng.randint(1, 3 * bn), K=rng.randint(1, 3 * bk),
                        bm=bm, bn=bn, bk=bk, in_dtype=rng.choice(("bfloat16", "float32")),
                        out_dtype=rng.choice(("bfloat16", "float32")), stages=rng.choice((1, 2)),
                        rows_first=rng.choice((False, True))))
    return out


@pytest.mark.parametrize("config", ragged_gemm_configs(8), ids=config_id)
def test_ragged_gemm(config: dict) -> None:
    """Copies past the edges are masked at L0 and read zero padding from L4 on (A1)."""
    loaded = load_kernel(KERNELS / "gemm_family.py", "matmul", {k: repr(v) for k, v in config.items()})
    check_levels(loaded, lambda a: {"C": a["A"].astype(np.float64) @ a["B"].astype(np.float64)})


def splitk_configs(n: int, seed: int = 2029) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bm, bn, bk = rng.choice((32, 64)), rng.choice((32, 64)), rng.choice((32, 64))
        split = rng.choice((2, 3, 4))
        out.append(dict(M=bm * rng.randint(1, 2), N=bn * rng.randint(1, 2), K=bk * split * rng.randint(1, 2),
                        bm=bm, bn=bn, bk=bk, split=split, in_dtype=rng.choice(("bfloat16", "float32")),
                        out_dtype="float32", split_first=rng.choice((False, True))))
    return out


@pytest.mark.parametrize("config", splitk_configs(6), ids=config_id)
def test_splitk_gemm(config: dict) -> None:
    """T.atomic_add of each slice's partial product; the slices of a block summed on one core. C is
    float32, as split-K's C is in TileLang: a bfloat16 C rounds every slice's add (the semantics of
    an atomic add into bfloat16), which a float64 reference of A @ B does not."""
    loaded = load_kernel(KERNELS / "gemm_splitk_family.py", "matmul", {k: repr(v) for k, v in config.items()})
    check_levels(loaded, lambda a: {"C": a["A"].astype(np.float64) @ a["B"].astype(np.float64)})


def gemm_variant_configs(n: int, seed: int = 2027) -> list[dict]:
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        bm, bn, bk = rng.choice((32, 64, 96)), rng.choice((32, 64, 128)), rng.choice((32, 64))
        gm, gn, gk = rng.randint(1, 2), rng.randint(1, 2), rng.randint(1, 3)
        out.append(dict(M=bm * gm, N=bn * gn, K=bk * gk, bm=bm, bn=bn, bk=bk,
                        trans_a=rng.choice((False, True)), trans_b=rng.choice((False, True)),
                        scale=rng.choice((1.0, 0.5, -2.0)), bias=rng.choice((False, True)),
                        relu=rng.choice((False, True)), in_dtype=rng.choice(("bfloat16", "float32")),
                        out_dtype=rng.choice(("bfloat16", "float32")), stages=rng.choice((1, 2))))
    return out


@pytest.mark.parametrize("config", gemm_variant_configs(8), ids=config_id)
def test_gemm_variants(config: dict) -> None:
    loaded = load_kernel(KERNELS / "gemm_variants.py", "matmul", {k: repr(v) for k, v in config.items()})

    def reference(arrays):            # float64: op(A) @ op(B), then the epilogue
        a, b = (arrays[n].astype(np.float64) for n in "AB")
        c = (a.T if config["trans_a"] else a) @ (b.T if config["trans_b"] else b) * config["scale"]
        c = c + arrays["D"].astype(np.float64) if config["bias"] else c
        return {"C": np.maximum(c, 0) if config["relu"] else c}

    check_levels(loaded, reference)


REDUCTION = '''
import nanott.language as T

@T.prim_func
def red(A: T.Tensor(({M}, {N}), "{dtype}"), B: T.Tensor(({M}, {N}), "{out_dtype}")):
    with T.Kernel({gx}, {gy}) as (bx, by):
        A_s = T.alloc_shared(({bm}, {bn}), "{dtype}")
        v = T.alloc_fragment(({length},), "float32")
        O = T.alloc_fragment(({bm}, {bn}), "float32")
        T.copy(A[by * {bm}, bx * {bn}], A_s)
        T.fill(v, {start})
        T.reduce_{op}(A_s, v, dim={dim}, clear={clear})
        for i, j in T.Parallel({bm}, {bn}):
            O[i, j] = A_s[i, j] {use} {operand}
        T.copy(O, B[by * {bm}, bx * {bn}])
'''


@pytest.mark.parametrize("seed", range(8))
def test_random_reductions(seed: int, tmp_path: Path) -> None:
    """A reduction along a random dim, cleared or accumulating onto a start value, broadcast back
    over the block (v[i] for dim 1, v[j] for dim 0) with a random operator (dividing by |v| + 1)."""
    rng = random.Random(3000 + seed)
    bm, bn, gx, gy = rng.choice((32, 64)), rng.choice((32, 64, 96)), rng.randint(1, 2), rng.randint(1, 2)
    op, dim, clear = rng.choice(("sum", "max", "min")), rng.choice((0, 1)), rng.choice((True, False))
    start, use = rng.choice((0.25, -0.5)), rng.choice(("+", "-", "*", "/"))
    vector = "v[j]" if dim == 0 else "v[i]"
    c = dict(M=bm * gy, N=bn * gx, bm=bm, bn=bn, gx=gx, gy=gy, op=op, dim=dim, clear=clear, start=start,
             length=bn if dim == 0 else bm, use=use, operand=f"(T.abs({vector}) + 1.0)" if use == "/" else vector,
             dtype=rng.choice(("bfloat16", "float32")), out_dtype=rng.choice(("bfloat16", "float32")))
    path = tmp_path / f"reduction_{seed}.py"
    path.write_text(REDUCTION.format(**c))

    def reference(arrays):            # float64, block by block
        a = arrays["A"].astype(np.float64)
        blocks = a.reshape(gy, bm, gx, bn)
        r = {"sum": np.sum, "max": np.max, "min": np.min}[op](blocks, axis=1 + 2 * (dim == 1), keepdims=True)
        if not clear:
            r = {"sum": np.add, "max": np.maximum, "min": np.minimum}[op](r, start)
        if use == "/":   # a sum near zero would amplify float32's summation rounding (17,788x in
            r = np.abs(r) + 1.0      # one fresh draw): divide by |v| + 1, as the elementwise forms do
        out = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[use](blocks, r)
        return {"B": out.reshape(a.shape)}

    check_levels(load_kernel(path), reference)


OPS = ("+", "-", "*")
# Issue 4's math, each a template over its operands, written so that any operand values stay in
# the function's domain and range: log, sqrt and rsqrt of |x| + 1, exp of -|x|, division by |y| + 1.
UNARY_FORMS = ("-{0}", "T.exp(-T.abs({0}))", "T.exp2(T.tanh({0}))", "T.log(T.abs({0}) + 1.0)",
               "T.sqrt(T.abs({0}))", "T.rsqrt(T.abs({0}) + 1.0)", "T.abs({0})", "T.sigmoid({0})",
               "T.tanh({0})", "T.max({0}, 0)", "T.cast({0}, 'bfloat16')")
BINARY_FORMS = ("({0} + {1})", "({0} - {1})", "({0} * {1})", "({0} / (T.abs({1}) + 1.0))",
                "T.max({0}, {1})", "T.min({0}, {1})", "(2.0 / (T.abs({1}) + 1.0) + {0})")


def random_expression(rng: random.Random, names: list[str], depth: int, math: bool = False) -> str:
    """An elementwise value of the inputs X0_s, X1_s, ... and constants: + - * only, or with
    `math` the forms above too (an SFPU function or cast around a value, or a binary form)."""
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.2:
            return repr(rng.choice((0.5, 2.0, -1.5, 3.0, 0.25)))
        leaf = f"{rng.choice(names)}_s[i, j]"
        return rng.choice(UNARY_FORMS).format(leaf) if math and rng.random() < 0.7 else leaf
    a, b = (random_expression(rng, names, depth - 1, math) for _ in range(2))
    if not math:
        return f"({a} {rng.choice(OPS)} {b})"
    value = rng.choice(BINARY_FORMS).format(a, b)
    return rng.choice(UNARY_FORMS).format(value) if rng.random() < 0.4 else value


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


def elementwise_source(rng: random.Random, math: bool = False) -> tuple[str, str, list[str], list[str]]:
    names = [f"X{k}" for k in range(rng.randint(1, 4))]
    dtypes = [rng.choice(("bfloat16", "float32")) for _ in names]
    bm, bn = rng.choice((32, 64, 128)), rng.choice((32, 64, 96))
    gx, gy = rng.randint(1, 3), rng.randint(1, 3)
    # depth 2 keeps the math within a DST of 4 tiles (fp32): each level holds one more temporary
    expr = random_expression(rng, names, rng.randint(1, 2 if math else 3), math)
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
    check_random_elementwise(elementwise_source(random.Random(seed)), tmp_path / f"elementwise_{seed}.py")


@pytest.mark.parametrize("seed", range(16))
def test_random_elementwise_math(seed: int, tmp_path: Path) -> None:
    check_random_elementwise(elementwise_source(random.Random(1000 + seed), math=True),
                             tmp_path / f"math_{seed}.py")


def check_random_elementwise(drawn: tuple, path: Path) -> None:
    text, expr, names, (out_dtype,) = drawn
    path.write_text(text)
    loaded = load_kernel(path)

    def reference(arrays):           # the expression in float32, as the kernel's semantics say
        env = {f"{n}_s": _Indexed(arrays[n].astype(np.float32)) for n in names} | {"i": 0, "j": 0}
        value = eval(expr, {"T": NumpyT}, env)
        return {"Out": np.asarray(value, np.float32).astype(np_dtype(out_dtype))}

    check_levels(loaded, reference)


class NumpyT:
    """What the generated expressions call T.* means, in NumPy's float32 arithmetic."""
    exp, exp2, log, sqrt, abs, tanh = np.exp, np.exp2, np.log, np.sqrt, np.abs, np.tanh
    max, min = np.maximum, np.minimum

    @staticmethod
    def rsqrt(x):
        return np.float32(1) / np.sqrt(x)

    @staticmethod
    def sigmoid(x):
        return np.float32(1) / (np.float32(1) + np.exp(-x))

    @staticmethod
    def cast(x, dtype):
        return np.asarray(x, np.float32).astype(np_dtype(dtype)).astype(np.float32)


class _Indexed:
    """Lets `X0_s[i, j]` in the generated expression mean the whole float32 array."""

    def __init__(self, a: np.ndarray):
        self.a = a

    def __getitem__(self, _):
        return self.a


def check_levels(loaded, reference, make_inputs=None) -> None:
    """Every level of LEVELS against the NumPy `reference`, on random inputs (or `make_inputs(kernel)`'s:
    valid group sizes); at L0, L5 and L9 also the fast simulators against the interpreters."""
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    inputs = make_inputs(kernel) if make_inputs else api.random_inputs(kernel, seed=7)
    expected = reference(inputs)
    _, outputs = api.tensor_roles(kernel)
    for level in LEVELS:
        program = api.lower(loaded.prim_func, stop_after=api.stage_for_level(level).id)
        got = api.simulate(program, level, inputs)
        for name in outputs:
            dtype = next(p.dtype for p in kernel.params if p.name == name)
            assert api.within(got[name], expected[name], dtype), (
                f"{level} {name}: max rel err {api.max_rel_error(got[name], expected[name]):.3g}")
        if level in ("L0", "L5", "L9"):   # api.simulate ran compiled closures (L9: cores in lockstep)
            reference_run = {k: v.copy() for k, v in inputs.items()} | (scratch_arrays(program) if isinstance(program, Launches) else {})
            for launch in launches_of(program):       # a split-K kernel is two launches after P0c
                (InterpL9 if level == "L9" else pipeline.interpreter(level))().run(launch, reference_run)
            assert api.identical(got, reference_run, outputs), f"simulate at {level} differs from Interp{level}"
