"""The Python API: lower a kernel, run it at any level, and the numerics every tool shares.

`lower` and `run` are what a user calls from Python; `tensor_roles`, `random_inputs`,
`expected_outputs`, `simulate` and `compare` are what `nanott explain`, `nanott run`, the tests and
the benchmark use to say whether a level computes what the kernel's NumPy reference computes.

Which parameter is an output is found by analysis of the L0 kernel (it is written by a copy, a store,
a fill or a gemm), never from its name.
"""
from __future__ import annotations

import traceback
import weakref
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nanott import pipeline
from nanott.block_float import as_dram_holds
from nanott.boundary import diagnosed
from nanott.arrays import as_numpy, write_back
from nanott.diagnostics import NanottError
from nanott.dtypes import LOWERED
from nanott.index_roles import index_roles
from nanott.bit_inputs import bit_fields
from nanott.ir import NOLOC, Launches, Loc, walk
from nanott.languages import l0
from nanott.languages.compiled import COMPILED
from nanott.languages.l0_interp import np_dtype, scratch_arrays, unwritten
from nanott.target import DEFAULT_TARGET, TARGETS, Target
from nanott.terminals import MATH_FIDELITIES
from nanott.tolerance import BASE, tolerance

# How close an output must be to the NumPy reference, per output dtype, relative to each element
# and to the output's own scale; nanott/tolerance.py says why, and how a kernel's accumulations widen it.
TOLERANCE: dict[str, float] = BASE
INT_RANGE = (-4, 5)          # integer inputs: small integers, so products and sums stay exact



def resolve_target(target: str | Target, fidelity: str | None = None) -> Target:
    """The target by name (or itself), with the user's math fidelity if given (D5 then uses it
    instead of its dtype rule, and says so in the IR's `math-fidelity` note)."""
    if not isinstance(target, Target):
        if target not in TARGETS:
            raise NanottError("NT911", f"no target {target!r}", hint=f"targets are {', '.join(TARGETS)}")
        target = TARGETS[target]
    if fidelity is None:
        return target
    if fidelity not in MATH_FIDELITIES:
        raise NanottError("NT942", f"no math fidelity {fidelity!r}",
                          hint=f"fidelities are {', '.join(MATH_FIDELITIES)} (fewest phases first)")
    return replace(target, math_fidelity=fidelity)


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
          check: bool = True, fidelity: str | None = None) -> Any:
    """The program after stage `stop_after`, checked against its language after every pass;
    `fidelity` (LoFi, HiFi2, HiFi3, HiFi4) overrides the math fidelity D5 chooses from the dtypes."""
    with diagnosed():
        return pipeline.lower(prim_func, check_stage_id(stop_after), resolve_target(target, fidelity), check)


def run(prim_func: Any, *arrays: Any, level: str = "L9", target: str | Target = "wormhole_n150",
        fidelity: str | None = None, **values: Any) -> Any:
    """Run the kernel at `level` on arrays (NumPy, or torch tensors) given in parameter order;
    outputs are written into them. An eager `@tilelang.jit` kernel takes its input arrays only:
    the arrays' shapes give its T.const sizes, `values` its configuration (block sizes, dtypes),
    and its T.empty outputs are made and returned (one array, or a tuple). `fidelity` as in lower."""
    from nanott.language import eager
    views = tuple(as_numpy(a) for a in arrays)
    eager_func = eager.eager_function(prim_func)
    if eager_func is not None:
        prim_func = eager.specialize(eager_func, {**eager.sizes_from_arrays(eager_func, views), **values})
    with diagnosed():
        kernel, program = lowered(prim_func, level, resolve_target(target, fidelity))
        made = tuple(np.zeros(p.shape, np_dtype(p.dtype)) for p in kernel.params[len(views):]) \
            if eager_func is not None else ()
        check_arrays(kernel, (*views, *made))
        given = {p.name: a for p, a in zip(kernel.params, (*views, *made))}
        named = dict(given)
        execute(program, level, named)
        for name in tensor_roles(kernel)[1]:
            if named[name] is not given[name]:  # an fp8 output: execute holds fp8 tensors in new arrays
                given[name][...] = named[name]
    for a, view in zip(arrays, views):
        write_back(a, view)
    return None if eager_func is None else made[0] if len(made) == 1 else made


# A kernel run twice is lowered once, as a JIT compiler keeps its compiled kernels: (P0's kernel, the
# program at the level) per kernel object, level and target. The IR is immutable, so sharing it is safe.
_LOWERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def lowered(prim_func: Any, level: str, target: Target) -> tuple[l0.Kernel, Any]:
    """(the L0 kernel, the program at `level`) of a kernel, lowered on its first run."""
    per_kernel = _LOWERED.setdefault(prim_func, {})
    key = (level, target)
    if key not in per_kernel:
        kernel, program = None, None
        for s, program in pipeline.run_stages(prim_func, stage_for_level(level).id, target):
            kernel = program if s.id == "P0" else kernel
        per_kernel[key] = (kernel, program)
    return per_kernel[key]


def execute(program: Any, level: str, arrays: dict[str, np.ndarray], written: Any = None) -> None:
    """Run `program` at `level` into `arrays`. L0..L8 run compiled closures (languages/l0_compiled.py),
    bit-identical to their interpreters. L9 runs its cores in lockstep (sim/lockstep.py),
    bit-identical to InterpL9, which still runs, and reports, wherever lockstep cannot; there
    `written(n)` hears of DRAM pages written (a progress bar). An fp8 input is first put on the grid
    DRAM holds it in (Bfp8_b: nanott/block_float.py), at every level alike. A program of several launches runs
    them in order on the same arrays, its scratch tensors (T.alloc_global) NaN until written."""
    if isinstance(program, Launches):
        arrays.update(scratch_arrays(program))
        for launch in program.launches:
            execute(launch, level, arrays, written)
        return
    as_dram_holds(program.params, arrays)
    if level == "L9":
        from nanott.sim import lockstep
        lockstep.simulate(program, arrays, written=written)
    elif level in COMPILED:
        COMPILED[level]().run(program, arrays)
    else:
        pipeline.interpreter(level)().run(program, arrays)
    as_dram_holds(program.params, arrays)        # an fp8 output as DRAM holds it once written: Bfp8_b


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
            case l0.Store(buffer, _, _) | l0.AtomicStore(buffer, _, _) | l0.Fill(buffer, _):
                out.add(buffer)
            case l0.Gemm(_, _, c, _, _, _):
                out.add(c)
    return out


def read_buffers(kernel: l0.Kernel) -> set[str]:
    """Every buffer the kernel reads: a copy's source, a load. (An atomic add's destination is not
    read from the host's point of view: the host zeroes it before the launch, as TileLang's does.)"""
    return ({x.src.buffer for x in walk(kernel.body) if isinstance(x, (l0.Copy, l0.AtomicAdd))}
            | {x.buffer for x in walk(kernel.body) if isinstance(x, l0.Load)})


def tensor_roles(kernel: l0.Kernel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inputs, outputs) in parameter order: an output is a parameter the kernel writes, an input one
    it reads or leaves alone; an in-place tensor (`A += B`: read, then written) is both."""
    written, read = written_buffers(kernel), read_buffers(kernel)
    return (tuple(p.name for p in kernel.params if p.name in read or p.name not in written),
            tuple(p.name for p in kernel.params if p.name in written))


def random_inputs(kernel: l0.Kernel, seed: int) -> dict[str, np.ndarray]:
    """Every parameter: inputs (in-place ones too) uniform in [-1, 1) in their dtype, outputs NaN so
    holes show; an output the kernel adds into (T.atomic_add) zeros, as TileLang's host zeroes it
    before a launch; an integer tensor the kernel reads as offsets, lengths or indices values that
    fit that use (index_roles); an integer tensor read only through bit operations (packed int4
    weights) every value of its dtype (bit_inputs)."""
    rng = np.random.default_rng(seed)
    inputs, outputs = tensor_roles(kernel)
    summed = ({x.dst.buffer for x in walk(kernel.body) if isinstance(x, l0.AtomicAdd)}
              | {x.buffer for x in walk(kernel.body) if isinstance(x, l0.AtomicStore)})
    ints = {p.name for p in kernel.params if p.name in inputs and np_dtype(p.dtype).kind in "iu"}
    arrays, roles = {}, index_roles(kernel, ints)
    packed = bit_fields(kernel)
    for p in kernel.params:
        dtype = np_dtype(p.dtype)
        if p.name in roles:
            arrays[p.name] = roles[p.name].draw(rng, p.shape).astype(dtype)
        elif p.name in summed:
            arrays[p.name] = np.zeros(p.shape, dtype)
        elif p.name in outputs and p.name not in inputs:
            arrays[p.name] = np.full(p.shape, unwritten(p.dtype), dtype)
        elif p.name in packed and p.name in inputs:      # bits are the data: every value of the dtype
            info = np.iinfo(dtype)
            arrays[p.name] = rng.integers(int(info.min), int(info.max) + 1, size=p.shape).astype(dtype)
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
    result = call_reference(reference, tuple(inputs[n].copy() for n in ins))
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


def call_reference(reference: Any, arrays: tuple) -> Any:
    """The file's `reference` on the inputs; an exception it raises is NT919 at its line."""
    try:
        return reference(*arrays)
    except Exception as e:                      # noqa: BLE001 (the user's code: any error is theirs)
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == reference.__code__.co_filename]
        at = frames[-1] if frames else None
        raise NanottError("NT919", f"the file's reference raised {type(e).__name__}: {e}",
                          Loc(at.filename, at.lineno, at.colno or 0) if at else NOLOC,
                          hint=f"reference receives the kernel's inputs in parameter order ({len(arrays)} "
                               "arrays) and returns its outputs") from None


def _f64(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    out = a.astype(np.float64)
    if a.dtype.kind in "iu":
        out[a == (np.iinfo(a.dtype).max if a.dtype.kind == "u" else np.iinfo(a.dtype).min)] = np.nan
    return out


def _errors(actual: np.ndarray, expected: np.ndarray, rtol: float) -> tuple[float, float, bool]:
    """(max |actual - expected|, that relative to max|expected|, every element within rtol), each
    array widened to float64 once."""
    a, e = _f64(actual), _f64(expected)
    diff = np.abs(a - e)
    err = float(np.max(np.where(np.isnan(diff), np.inf, diff), initial=0.0))
    scale = float(np.max(np.abs(e), initial=0.0))
    return err, err / scale if scale > 0 else err, bool(np.all(diff <= rtol * np.abs(e) + rtol * scale))


def max_abs_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected|; an unwritten (NaN) element counts as an infinite error."""
    return _errors(actual, expected, 0.0)[0]


def max_rel_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| relative to the largest |expected| (normwise, so zeros do not blow up)."""
    return _errors(actual, expected, 0.0)[1]


def within(actual: np.ndarray, expected: np.ndarray, dtype: str, rtol: float | None = None) -> bool:
    """Every element within rtol * |expected| + rtol * max|expected| (rtol: TOLERANCE[dtype] unless
    given): relative to the element and to the output's own scale; NaN never is."""
    return _errors(actual, expected, TOLERANCE[dtype] if rtol is None else rtol)[2]


@dataclass(frozen=True)
class Comparison:
    name: str
    dtype: str
    max_abs: float
    max_rel: float
    ok: bool
    rtol: float = 0.0
    reason: str = ""
    reference_nan: str = ""         # where the reference itself holds NaN, if it does: the inputs' fault

    def line(self) -> str:
        """`C: max abs err .., max rel err .. (tol .. of |ref| and of max|ref|: why) PASS`."""
        return (f"{self.name}: max abs err {format(self.max_abs, '.9g')}, max rel err {format(self.max_rel, '.9g')} "
                f"(tol {format(self.rtol, '.3g')} of |ref| and of max|ref|: {self.reason}) "
                f"{'PASS' if self.ok else 'FAIL'}" + (f"; {self.reference_nan}" if self.reference_nan else ""))


def reference_nan(name: str, expected: np.ndarray) -> str:
    """`the reference itself holds NaN at C[3, 0] (64 of 4096 elements ...)`, or "" when it holds none.
    A NaN in the reference is not a level's error: the kernel computed it (0/0 on these inputs) or
    never wrote the element, and no level can match it."""
    holes = np.isnan(_f64(expected))
    if not holes.any():
        return ""
    at = ", ".join(str(int(i)) for i in np.argwhere(holes)[0])
    return (f"the reference itself holds NaN at {name}[{at}] ({int(holes.sum())} of {holes.size} elements: "
            "computed as NaN on these inputs, or never written)")


def compare(kernel: l0.Kernel, actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> list[Comparison]:
    """One Comparison per output, in parameter order."""
    dtypes = {p.name: p.dtype for p in kernel.params}
    out = []
    for n, e in expected.items():
        tol = tolerance(kernel, dtypes[n])
        err, rel, ok = _errors(actual[n], e, tol.rtol)
        out.append(Comparison(n, dtypes[n], err, rel, ok, tol.rtol, tol.reason, reference_nan(n, e)))
    return out


def identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray], names: tuple[str, ...]) -> bool:
    """Bit-identical outputs (two NaNs in the same place count as equal)."""
    return all(np.array_equal(a[n], b[n], equal_nan=a[n].dtype.kind not in "iub") if a[n].dtype == b[n].dtype
               else np.array_equal(_f64(a[n]), _f64(b[n]), equal_nan=True) for n in names)


__all__ = ["DEFAULT_TARGET", "TOLERANCE", "lower", "run", "tensor_roles", "random_inputs", "simulate",
           "expected_outputs", "max_abs_error", "max_rel_error", "within", "compare", "identical"]
