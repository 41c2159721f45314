"""The tile operations' meaning: how P0 turns `T.copy`, `T.gemm`, `T.fill`, `T.reduce_*` and
`T.atomic_add` calls into L0.

`T.copy` takes three operand forms (docs/reference.md §T5): a whole buffer, a start index (`A[by*64, k*32]`,
extents taken from the other operand, left-padded with 1), and a slice (`A[by*64:(by+1)*64, :]`, an
integer index is a dim of extent 1). All become `Region(buffer, starts, extents)` with a start and
an int extent for every dim; the extents of the two sides must agree once dims of 1 are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanott.diagnostics import NanottError
from nanott.language.builder import Builder
from nanott.language.print_values import buffer_refusal, refusal, sign_free
from nanott.language.signatures import flag
from nanott.language.parts import part_operand
from nanott.language.stages import Stage, stage_operand
from nanott.language.values import Buffer, Load, Slice, Sym, Unassigned, const, linear, shape_str, to_expr
from nanott.language.views import View, ViewLoad, ViewSlice
from nanott.languages import l0


@dataclass
class Operand:
    """One side of a copy: a buffer, its start per dim, and its extents (None for a start index)."""
    buffer: Buffer | View
    starts: tuple
    extents: tuple[int, ...] | None

    def region(self, b: Builder) -> l0.Region:
        if isinstance(self.buffer, View):              # a view's region is a box of its base (views.py)
            starts, extents = self.buffer.region(self.starts, self.extents)
            return l0.Region(self.buffer.base.label, starts, extents, loc=b.loc)
        return l0.Region(self.buffer.label, self.starts, self.extents, loc=b.loc)


def operand(x: Any) -> Operand:
    if isinstance(x, ViewLoad):
        return Operand(x.view, tuple(to_expr(i) for i in x.view_indices), None)
    if isinstance(x, (Buffer, View)):
        if isinstance(x, Buffer):
            x.check_use("T.copy")
        return Operand(x, tuple(const(0) for _ in x.shape), tuple(x.shape))
    if isinstance(x, Load):
        return Operand(x.buffer, x.expr.indices, None)
    if isinstance(x, (Slice, ViewSlice)):
        buffer = x.view if isinstance(x, ViewSlice) else x.buffer
        starts, extents = zip(*(slice_dim(buffer, d, item) for d, item in enumerate(x.items)))
        return Operand(buffer, starts, extents)
    raise NanottError("NT104", f"T.copy copies between buffers and buffer regions, got a "
                               f"{type(x).__name__} ({x!r:.40})",
                      hint="operands are a buffer (A_shared), a start index (A[by * 64, k * 32]) "
                           "or a slice (A[by * 64:(by + 1) * 64, :])")


def slice_dim(buf: Buffer | View, dim: int, item: Any) -> tuple[Any, int]:
    """(start, extent) of one index of a slice operand."""
    if not isinstance(item, slice):
        return to_expr(item), 1
    if item.step is not None and not (isinstance(item.step, int) and item.step == 1):
        raise NanottError("NT304", f"a slice with a step ({buf.label}, dim {dim}) is not supported "
                                   "by nanott yet")
    start = to_expr(0 if item.start is None else item.start)
    stop = to_expr(buf.shape[dim] if item.stop is None else item.stop)
    lin_start, lin_stop = linear(start), linear(stop)
    if lin_start is None or lin_stop is None or lin_start[0] != lin_stop[0]:
        raise NanottError("NT102", f"the slice {start}:{stop} of {buf.label} (dim {dim}) does not "
                                   "have an extent known when the kernel is parsed",
                          hint="write start and stop so their difference is a Python int, e.g. "
                               "by * bm:(by + 1) * bm")
    extent = lin_stop[1] - lin_start[1]
    if extent <= 0:
        raise NanottError("NT104", f"the slice {start}:{stop} of {buf.label} (dim {dim}) is empty")
    return start, extent


def fit(extents: tuple[int, ...], rank: int) -> tuple[int, ...] | None:
    """The other side's extents for a start index of `rank` dims: leading 1s dropped or added."""
    ext = list(extents)
    while len(ext) > rank and ext[0] == 1:
        ext.pop(0)
    return None if len(ext) > rank else (1,) * (rank - len(ext)) + tuple(ext)


def copy(b: Builder, src: Any, dst: Any) -> l0.Copy:
    a, c = operand(src), operand(dst)
    if a.extents is None and c.extents is None:
        raise NanottError("NT104", f"T.copy({a.buffer.label}[...], {c.buffer.label}[...]) gives "
                                   "start indices on both sides, so no side says how much to copy",
                          hint="make one side a whole buffer or a slice")
    if a.extents is None:
        a.extents = fit(c.extents, len(a.buffer.shape)) or c.extents
    if c.extents is None:
        c.extents = fit(a.extents, len(c.buffer.shape)) or a.extents
    if [e for e in a.extents if e != 1] != [e for e in c.extents if e != 1] \
            or len(a.extents) != len(a.buffer.shape) or len(c.extents) != len(c.buffer.shape):
        raise NanottError("NT103", f"copy extents do not match: {shape_str(a.extents)} vs "
                                   f"{shape_str(c.extents)}",
                          hint=f"T.copy moves one tile: the region read from {a.buffer.label} and "
                               f"the region written to {c.buffer.label} must have the same extents "
                               "(dims of extent 1 aside); check the block sizes and buffer shapes")
    return l0.Copy(a.region(b), c.region(b), loc=b.loc)


def atomic_add(b: Builder, dst: Any, value: Any, return_prev: bool) -> l0.AtomicAdd | l0.AtomicStore:
    """`T.atomic_add(C[by * bm, bx * bn], C_local)`: a whole on-chip block added into a region of a
    DRAM tensor, whose extents come from the block (as T.copy's start index does). The element form
    `T.atomic_add(C[by * bm + i, bx * bn + j], C_local[i, j])` (in a T.Parallel) adds one value into
    one element: an AtomicStore, which P0b makes a block's."""
    if isinstance(dst, Load) and not isinstance(value, Buffer) and not return_prev:
        if dst.buffer.on_chip:
            raise NanottError("NT106", f"T.atomic_add adds into a DRAM tensor; {dst.buffer.label} is on chip",
                              hint="add into the tensor's element: T.atomic_add(C[i, j], x)")
        return l0.AtomicStore(dst.buffer.label, dst.expr.indices, to_expr(value), loc=b.loc)
    if return_prev or not isinstance(value, Buffer) or not isinstance(dst, (Load, Slice)):
        raise NanottError("NT304", "only the tile form of T.atomic_add is supported by nanott yet: "
                                   "T.atomic_add(C[start indices], block)",
                          hint="add a whole fragment into a DRAM region: T.atomic_add(C[by * bm, "
                               "bx * bn], C_local), after the K loop")
    if not value.on_chip or dst.buffer.on_chip:
        raise NanottError("NT106", f"T.atomic_add adds an on-chip block into a DRAM tensor; here "
                                   f"{value.label} is {'on chip' if value.on_chip else 'in DRAM'} and "
                                   f"{dst.buffer.label} {'on chip' if dst.buffer.on_chip else 'in DRAM'}",
                          hint="T.atomic_add(C[by * bm, bx * bn], C_local)")
    c = copy(b, value, dst)
    return l0.AtomicAdd(c.src, c.dst, loc=b.loc)


def tile(x: Any, role: str, op: str) -> Buffer | Stage:
    """A whole on-chip buffer, as T.gemm and T.fill need (or a stage of one, for T.gemm)."""
    if isinstance(x, Stage):
        return x
    if isinstance(x, (Load, Slice)):
        raise NanottError("NT304", f"{op} on a part of {x.buffer.label} is not supported by nanott "
                                   "yet", hint=f"pass the whole buffer {x.buffer.label}")
    if not isinstance(x, Buffer):
        raise NanottError("NT104", f"{op} operand {role} must be a buffer, got a {type(x).__name__}")
    x.check_use(op)
    if not x.on_chip:
        raise NanottError("NT106", f"{op} operand {role} is the DRAM tensor {x.label}; it must be an "
                                   "on-chip buffer (T.alloc_shared or T.alloc_fragment)",
                          hint=f"copy a tile in first: T.copy({x.label}[...], {x.label}_shared)")
    return x


def gemm(b: Builder, A: Any, B: Any, C: Any, transpose_a: Any, transpose_b: Any, clear: Any) -> l0.Gemm:
    A, B = stage_operand(b, A), stage_operand(b, B)            # A_shared[ko % 2, :, :]: stages.py
    A, B = part_operand(b, A), part_operand(b, B)              # Q_shared[:, :256]: parts.py
    a, bb, c = tile(A, "A", "T.gemm"), tile(B, "B", "T.gemm"), tile(C, "C", "T.gemm")
    flags = [flag(transpose_a, "transpose_A"), flag(transpose_b, "transpose_B"), flag(clear, "clear_accum")]
    for buf in (a, bb, c):
        if len(buf.shape) != 2:
            raise NanottError("NT304", f"T.gemm on the {len(buf.shape)}-D buffer {buf.label} is not "
                                       "supported by nanott yet", hint="use 2-D operands")
    m, k = a.shape[::-1] if flags[0] else a.shape
    k2, n = bb.shape[::-1] if flags[1] else bb.shape
    if (m, n) != tuple(c.shape) or k != k2:
        form = (f"C (M, N) += A ({'K, M' if flags[0] else 'M, K'}) @ B ({'N, K' if flags[1] else 'K, N'})")
        clash = (f"K is {k} in {a.label} but {k2} in {bb.label}" if k != k2 else
                 f"M is {m} in {a.label} but {c.shape[0]} in {c.label}" if m != c.shape[0] else
                 f"N is {n} in {bb.label} but {c.shape[1]} in {c.label}")
        raise NanottError("NT105", f"T.gemm shapes do not agree: A {a.label} {shape_str(a.shape)}, "
                                   f"B {bb.label} {shape_str(bb.shape)}, C {c.label} {shape_str(c.shape)}",
                          hint=f"{form}: {clash}")
    return l0.Gemm(a.label, bb.label, c.label, *flags, loc=b.loc)


def reduce(b: Builder, op: str, src: Any, dst: Any, dim: Any, clear: Any) -> l0.Reduce:
    """`T.reduce_<op>(src, dst, dim, clear)`: a 2-D block reduced along `dim` into a 1-D buffer."""
    what = f"T.reduce_{op}"
    a, out = tile(src, "buffer", what), tile(dst, "out", what)
    d = dim if isinstance(dim, int) and not isinstance(dim, bool) else None
    if d is None or not -len(a.shape) <= d < len(a.shape):
        raise NanottError("NT104", f"{what} reduces along dim {dim!r}; {a.label} has {len(a.shape)} dims",
                          hint="dim is a Python int: 1 (or -1) reduces each row, 0 each column")
    if len(a.shape) != 2:
        raise NanottError("NT304", f"{what} of the {len(a.shape)}-D buffer {a.label} is not supported "
                                   "by nanott yet", hint="reduce a 2-D block into a 1-D buffer")
    d %= 2
    kept = a.shape[1 - d]
    if tuple(out.shape) != (kept,):
        raise NanottError("NT105", f"{what}({a.label}, {out.label}, dim={dim}): reducing "
                                   f"{shape_str(a.shape)} along dim {d} gives ({kept},), but "
                                   f"{out.label} is {shape_str(out.shape)}",
                          hint=f"allocate the result as T.alloc_fragment(({kept},), ...)")
    return l0.Reduce(op, a.label, out.label, d, flag(clear, "clear"), loc=b.loc)


def fill(b: Builder, buf: Any, value: Any, op: str) -> l0.Fill | None:
    """T.fill of a buffer; of a T.alloc_var still unassigned, its value from now on (values.Unassigned)."""
    if isinstance(buf, Unassigned) and buf.value is None:
        buf.value = int(value) if isinstance(value, (int, float)) and not buf.dtype.startswith(("float", "bfloat")) \
            else value
        return None
    target = tile(buf, "buffer", op)
    if not isinstance(value, Sym) and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)                          # a number takes the buffer's (float) type
    return l0.Fill(target.label, to_expr(value), loc=b.loc)


def print_(b: Builder, obj: Any, msg: Any) -> l0.Print | l0.PrintBuffer:
    """T.print of an on-chip buffer, or of a scalar: an expression over block indices, loop
    variables, lets and constants (language/print_values.py says which)."""
    if not isinstance(msg, str) or not all(" " <= c <= "~" and c not in '{}"\\' for c in msg):
        raise NanottError("NT104", f"the msg of T.print must be a str of printable ASCII without "
                                   f"braces, quotes or backslashes, got {msg!r:.40}", b.loc,
                          hint="the message becomes a C++ string literal and a DPRINT format")
    value = None if isinstance(obj, Buffer) or obj is None else to_expr(obj)
    where = "inside T.Parallel" if any(f.parallel for f in b.frames) else None
    if isinstance(obj, Buffer):
        where = where or buffer_refusal(obj)
    elif obj is None:
        where = where or "of nothing"
    if where or value is not None and (where := refusal(value)):
        raise NanottError("NT326", f"T.print {where} is not supported by nanott yet",
                          b.loc, hint="print an on-chip 2-D buffer of whole 32x32 tiles, or a scalar: an int "
                                      "or float value computed from block indices, loop variables and constants "
                                      "with + - * / // % min max, comparisons, abs, T.if_then_else and casts to "
                                      "int32 or float32; outside T.Parallel")
    if isinstance(obj, Buffer):
        return l0.PrintBuffer(msg, obj.label, loc=b.loc)
    return l0.Print(msg, sign_free(value), loc=b.loc)
