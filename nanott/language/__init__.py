"""The TileLang-style surface kernels import as `import nanott.language as T`.

A TileLang kernel needs only its import line changed. What nanott lowers: `T.prim_func`, `T.Tensor`,
`T.Kernel`, `T.alloc_shared`, `T.alloc_fragment`, `T.copy`, `T.gemm`, `T.clear`, `T.fill`,
`T.reduce_sum`/`T.reduce_max`/`T.reduce_min`/`T.reduce_absmax` (a 2-D block into a 1-D buffer, `clear=False`
accumulating), `T.atomic_add` of a block into a DRAM region (split-K), `T.infinity`, `T.Parallel` (elementwise `+ - * /`, unary minus, `T.max`/`T.min`,
`T.exp`, `T.exp2`, `T.log`, `T.log2`, `T.clamp`, `T.sqrt`, `T.rsqrt`, `T.abs`, `T.sigmoid`, `T.tanh`,
`T.cast`/`T.Cast`/`x.astype` over loads and constants, and 1-D buffers indexed by one loop variable:
`s[i]`, `w[j]`; an accumulation into a vector, `o[i] += a[i, j] * x[j]`, is a reduction along j:
reductions.py), `T.alloc_reducer`/`T.finalize_reducer` (a fragment such a loop accumulates into),
`T.Pipelined`, `T.serial` (and `range`; `T.vectorized` is a serial loop), `T.ceildiv`, the dtypes (also by TileLang's C names, `T.int`,
`T.uint`, and `T.dtype(x)`), `T.macro` (expanded where it is called: macro.py), and `T.print` of a
scalar (a block index, a loop variable, a value made of them); warp specialization (`T.ws`,
`T.alloc_barrier`, `T.barrier_arrive`/`_wait`, `T.tma_copy`: program order, warp_specialize.py; roles
chosen by `tx = T.get_thread_binding()`, fused in an order the barriers allow: thread_roles.py);
`T.get_block_binding(d)` (the block index along d); `T.sync_grid()` at the top level of a kernel body (the end of one launch and the start of the next
over the same grid: grid_sync.py). Tensors are
1-D or 2-D, of any size: copies past their edges are masked (nanott pads them with zeros, A1); an
on-chip buffer of 4 dims is kept as the 2-D block matrix of its tiles (blocked.py). TileLang's
`TensorCoreIntrinEmitter` and the `T.alloc_local` fragments it fills are modelled on the whole block
(mma_emitter.py). CUDA-only knobs
(`threads`, `policy`, `k_pack`, `T.use_swizzle`, `coalesced_width`, layout hints given to
`T.annotate_layout`, `T.no_set_max_nreg`, ...) are accepted and recorded
as `Attr`s on the L0 kernel: plain keys for the launch (`threads`, `use_swizzle`), `<op>.<knob>` for
an operation's (`gemm.policy`, `copy.coalesced_width`). Any other `T.name` is a callable that
reports NT301 (or NT108 for a name TileLang does not have).

Diagnostic codes raised by the frontend (P0):
  NT101 unsupported dtype          NT102 a size not known at parse time   NT103 copy extents differ
  NT104 malformed operand/index    NT105 gemm shapes disagree             NT106 DRAM tensor as tile operand
  NT107 parameter not a T.Tensor   NT108 unknown T.name                   NT109 Python error in the kernel
  NT110 op outside a kernel        NT301 T.op not supported yet           NT302 run-time condition
  NT303 a condition as a number    NT304 construct not supported yet (loop forms, slices, ...)
  NT326 T.print of a DRAM tensor, a vector, an element, a transcendental function, inside T.Parallel
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from enum import IntEnum
from typing import Any

from nanott.diagnostics import NanottError
from nanott.language import ops
from nanott.language.eager import const, empty
from nanott.language.sizes import dynamic, symbolic
from nanott.language.builder import KernelSpec, caller_loc, current
from nanott.language.loops import LoopSpec, loop_range
from nanott.language.signatures import closed, flag
from nanott.language.intrinsics import (Cast, abs, cast, clamp, exp, exp2, if_then_else, log,  # noqa: A004
                                        log2, max, min, reinterpret, rsqrt, sigmoid, sqrt, tanh)
from nanott.language.prim_func import PrimFunc
from nanott.language.warp_specialize import (alloc_barrier, barrier_arrive, barrier_wait, cp_async_barrier_noinc,
                                             mbarrier_arrive, mbarrier_wait_parity, tma_copy, ws)
from nanott.language.thread_roles import access_ptr, get_thread_binding, ptx_cp_async, thread_binding
from nanott.language.values import Sym, TensorType, Unassigned, dtype, fold_int, normalize_dtype
from nanott.languages import l0
from nanott.language.views import View
from nanott.language.im2col import im2col as gather
from nanott.language.macro import macro
from nanott.language.blocked import Blocked
from nanott.language.mma_emitter import alloc_local

__all__ = ["prim_func", "Tensor", "Buffer", "Kernel", "alloc_shared", "alloc_fragment", "copy",
           "gemm", "clear", "fill", "Parallel", "Pipelined", "serial", "Serial", "ceildiv",
           "use_swizzle", "GemmWarpPolicy", "PrimFunc", "dtype", "exp", "exp2", "log", "sqrt", "rsqrt",
           "abs", "sigmoid", "tanh", "max", "min", "cast", "Cast", "reinterpret", "reduce_sum", "reduce_max",
           "reduce_min", "infinity", "atomic_add", "if_then_else", "log2", "clamp", "reduce_absmax",
           "const", "dynamic", "symbolic", "floordiv", "floormod", "empty", "alloc_var", "alloc_global", "print", "ws", "alloc_barrier", "barrier_arrive",
           "barrier_wait", "mbarrier_arrive", "mbarrier_wait_parity", "tma_copy", "annotate_layout",
           "alloc_reducer", "finalize_reducer", "im2col", "macro", "import_source", "call_extern", "alloc_local", "c2d_im2col", "sync_grid", "Layout", "no_set_max_nreg", "disable_warp_group_reg_alloc",
           "get_thread_binding", "get_block_binding", "thread_binding", "vectorized", "cp_async_barrier_noinc", "set_max_nreg", "unroll", "wait_wgmma",
           "fence_proxy_async", "wgmma_gemm", "access_ptr", "ptx_cp_async"]


def prim_func(func=None, *, eager_jit: bool = False):
    """Mark a kernel function; nanott parses it to L0 when P0 runs (`PrimFunc.parse`)."""
    frame = sys._getframe(1)                 # a factory's locals, for string annotations
    scope = {} if frame.f_locals is frame.f_globals else dict(frame.f_locals)
    return PrimFunc(func, scope) if func is not None else lambda f: PrimFunc(f, scope)


class _TensorAnnotation:
    """`T.Tensor((M, K), dtype)` and `T.Tensor[(M, K), dtype]`: a DRAM tensor parameter."""

    def __call__(self, shape, dtype: Any = "float32", data=None, scope=None) -> TensorType | View:
        if data is not None:              # inside a kernel: a view of data's storage (views.py)
            dims = shape if isinstance(shape, (tuple, list)) else (shape,)
            return View(data, tuple(fold_int(d, f"dim {i} of a T.Tensor view") for i, d in enumerate(dims)),
                        normalize_dtype(dtype))
        return TensorType(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,), dtype)

    def __getitem__(self, key) -> TensorType:
        shape, dt = key if isinstance(key, tuple) and len(key) == 2 else (key, "float32")
        return self(shape, dt)


Tensor = _TensorAnnotation()
Buffer = Tensor                        # TileLang's deprecated alias


@closed("is_cpu cluster_dims")
def Kernel(*extents, threads=None, prelude=None, **knobs) -> KernelSpec:
    """The launch grid: `with T.Kernel(gx, gy, threads=128) as (bx, by):` (1 to 3 extents)."""
    return KernelSpec(extents, {"threads": threads, "prelude": prelude, **knobs})


@closed()
def get_block_binding(dim=0):
    """`T.get_block_binding(d)`: the block's index along grid dimension d, the value `with
    T.Kernel(...) as (bx, by)` names (a T.macro reads it without being passed it)."""
    b = current("T.get_block_binding")
    b.require_kernel("T.get_block_binding")
    if type(dim) is not type(0) or not 0 <= dim < len(b.block_vars):            # `int` is T.int here
        raise NanottError("NT104", f"T.get_block_binding({dim!r}) in a grid of {len(b.block_vars)} dimensions",
                          caller_loc(), hint=f"a dimension from 0 to {len(b.block_vars) - 1}")
    return Sym(l0.Var(b.block_vars[dim], loc=b.loc))


def _alloc(shape, dt, scope: str) -> Any:
    b = current(f"T.alloc_{scope}")
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    shape = tuple(fold_int(d, f"dim {i} of T.alloc_{scope}") for i, d in enumerate(dims))
    if any(d <= 0 for d in shape):
        raise NanottError("NT102", f"T.alloc_{scope} needs positive dims, got {shape}")
    return b.allocate(shape, normalize_dtype(dt), scope, Blocked if len(shape) == 4 else None)


@closed()
def alloc_shared(shape, dtype, scope="shared.dyn"):
    """A block-shared tile (on Tenstorrent: circular-buffer pages in L1)."""
    return _alloc(shape, dtype, "shared")


@closed()
def alloc_fragment(shape, dtype, scope="local.fragment"):
    """A register tile (on Tenstorrent: DST tiles or an L1 buffer, decided later)."""
    return _alloc(shape, dtype, "fragment")


@closed()
def alloc_reducer(shape, dtype, op="sum", replication=None):
    """A buffer a T.Parallel accumulates into (`o[i] += a[i, j] * x[j]`): a fragment. On a GPU each
    thread keeps a replica that T.finalize_reducer combines; nanott has one program per block, so
    the accumulation is a T.reduce (reductions.py) and the replicas are nothing."""
    if op not in ("sum", "max", "min"):
        raise NanottError("NT301", f"T.alloc_reducer with op={op!r} is not supported by nanott yet", caller_loc(),
                          hint="op is \"sum\", \"max\" or \"min\"")
    return _alloc(shape, dtype, "fragment")


@closed()
def finalize_reducer(reducer, dst=None, batch=1) -> None:
    """Combine a reducer's per-thread replicas: nothing to do in nanott (alloc_reducer)."""
    current("T.finalize_reducer")
    if dst is not None:
        raise NanottError("NT301", "T.finalize_reducer into another buffer (dst=...) is not supported by "
                                   "nanott yet", caller_loc(), hint="finalize in place, then T.copy the reducer")


def import_source(source=None) -> None:
    """`T.import_source(c_source)`: C/CUDA device code compiled into the kernel (TileLang's fast
    dequantization intrinsics): NT301, naming the construct. nanott compiles T.* operations for
    Tensix and simulates them; it can neither run foreign device code nor translate it."""
    raise _foreign("T.import_source of C/CUDA device source")


def call_extern(dtype=None, name="", *args, span=None) -> None:
    """`T.call_extern(dtype, "fn", ...)`: a call of an external device function: NT301 (import_source)."""
    raise _foreign(f"T.call_extern of the external device function {name!s:.40}")


def _foreign(what: str) -> NanottError:
    return NanottError("NT301", f"{what} is not supported by nanott (it compiles T.* operations for Tensix "
                       "and can neither run nor translate CUDA/HIP C code)", caller_loc(),
                       hint="write the computation with T.* operations (a T.Parallel over the elements); "
                            "TileLang's dequantize examples have such a path: --set fast_dequant=False")


@closed()
def no_set_max_nreg() -> None:
    """A Hopper register-allocation hint (no setmaxnreg in warp-specialised code): recorded."""
    current("T.no_set_max_nreg").record("no_set_max_nreg", True)


@closed()
def disable_warp_group_reg_alloc() -> None:
    """A Hopper register-allocation hint: recorded, as no_set_max_nreg."""
    current("T.disable_warp_group_reg_alloc").record("disable_warp_group_reg_alloc", True)


@closed()
def set_max_nreg(reg_count, is_inc) -> None:
    """A Hopper register-allocation hint for the role it stands in (setmaxnreg): recorded."""
    current("T.set_max_nreg").record("set_max_nreg", (reg_count, is_inc))


@closed()
def unroll(start, stop=None, step=None, **knobs):
    """A loop to unroll (`for stage in T.unroll(num_stages)`): unrolled by Python as P0 reads it, so
    its variable is a Python int in the body; its bounds must be sizes."""
    bounds = [fold_int(x, "the bounds of T.unroll") for x in (start, stop, step) if x is not None]
    return range(*bounds)


@closed()
def wait_wgmma(num_mma=0) -> None:
    """Hopper: wait for the asynchronous T.wgmma_gemm in flight; nanott's gemms complete in order."""
    current("T.wait_wgmma")


@closed()
def fence_proxy_async() -> None:
    """Hopper: order shared-memory writes before asynchronous (TMA, wgmma) reads; nanott's are in order."""
    current("T.fence_proxy_async")


@closed("mbar annotations")
def wgmma_gemm(A, B, C, transpose_A=False, transpose_B=False, policy=None, clear_accum=False, k_pack=1,
               **knobs) -> None:
    """Hopper's asynchronous warpgroup gemm: T.gemm (its result read only after T.wait_wgmma)."""
    gemm(A, B, C, transpose_A, transpose_B, policy, clear_accum, k_pack, **knobs)


@closed()
def alloc_global(shape, dtype, scope="global"):
    """A DRAM tensor the program allocates itself, before its launches: one launch writes it, a
    later one reads it (flash decoding's partial outputs). The host never sees it."""
    b = current("T.alloc_global")
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    shape = tuple(fold_int(d, f"dim {i} of T.alloc_global") for i, d in enumerate(dims))
    if any(d <= 0 for d in shape):
        raise NanottError("NT102", f"T.alloc_global needs positive dims, got {shape}")
    return b.allocate_global(shape, normalize_dtype(dtype))


@closed("coalesced_width disable_tma eviction_policy prefer_instruction annotations loop_layout")
def copy(src, dst, **knobs) -> None:
    """Copy a tile: whole buffers, start indices or slices on either side (docs/reference.md §T5)."""
    b = current("T.copy")
    b.emit(ops.copy(b, src, dst), "T.copy")
    b.record_knobs("copy.", knobs)


def im2col(img, col, nhw_step, c_step, kernel, stride=1, dilation=1, pad=0) -> None:
    """A block of the im2col matrix of an NHWC image: the T.Parallel gather it stands for (im2col.py)."""
    gather(current("T.im2col"), img, col, nhw_step, c_step, kernel, stride, dilation, pad)


c2d_im2col = im2col


@closed("mbar annotations")
def gemm(A, B, C, transpose_A=False, transpose_B=False, policy=None, clear_accum=False, k_pack=1,
         **knobs) -> None:
    """C += op(A) @ op(B) (C = ... with clear_accum)."""
    b = current("T.gemm")
    b.emit(ops.gemm(b, A, B, C, transpose_A, transpose_B, clear_accum), "T.gemm")
    b.record_knobs("gemm.", {"policy": policy, "k_pack": None if k_pack == 1 else k_pack, **knobs})


@closed("annotations")
def clear(buffer, **knobs) -> None:
    """Fill a buffer with 0."""
    fill(buffer, 0.0, **knobs)


@closed("annotations")
def fill(buffer, value, **knobs) -> None:
    b = current("T.fill")
    if (stmt := ops.fill(b, buffer, value, "T.fill")) is not None:
        b.emit(stmt, "T.fill")
    b.record_knobs("fill.", knobs)


def _reduce(op: str, buffer, out, dim, clear, knobs: dict) -> None:
    b = current(f"T.reduce_{op}")
    b.emit(ops.reduce(b, op, buffer, out, dim, clear), f"T.reduce_{op}")
    b.record_knobs(f"reduce_{op}.", knobs)


@closed("batch annotations")
def reduce_sum(buffer, out, dim=-1, clear=True, **knobs) -> None:
    """out[k] = sum of buffer along dim (out += ... with clear=False)."""
    _reduce("sum", buffer, out, dim, clear, knobs)


@closed("batch nan_propagate annotations")
def reduce_max(buffer, out, dim=-1, clear=True, **knobs) -> None:
    """out[k] = max of buffer along dim (max with out's old value with clear=False)."""
    _reduce("max", buffer, out, dim, clear, knobs)


@closed("batch nan_propagate annotations")
def reduce_min(buffer, out, dim=-1, clear=True, **knobs) -> None:
    """out[k] = min of buffer along dim (min with out's old value with clear=False)."""
    _reduce("min", buffer, out, dim, clear, knobs)


@closed("batch annotations")
def reduce_absmax(buffer, out, dim=-1, clear=True, **knobs) -> None:
    """out[k] = the largest |x| of buffer along dim (a per-row scale for an fp8 cast)."""
    _reduce("absmax", buffer, out, dim, clear, knobs)


@closed("annotations")
def atomic_add(dst, value, memory_order=None, return_prev=False, use_tma=False, **knobs) -> None:
    """The tile form `T.atomic_add(C[by * bm, bx * bn], C_local)`: add a block into a region of a
    DRAM tensor, atomically (split-K combines its partial products with it)."""
    b = current("T.atomic_add")
    b.emit(ops.atomic_add(b, dst, value, flag(return_prev, "return_prev")), "T.atomic_add")
    b.record_knobs("atomic_add.", {"memory_order": memory_order, "use_tma": use_tma or None, **knobs})


@closed("scope")
def alloc_var(dtype, init=None) -> Any:
    """A scalar (`x = T.alloc_var(T.float32)`): a Python name whose assignments make lets, starting
    from `init`. A value carried from one kernel-loop iteration to the next is NT301 (builder.ctx_for)."""
    current("T.alloc_var")
    return init if init is not None else Unassigned(normalize_dtype(dtype))


@closed()
def print(obj=None, msg="", warp_group_id=0, warp_id=0) -> None:  # noqa: A001  (TileLang's name)
    """Print a scalar (a block index, a loop variable, a let, a function of them) or an on-chip
    buffer (every 8th row and column of each tile) when the kernel runs: every level's interpreter
    prints it with the core and kernel that ran it, the C++ with DPRINT. The warp arguments choose
    CUDA threads: accepted, no effect (one compute kernel per core prints)."""
    b = current("T.print")
    b.emit(ops.print_(b, obj, msg), "T.print")


@closed()
def infinity(dtype) -> float:
    """+inf in a float dtype; `-T.infinity(dtype)` is the usual start of a max reduction."""
    normalize_dtype(dtype)
    return float("inf")


@closed("coalesced_width loop_layout prefer_async annotations")
def Parallel(*extents, **knobs) -> LoopSpec:
    """An elementwise loop nest over a tile: `for i, j in T.Parallel(M, N)`."""
    current("T.Parallel").record_knobs("parallel.", knobs)
    dims = tuple(fold_int(e, "a T.Parallel extent") for e in extents)
    if not dims or any(d <= 0 for d in dims):
        raise NanottError("NT102", f"T.Parallel needs positive extents, got {dims}")
    return LoopSpec("parallel", dims)


@closed("order stage sync group annotations")
def Pipelined(start, stop=None, num_stages=0, **knobs) -> LoopSpec:
    """A serial loop whose body's copies may run `num_stages` iterations ahead."""
    current("T.Pipelined").record_knobs("pipelined.", knobs)
    stages = fold_int(num_stages, "num_stages")
    if stages < 0:
        raise NanottError("NT102", f"num_stages must be 0 or more, got {stages}")
    extents, first = loop_range("T.Pipelined", start, stop, None)
    return LoopSpec("pipelined", extents, stages, first)


@closed("annotations")
def serial(start, stop=None, step=None, **knobs) -> LoopSpec:
    """A plain serial loop; `range(n)` in a kernel means the same."""
    current("T.serial").record_knobs("serial.", knobs)
    extents, first = loop_range("T.serial", start, stop, step)
    return LoopSpec("serial", extents, 0, first)


Serial = serial


@closed()
def vectorized(start, stop=None, **knobs) -> LoopSpec:
    """`for v in T.vectorized(n)`: a serial loop that asks a GPU compiler to issue its trips as one
    vector access. Its meaning is the serial loop's (the trips in order), and that is what nanott
    makes of it; the hint is recorded (`vectorized=n`): Tensix moves whole tiles and has no
    per-thread vector loads for it to choose."""
    b = current("T.vectorized")
    b.record_knobs("vectorized.", knobs)
    extents, first = loop_range("T.vectorized", start, stop, None)
    b.record("vectorized", extents[0])
    return LoopSpec("serial", extents, 0, first)


def ceildiv(a, b):
    """a / b rounded up; folds when both are Python ints."""
    if isinstance(a, Sym) or isinstance(b, Sym):
        return (a + b - 1) // b
    return -(-a // b)


def floordiv(a, b):
    """a / b rounded down (Python's //, TileLang's floor division); folds on Python ints."""
    return a // b


def floormod(a, b):
    """a - floordiv(a, b) * b (Python's %, TileLang's floor modulo); folds on Python ints."""
    return a % b


@closed()
def sync_grid() -> None:
    """A barrier across every block of the grid (a persistent kernel's split, then its combine):
    lowered to the end of one launch and the start of the next over the same grid (grid_sync.py)."""
    current("T.sync_grid").sync_grid()


@closed()
def use_swizzle(panel_size=None, order="row", enable=True) -> None:
    """A CUDA rasterisation hint: recorded, no effect on Tenstorrent."""
    b = current("T.use_swizzle")
    b.record("use_swizzle", panel_size if order == "row" and enable is True else
             (panel_size, order, enable))


class SwizzledLayout:
    """`tilelang.layout.make_swizzled_layout(buf)`: a permutation of a shared buffer's addresses that
    spreads a GPU warp's accesses over the banks of shared memory. It changes no value."""
    kind = "swizzled"

    def __init__(self, buffer, *args, **kwargs):
        self.buffer = buffer


class Layout(SwizzledLayout):
    """`T.Layout(shape, fn)`: where each element of a buffer lies, by an index map (TileLang's flash
    attention backward lays dQ out for its atomic adds). Every access names elements by their
    logical indices, so it changes no value either: recorded as `custom`."""
    kind = "custom"

    def __init__(self, shape, forward_fn):
        super().__init__(None)


@closed()
def annotate_layout(layout_map) -> None:
    """`T.annotate_layout({buf: make_swizzled_layout(buf)})`: recorded (`layout.<buf>=swizzled`), no
    effect: a CB holds whole 32x32 tiles in the order the unpacker reads them, and Tensix L1 has no
    banks for a swizzle to spread. Any other layout (a fragment's thread mapping) is NT301."""
    b = current("T.annotate_layout")
    for buf, layout in dict(layout_map).items():
        if not isinstance(layout, SwizzledLayout):
            raise NanottError("NT301", f"T.annotate_layout of {type(layout).__name__} is not supported by "
                              "nanott yet (only make_swizzled_layout and T.Layout, which change no value)", caller_loc())
        b.record(f"layout.{getattr(buf, 'label', buf)}", layout.kind)


class GemmWarpPolicy(IntEnum):
    """A CUDA warp-partition hint for T.gemm: recorded, no effect on Tenstorrent."""
    Square = 0
    FullRow = 1
    FullCol = 2

    def compute_warp_partition(self, M, N, num_warps):
        """(warps along M, warps along N) for a GPU's M x N block, as a factory computes per-warp
        tile sizes from it: FullRow all along M, FullCol all along N, Square the split that divides
        both sides with the most nearly square per-warp tiles. Only GPU-side sizes depend on it."""
        if self is GemmWarpPolicy.FullRow:
            return num_warps, 1
        if self is GemmWarpPolicy.FullCol:
            return 1, num_warps
        splits = [(m, num_warps // m) for m in range(1, num_warps + 1) if num_warps % m == 0]
        fits = [(m, n) for m, n in splits if M % m == 0 and N % n == 0] or splits
        return sorted(fits, key=lambda mn: (abs(M / mn[0] - N / mn[1]), -mn[0]))[0]   # `min` is T.min here


float32, bfloat16, float16, float64 = (dtype(n) for n in ("float32", "bfloat16", "float16", "float64"))
int8, int16, int32, int64 = (dtype(n) for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (dtype(n) for n in ("uint8", "uint16", "uint32", "uint64"))
float8_e4m3fn, float8_e5m2 = dtype("float8_e4m3fn"), dtype("float8_e5m2")
float8_e4m3, float8_e8m0fnu, float4_e2m1fn = (dtype(n) for n in ("float8_e4m3", "float8_e8m0fnu",
                                                                "float4_e2m1fn"))
int4, tfloat32 = dtype("int4"), dtype("tfloat32")
globals().update({"float": float32, "half": float16, "bool": dtype("bool"),  # T.float, T.bool, and
                  "int": int32, "uint": uint32, "short": int16, "long": int64,   # TileLang's C names
                  "double": float64})

TILELANG_ONLY = frozenset("""
reduce reduce_abssum reduce_bitand reduce_bitor
reduce_bitxor cumsum cummax atomic_max atomic_min atomic_addx2 atomic_addx4 atomic_load
atomic_store atomic_or reshape view device_assert log10
pow floor ceil erf sin cos truncdiv truncmod
Select max_value min_value
annotate_safe_value annotate_l2_hit_ratio annotate_restrict_buffers annotate_pass_configs
annotate_compile_flags sync_threads
alloc_tmem grid Persistent WarpSpecialize async_copy
transpose Fragment StridedTensor SharedBuffer FragmentBuffer LocalBuffer ptr
tcgen05_gemm
reinterpret region ieee_add __exp __log2 Ref address_of shfl_sync
""".split())


class _NotLowered:
    """What `T.<name>` is for an operation nanott does not lower: it fails when called."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        if self.name in TILELANG_ONLY:
            raise NanottError("NT301", f"T.{self.name} is not supported by nanott yet", caller_loc(),
                              hint="nanott lowers T.copy, T.gemm, T.clear, T.fill, elementwise "
                                   "math in T.Parallel (+ - * /, T.max, T.min, T.exp, T.exp2, "
                                   "T.log, T.log2, T.sqrt, T.rsqrt, T.abs, T.sigmoid, T.tanh, T.cast), "
                                   "T.reduce_sum / _max / _min, T.atomic_add of a block, and "
                                   "T.Pipelined / T.serial loops")
        near = difflib.get_close_matches(self.name, [*__all__, *TILELANG_ONLY], n=1)
        raise NanottError("NT108", f"T.{self.name} is neither a nanott nor a TileLang operation",
                          caller_loc(), hint=f"did you mean T.{near[0]}?" if near else "")

    def __repr__(self) -> str:
        return f"<T.{self.name}: not supported by nanott>"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")     # a submodule not imported yet
    return _NotLowered(name)
