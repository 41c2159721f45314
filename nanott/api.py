"""The Python API: lower a kernel, run it at any level, and the numerics every tool shares.

`lower` and `run` are what a user calls from Python; `tensor_roles`, `random_inputs`,
`expected_outputs`, `simulate` and `compare` are what `nanott explain`, `nanott run`, the tests and
the benchmark use to say whether a level computes what the kernel's NumPy reference computes.

Which parameter is an output is found by analysis of the L0 kernel (it is written by a copy, a store,
a fill or a gemm), never from its name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nanott import pipeline
from nanott.arrays import as_numpy, write_back
from nanott.diagnostics import NanottError
from nanott.dtypes import LOWERED
from nanott.ir import walk
from nanott.languages import l0
from nanott.languages.l0_interp import np_dtype, unwritten
from nanott.target import DEFAULT_TARGET, TARGETS, Target

# How close an output must be to the NumPy reference, per output dtype. The reference is exact
# arithmetic rounded once; a level may round intermediates and sum in another order.
TOLERANCE: dict[str, dict[str, float]] = {
    # bfloat16 keeps 8 significant bits: one rounding is within 2^-9 relative. 2^-6 leaves room for
    # a few roundings of intermediates (a bf16 tile, a bf16 accumulator) and a changed summation order.
    "bfloat16": {"rtol": 2.0**-6, "atol": 2.0**-6},
    # float16 keeps 11 significant bits: one rounding is within 2^-12 relative; the same room for a
    # few roundings and another summation order as bfloat16's (x8) gives 2^-9.
    "float16": {"rtol": 2.0**-9, "atol": 2.0**-9},
    # float32 keeps 24 bits; a dot product of K terms summed in another order moves by about
    # K * 2^-24 of the sum of |terms|, about 1e-4 for K = 1024 on inputs in [-1, 1).
    "float32": {"rtol": 1e-4, "atol": 1e-4},
    # integer arithmetic is exact
    **{d.name: {"rtol": 0.0, "atol": 0.0} for d in LOWERED.values() if d.kind != "float"},
}
INT_RANGE = (-4, 5)          # integer inputs: small integers, so products and sums stay exact



def resolve_target(target: str | Target) -> Target:
    if isinstance(target, Target):
        return target
    if target not in TARGETS:
        raise NanottError("NT911", f"no target {target!r}", hint=f"targets are {', '.join(TARGETS)}")
    return TARGETS[target]


def stage_for_level(level: str) -> pipeline.Stage:
    """The last stage whose output language is `level` (L1 -> A3, L7 -> D2, L9 -> F1)."""
    stages = [s for s in pipeline.PIPELINE if s.dst == level]
    if not stages:
        raise NanottError("NT912", f"no level {level!r}", hint=f"levels are {', '.join(pipeline.LANGUAGES)}")
    return stages[-1]


def check_stage_id(stage_id: str) -> str:
    if stage_id not in pipeline.STAGES:
        raise NanottError("NT913", f"no stage {stage_id!r}", hint=f"stages are {', '.join(pipeline.STAGES)}")
    return stage_id


def lower(prim_func: Any, stop_after: str = "F1", target: str | Target = "wormhole_n150",
          check: bool = True) -> Any:
    """The program after stage `stop_after`, checked against its language after every pass."""
    return pipeline.lower(prim_func, check_stage_id(stop_after), resolve_target(target), check)


def run(prim_func: Any, *arrays: Any, level: str = "L9", target: str | Target = "wormhole_n150",
        **values: Any) -> Any:
    """Run the kernel at `level` on arrays (NumPy, or torch tensors) given in parameter order;
    outputs are written into them. An eager `@tilelang.jit` kernel takes its input arrays only:
    the arrays' shapes give its T.const sizes, `values` its configuration (block sizes, dtypes),
    and its T.empty outputs are made and returned (one array, or a tuple)."""
    from nanott.language import eager
    views = tuple(as_numpy(a) for a in arrays)
    eager_func = eager.eager_function(prim_func)
    if eager_func is not None:
        prim_func = eager.specialize(eager_func, {**eager.sizes_from_arrays(eager_func, views), **values})
    last = stage_for_level(level)
    kernel, program = None, None
    for s, program in pipeline.run_stages(prim_func, last.id, resolve_target(target)):
        kernel = program if s.id == "P0" else kernel
    made = tuple(np.zeros(p.shape, np_dtype(p.dtype)) for p in kernel.params[len(views):]) \
        if eager_func is not None else ()
    check_arrays(kernel, (*views, *made))
    execute(program, level, {p.name: a for p, a in zip(kernel.params, (*views, *made))})
    for a, view in zip(arrays, views):
        write_back(a, view)
    return None if eager_func is None else made[0] if len(made) == 1 else made


def execute(program: Any, level: str, arrays: dict[str, np.ndarray], written: Any = None) -> None:
    """Run `program` at `level` into `arrays`. L9 runs its cores in lockstep (sim/lockstep.py),
    bit-identical to InterpL9, which still runs, and reports, wherever lockstep cannot; there
    `written(n)` hears of DRAM pages written (a progress bar)."""
    if level == "L9":
        from nanott.sim import lockstep
        lockstep.simulate(program, arrays, written=written)
    else:
        pipeline.interpreter(level)().run(program, arrays)


def check_arrays(kernel: l0.Kernel, arrays: tuple) -> None:
    names = ", ".join(p.name for p in kernel.params)
    if len(arrays) != len(kernel.params):
        raise NanottError("NT914", f"kernel {kernel.name} takes {len(kernel.params)} arrays ({names}), "
                          f"got {len(arrays)}")
    for p, a in zip(kernel.params, arrays):
        if not isinstance(a, np.ndarray) or a.shape != p.shape or a.dtype != np_dtype(p.dtype):
            got = f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else type(a).__name__
            raise NanottError("NT915", f"{p.name} must be a {p.dtype}{list(p.shape)} array, got {got}",
                              hint="bfloat16 arrays are numpy arrays of ml_dtypes.bfloat16 "
                                   "(or torch.bfloat16 tensors)")


def written_buffers(kernel: l0.Kernel) -> set[str]:
    """Every buffer the kernel writes: a copy's destination, a store, a fill, a gemm accumulator."""
    out = set()
    for x in walk(kernel.body):
        match x:
            case l0.Copy(_, dst) | l0.AtomicAdd(_, dst):
                out.add(dst.buffer)
            case l0.Store(buffer, _, _) | l0.Fill(buffer, _):
                out.add(buffer)
            case l0.Gemm(_, _, c, _, _, _):
                out.add(c)
    return out


def tensor_roles(kernel: l0.Kernel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inputs, outputs) in parameter order: an output is a parameter the kernel writes."""
    written = written_buffers(kernel)
    return (tuple(p.name for p in kernel.params if p.name not in written),
            tuple(p.name for p in kernel.params if p.name in written))


def random_inputs(kernel: l0.Kernel, seed: int) -> dict[str, np.ndarray]:
    """Every parameter: inputs uniform in [-1, 1) in their dtype, outputs NaN so holes show; an
    output the kernel adds into (T.atomic_add) zeros, as TileLang's host zeroes it before a launch."""
    rng = np.random.default_rng(seed)
    _, outputs = tensor_roles(kernel)
    summed = {x.dst.buffer for x in walk(kernel.body) if isinstance(x, l0.AtomicAdd)}
    arrays = {}
    for p in kernel.params:
        dtype = np_dtype(p.dtype)
        if p.name in summed:
            arrays[p.name] = np.zeros(p.shape, dtype)
        elif p.name in outputs:
            arrays[p.name] = np.full(p.shape, unwritten(p.dtype), dtype)
        elif LOWERED[p.dtype].kind != "float":
            low = 0 if dtype.kind in "ub" else INT_RANGE[0]
            arrays[p.name] = rng.integers(low, 2 if dtype == np.bool_ else INT_RANGE[1],
                                          size=p.shape).astype(dtype)
        else:
            arrays[p.name] = rng.uniform(-1.0, 1.0, size=p.shape).astype(dtype)
    return arrays


def simulate(program: Any, level: str, arrays: dict[str, np.ndarray], written: Any = None) -> dict[str, np.ndarray]:
    """Run `program` with level's interpreter on copies of `arrays`; return all arrays after it."""
    copies = {k: v.copy() for k, v in arrays.items()}
    execute(program, level, copies, written)
    return copies


def expected_outputs(loaded: Any, kernel: l0.Kernel, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The outputs the kernel should produce: the file's NumPy `reference`, else the L0 interpreter."""
    ins, outs = tensor_roles(kernel)
    reference = getattr(loaded, "reference", None)
    if reference is None:
        after = simulate(kernel, "L0", inputs)
        return {n: after[n] for n in outs}
    result = reference(*(inputs[n].copy() for n in ins))
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(outs):
        raise NanottError("NT916", f"reference returned {len(results)} outputs; kernel {kernel.name} "
                          f"writes {len(outs)} ({', '.join(outs)})")
    shapes = {p.name: p.shape for p in kernel.params}
    expected = {n: np.asarray(r) for n, r in zip(outs, results)}
    for n, r in expected.items():
        if r.shape != shapes[n]:
            raise NanottError("NT917", f"reference output for {n} has shape {list(r.shape)}, "
                              f"the kernel's {n} is {list(shapes[n])}")
    return expected


def _f64(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    out = a.astype(np.float64)
    if a.dtype.kind in "iu":
        out[a == (np.iinfo(a.dtype).max if a.dtype.kind == "u" else np.iinfo(a.dtype).min)] = np.nan
    return out


def max_abs_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected|; an unwritten (NaN) element counts as an infinite error."""
    diff = np.abs(_f64(actual) - _f64(expected))
    return float(np.max(np.where(np.isnan(diff), np.inf, diff), initial=0.0))


def max_rel_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| relative to the largest |expected| (normwise, so zeros do not blow up)."""
    scale = float(np.max(np.abs(_f64(expected)), initial=0.0))
    err = max_abs_error(actual, expected)
    return err / scale if scale > 0 else err


def within(actual: np.ndarray, expected: np.ndarray, dtype: str) -> bool:
    """Every element within atol + rtol * |expected| (TOLERANCE[dtype]); NaN never is."""
    tol = TOLERANCE[dtype]
    a, e = _f64(actual), _f64(expected)
    return bool(np.all(np.abs(a - e) <= tol["atol"] + tol["rtol"] * np.abs(e)))


@dataclass(frozen=True)
class Comparison:
    name: str
    dtype: str
    max_abs: float
    max_rel: float
    ok: bool


def compare(kernel: l0.Kernel, actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> list[Comparison]:
    """One Comparison per output, in parameter order."""
    dtypes = {p.name: p.dtype for p in kernel.params}
    return [Comparison(n, dtypes[n], max_abs_error(actual[n], e), max_rel_error(actual[n], e),
                       within(actual[n], e, dtypes[n])) for n, e in expected.items()]


def identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray], names: tuple[str, ...]) -> bool:
    """Bit-identical outputs (two NaNs in the same place count as equal)."""
    return all(np.array_equal(_f64(a[n]), _f64(b[n]), equal_nan=True) for n in names)


__all__ = ["DEFAULT_TARGET", "TOLERANCE", "lower", "run", "tensor_roles", "random_inputs", "simulate",
           "expected_outputs", "max_abs_error", "max_rel_error", "within", "compare", "identical"]
