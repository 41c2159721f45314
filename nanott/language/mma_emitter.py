"""TileLang's `TensorCoreIntrinEmitter` (tilelang.cuda.intrinsics.macro.mma_macro_generator), modelled
as nanott sees a kernel: one block whole, never one thread.

On a GPU the emitter writes per-warp PTX: `ldmatrix` moves a 16 x micro_size_k piece of a shared
operand into each thread's registers (`T.alloc_local` arrays of a few elements), `mma` multiplies
the pieces, `stmatrix` writes each thread's accumulators back. Summed over the block's threads those
arrays are the block's whole operands, and that is what nanott makes of them. Their declared
per-thread sizes (warp_rows * local_size_a, ...) do not say the block's shape, so the emitter's
parameters do, as TileLang's generator computes them:

  block_M = block_row_warps * warp_row_tiles        block_N = block_col_warps * warp_col_tiles
  micro_size_k = min(256 // bits(a_dtype), chunk)   16 for 16-bit operands, 32 for 8-bit (m16n8k16/k32)
  n_dim = 16 if warp_col_tiles % 16 == 0 else 8     the tile order's column size (m16n8)

Each method becomes the L0 it stands for (the arrays' block shapes are recorded on the kernel,
`local.A_local=32 as 128x32 (...)`, the per-thread size and the block's shape):

  ldmatrix_a(A_local, A_shared, ki, rk=0)  A_local = the k-slice [k0, k0 + micro_size_k) of A_shared,
                                           k0 = rk * chunk + ki * micro_size_k, as a T.Parallel copy.
                                           Tensix multiplies whole 32x32 tiles, and a 16-wide slice is
                                           half a tile, so A_local spans all of A_shared's k (block_K)
                                           and is zero outside the slice: (block_M, block_K), or
                                           (block_K, block_M) when a_transposed
  ldmatrix_b(B_local, B_shared, ki, rk=0)  the same for B: (block_N, block_K) when b_transposed, else
                                           (block_K, block_N)
  mma(A_local, B_local, C_local)           T.gemm(A_local, B_local, C_local) with the emitter's
                                           transposes; C_local is (block_M, block_N) of accum_dtype.
                                           Outside the slice both operands are 0, and 0 * 0 adds
                                           nothing: the sum is the slice's. It is block_K / micro_size_k
                                           times the multiplications a k-slice needs (the price of
                                           keeping each emitter call one L0 operation)
  stmatrix(C_local, C_shared)              T.copy into a (block_M, block_N) buffer, or into the 4-D
                                           tile order (block_M // 16, block_N // n_dim, 16, n_dim),
                                           which nanott stores as its block matrix (blocked.py)
  stmatrix(C_local, C, pid_m, pid_n)       T.copy into the DRAM block (pid_m, pid_n)

What has no block-level meaning is refused, naming it: an element of a per-thread array, the
per-thread layouts and atoms (make_mma_load_layout, mma_atom, get_thread_binding, ...), reduce_k > 1
(warps summing parts of K into their own registers), mma's k_inner. float64 (m8n8k4) is NT101:
nanott has no float64.
"""
from __future__ import annotations

from math import prod
from typing import Any

from nanott.diagnostics import NanottError
from nanott.dtypes import bits_of
from nanott.language import ops
from nanott.language.blocked import Blocked
from nanott.language.builder import Builder, LoopSpec, caller_loc, current
from nanott.language.intrinsics import if_then_else
from nanott.language.values import Buffer, fold_int, normalize_dtype, shape_str


class LocalArray(Buffer):
    """`T.alloc_local(n, dtype)`: a thread's own array. It becomes the block's array of the shape an
    emitter gives it (`block`); until then only T.clear / T.fill may name it."""

    def __init__(self, per_thread: tuple[int, ...], dtype: str, scope: str = "fragment", **kw: Any):
        super().__init__(None, per_thread, dtype, scope, **kw)
        self.per_thread, self.block, self.why, self.open = per_thread, None, "", False

    def note(self) -> tuple[str, str]:
        if self.block is None:
            raise NanottError("NT301", f"the per-thread T.alloc_local array {self.label} {shape_str(self.per_thread)}: "
                              "nanott sees a block whole, and no TensorCoreIntrinEmitter operation gives it "
                              "the block's shape", self.loc, hint="allocate the block's buffer with "
                              "T.alloc_fragment((rows, cols), dtype) and use T.copy / T.gemm / T.Parallel on it")
        return "local", f"{prod(self.per_thread)} as {'x'.join(map(str, self.block))} ({self.why})"

    def __getitem__(self, index: Any) -> Any:
        if not self.open:
            part = "a part" if any(isinstance(i, slice) for i in (index if isinstance(index, tuple) else (index,))) \
                else "an element"
            raise NanottError("NT301", f"{part} of the per-thread T.alloc_local array {self.label}: nanott "
                              "sees a block whole, not one thread's registers", caller_loc(),
                              hint="only a TensorCoreIntrinEmitter's ldmatrix / mma / stmatrix and T.clear "
                                   "use such an array in nanott")
        return super().__getitem__(index)

    def check_use(self, op: str) -> None:
        if self.block is None and op != "T.fill":
            raise NanottError("NT301", f"{op} of the per-thread T.alloc_local array {self.label} before a "
                              "TensorCoreIntrinEmitter gives it the block's shape", caller_loc(),
                              hint="nanott sees a block whole: the emitter's ldmatrix / mma give a local array "
                                   "its block shape; before that only T.clear / T.fill may name it")


def alloc_local(shape: Any, dtype: Any, scope: str = "local") -> LocalArray:
    b = current("T.alloc_local")
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    per_thread = tuple(fold_int(d, f"dim {i} of T.alloc_local") for i, d in enumerate(dims))
    return b.allocate(per_thread, normalize_dtype(dtype), "fragment", LocalArray)


class TensorCoreIntrinEmitter:
    """TileLang's emitter, with its parameters and the sizes TileLang derives from them."""

    def __init__(self, a_dtype="float16", b_dtype="float16", accum_dtype="float16", a_transposed=False,
                 b_transposed=False, block_row_warps=2, block_col_warps=2, warp_row_tiles=8, warp_col_tiles=8,
                 chunk=16, reduce_k=1, num_elems_per_byte=1, is_m_first=False, thread_var=None):
        self.a_dtype, self.b_dtype, self.accum_dtype = (normalize_dtype(d) for d in (a_dtype, b_dtype, accum_dtype))
        self.a_transposed, self.b_transposed = bool(a_transposed), bool(b_transposed)
        self.block_row_warps, self.block_col_warps = block_row_warps, block_col_warps
        self.warp_row_tiles, self.warp_col_tiles, self.chunk = warp_row_tiles, warp_col_tiles, chunk
        if reduce_k != 1 or num_elems_per_byte != 1:
            raise refused("reduce_k > 1 or num_elems_per_byte > 1 (warps keeping parts of K, or packed "
                          "operands, in their own registers)")
        if warp_row_tiles < 16 or warp_row_tiles % 16 or warp_col_tiles < 8 or warp_col_tiles % 8:
            raise misuse(f"TensorCoreIntrinEmitter: warp_row_tiles {warp_row_tiles} must be a multiple "
                              f"of 16 and warp_col_tiles {warp_col_tiles} of 8 (TileLang's own check)")
        self.M_DIM, self.WARP_SIZE = 16, 32
        self.k_dim = self.micro_size_k = min(256 // bits_of(self.a_dtype), chunk)
        self.n_dim = self.micro_size_y = 16 if warp_col_tiles % 16 == 0 else 8
        self.micro_size_x = self.M_DIM
        self.warp_rows, self.warp_cols = warp_row_tiles // 16, warp_col_tiles // self.n_dim
        self.local_size_a = self.M_DIM * self.k_dim // self.WARP_SIZE
        self.local_size_b = self.n_dim * self.k_dim // self.WARP_SIZE
        self.local_size_out = self.M_DIM * self.n_dim // self.WARP_SIZE
        self.threads = self.WARP_SIZE * block_row_warps * block_col_warps
        self.block_M, self.block_N = block_row_warps * warp_row_tiles, block_col_warps * warp_col_tiles

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        def per_thread(*args: Any, **kwargs: Any) -> Any:
            raise refused(f"TensorCoreIntrinEmitter.{name} (a per-thread layout or instruction)")
        return per_thread

    # ----- the operations -----
    def ldmatrix_a(self, A_local, A_shared, ki, rk=0) -> None:
        self._load("A", A_local, A_shared, ki, rk, self.block_M, self.a_transposed, self.a_dtype,
                   self.warp_rows * self.local_size_a)

    def ldmatrix_b(self, B_local, B_shared, ki, rk=0) -> None:
        self._load("B", B_local, B_shared, ki, rk, self.block_N, not self.b_transposed, self.b_dtype,
                   self.warp_cols * self.local_size_b)

    def mma(self, A_local, B_local, C_local, k_inner=0) -> None:
        b = current("TensorCoreIntrinEmitter.mma")
        if not (isinstance(k_inner, int) and k_inner == 0):
            raise refused("TensorCoreIntrinEmitter.mma with k_inner (several k-slices in one fragment)")
        for role, buf in (("A", A_local), ("B", B_local)):
            if not isinstance(buf, LocalArray) or buf.block is None:
                raise misuse(f"mma's {role} operand must be a T.alloc_local array that "
                                  f"ldmatrix_{role.lower()} has loaded")
        self._bind(b, C_local, (self.block_M, self.block_N), self.accum_dtype,
                   self.warp_rows * self.warp_cols * self.local_size_out, "C",
                   f"C: block_row_warps {self.block_row_warps} x warp_row_tiles {self.warp_row_tiles} by "
                   f"block_col_warps {self.block_col_warps} x warp_col_tiles {self.warp_col_tiles}")
        b.emit(ops.gemm(b, A_local, B_local, C_local, self.a_transposed, self.b_transposed, False),
               "TensorCoreIntrinEmitter.mma")

    def stmatrix(self, C_local, C_buf, pid_m=None, pid_n=None) -> None:
        b = current("TensorCoreIntrinEmitter.stmatrix")
        if not isinstance(C_local, LocalArray) or C_local.block != (self.block_M, self.block_N):
            raise misuse("stmatrix stores the accumulator an mma of this emitter filled")
        if pid_m is not None and pid_n is not None:
            dst = C_buf[pid_m * self.block_M, pid_n * self.block_N]
        elif isinstance(C_buf, Blocked) and C_buf.logical == (self.block_M // 16, self.block_N // self.n_dim, 16,
                                                              self.n_dim) or \
                isinstance(C_buf, Buffer) and not isinstance(C_buf, Blocked) and C_buf.shape == (self.block_M, self.block_N):
            dst = C_buf
        else:
            raise misuse(f"stmatrix writes a ({self.block_M}, {self.block_N}) buffer or the tile "
                              f"order ({self.block_M // 16}, {self.block_N // self.n_dim}, 16, {self.n_dim}); "
                              f"got {getattr(C_buf, 'label', C_buf)}")
        b.emit(ops.copy(b, C_local, dst), "TensorCoreIntrinEmitter.stmatrix")

    def _load(self, role: str, local: Any, shared: Any, ki: Any, rk: Any, rows: int, k_first: bool, dtype: str,
              per_thread: int) -> None:
        """local = the k-slice of shared, in whole tiles (zero outside the slice): a T.Parallel."""
        b = current(f"TensorCoreIntrinEmitter.ldmatrix_{role.lower()}")
        mk = self.micro_size_k
        if not isinstance(shared, Buffer) or len(shared.shape) != 2 or shared.dtype != dtype:
            raise misuse(f"ldmatrix_{role.lower()} reads a whole 2-D shared buffer of {dtype}")
        k_ext = shared.shape[0] if k_first else shared.shape[1]
        if (shared.shape[1] if k_first else shared.shape[0]) != rows or k_ext % mk:
            raise misuse(f"ldmatrix_{role.lower()}: {shared.label} {shape_str(shared.shape)} is not "
                              f"the emitter's {rows} x (a multiple of {mk}) operand"
                              f"{' (transposed)' if k_first else ''}")
        shape = (k_ext, rows) if k_first else (rows, k_ext)
        self._bind(b, local, shape, dtype, per_thread, role,
                   f"{role}: the block's {rows} rows by all {k_ext} of {shared.label}'s k, zero outside "
                   f"the {mk}-wide slice" if k_ext != mk else f"{role}: the block's {rows} x {mk}")
        k0 = ki * mk if isinstance(rk, int) and rk == 0 else rk * self.chunk + ki * mk
        local.open = True
        try:
            for x, y in b._loop(LoopSpec("parallel", shape), ("i", "k")):
                k = x if k_first else y
                value = shared[x, y]
                if k_ext != mk:
                    value = if_then_else((k >= k0) & (k < k0 + mk), value, 0)
                b.store(local, (x, y), value)
        finally:
            local.open = False

    def _bind(self, b: Builder, buf: Any, shape: tuple[int, int], dtype: str, per_thread: int, role: str,
              why: str) -> None:
        if not isinstance(buf, LocalArray):
            raise misuse(f"the emitter's {role} operand must be a T.alloc_local array, got "
                              f"{getattr(buf, 'label', type(buf).__name__)}")
        if buf.dtype != dtype or prod(buf.per_thread) < per_thread:
            raise misuse(f"{buf.label} is {buf.dtype}{list(buf.per_thread)} per thread; the emitter's "
                              f"{role} needs {dtype}[{per_thread}]")
        if buf.block is None:
            buf.block, buf.shape, buf.why = shape, shape, why
            b.shapes[buf.label] = shape
        elif buf.block != shape:
            raise misuse(f"{buf.label} is the block's {shape_str(buf.block)}; here the emitter "
                              f"needs {shape_str(shape)}")


def misuse(message: str) -> NanottError:
    return NanottError("NT104", message, caller_loc(), hint=(
        "ldmatrix_a(A_local, A_shared, ki), ldmatrix_b(B_local, B_shared, ki), mma(A_local, B_local, C_local), "
        "stmatrix(C_local, C_shared): the locals from T.alloc_local, the shared operands whole, of the "
        "emitter's dtypes and block shape (block_row_warps * warp_row_tiles, ...)"))


def refused(what: str) -> NanottError:
    return NanottError("NT301", f"{what} is not supported by nanott: it sees a block whole, not per thread",
                       caller_loc(), hint="ldmatrix_a / ldmatrix_b / mma / stmatrix of a TensorCoreIntrinEmitter "
                                          "are modelled on the whole block (nanott/language/mma_emitter.py)")
