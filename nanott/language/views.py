"""Tensor views: `T.Tensor(shape, dtype, base.data)` inside a kernel, another shape over the same
DRAM storage (TileLang's convolution views its (KH, KW, C, F) weights as a (KH * KW * C, F) matrix).

A view is not a buffer of its own: every access through it becomes an access of its base tensor,
decided by index arithmetic, so no later stage ever sees the view. Both shapes are row-major over
the same elements, so the view and the base pair up into *groups* of consecutive dims with equal
products (view (KH * KW * C, F) over base (KH, KW, C, F): the groups {0} ~ {0, 1, 2} and {1} ~ {3}).
Within a group an index is a flat offset: the view's indices are linearised, and the base's are
that offset divided by each base dim's stride within the group, modulo the dim.

- An element (`view[r, f]` in a T.Parallel) is always such an access: a load of the base.
- A region (a T.copy side) must be a *box* of the base: per group, the view's region must be one
  contiguous run of offsets (in the group's dims, the ones inside the first of extent > 1 are
  whole), its start a provable multiple of its length (affine analysis of the start), and the
  length a whole number of the base's inner dims times a divisor of the next (a block of 64 rows
  of a (N * OH * OW, F) view is a box of (N, OH, OW, F) when 64 divides OW), and lie in one base
  dim (a block of 64 rows over OW = 32 would be a 2 x 32 block of (OH, OW)). Anything else is
  NT331 at the user's line, saying which group and why, with a hint: the block would be scattered
  over several rows of the base, and a copy moves one box.
"""
from __future__ import annotations

from math import gcd, prod
from typing import Any

from nanott.diagnostics import NanottError
from nanott.language.values import Buffer, Load, Sym, Tracing, const, shape_str, to_expr
from nanott.languages import l0


class View:
    """`T.Tensor(shape, dtype, base.data)`: indexing it indexes `base` (a DRAM tensor parameter)."""

    def __init__(self, base: Buffer, shape: tuple[int, ...], dtype: str):
        if base.on_chip:
            raise NanottError("NT304", f"a T.Tensor view of the on-chip buffer {base.label} is not "
                              "supported by nanott yet", hint="view a DRAM tensor parameter; allocate "
                              "on-chip blocks in the shape you index them with")
        if dtype != base.dtype or prod(shape) != prod(base.shape):
            raise NanottError("NT331", f"a view {shape_str(shape)} {dtype} of {base.label} "
                              f"{shape_str(base.shape)} {base.dtype} does not hold the same elements",
                              hint="a view reshapes: keep the base's dtype and its number of elements")
        self.base, self.shape, self.dtype = base, shape, dtype
        self.groups = pair_dims(shape, base.shape)

    @property
    def label(self) -> str:
        return f"a {shape_str(self.shape)} view of {self.base.label}"

    def __getitem__(self, index: Any) -> Any:
        items = index if isinstance(index, tuple) else (index,)
        if len(items) != len(self.shape):
            raise NanottError("NT104", f"{self.label} has {len(self.shape)} dims but is indexed with "
                              f"{len(items)}")
        if any(isinstance(i, slice) for i in items):
            return ViewSlice(self, items)
        return ViewLoad(self, items)

    def element(self, indices: tuple) -> tuple:
        """The base's indices of one element of the view."""
        out: list = []
        for vdims, bdims in self.groups:
            flat = linearise([to_expr(indices[d]) for d in vdims], [self.shape[d] for d in vdims])
            out += delinearise(flat, [self.base.shape[d] for d in bdims])
        return tuple(out)

    def region(self, starts: tuple, extents: tuple) -> tuple[tuple, tuple]:
        """The base's (starts, extents) of a region of the view; NT331 when it is not a box."""
        out_starts: list = []
        out_extents: list = []
        for vdims, bdims in self.groups:
            vshape, bshape = [self.shape[d] for d in vdims], [self.base.shape[d] for d in bdims]
            run = contiguous([starts[d] for d in vdims], [extents[d] for d in vdims], vshape)
            if run is None:
                raise self.refuse(vdims, extents, "its rows are not one contiguous run of the base")
            flat, length = linearise(run[0], vshape), run[1]
            box = box_extents(length, bshape)
            if box is None or multiple_of(flat) % length:      # 0 % length == 0: a constant 0 start
                why = (f"its {length} elements are no whole number of the base's inner dims times a "
                       "divisor of the next" if box is None else
                       f"its start {flat} is not provably a multiple of its length {length}")
                raise self.refuse(vdims, extents, why)
            if sum(n > 1 for n in box) > 1:
                raise self.refuse(vdims, extents, f"it spans {shape_str(tuple(box))} of them, and a copy "
                                  "moves a block of one dim of the base per dim of the view")
            out_starts += delinearise(flat, bshape)
            out_extents += box
        return tuple(out_starts), tuple(out_extents)

    def refuse(self, vdims: tuple, extents: tuple, why: str) -> NanottError:
        dims = shape_str(tuple(self.shape[d] for d in vdims))
        block = shape_str(tuple(extents[d] for d in vdims))
        base = shape_str(tuple(self.base.shape[d] for d in dict(self.groups)[vdims]))
        return NanottError("NT331", f"the block {block} of the view's dims {dims}, which are "
                           f"{self.base.label}'s {base}, is not a box of {self.base.label}: {why}",
                           hint="a copy moves one box of the base tensor: choose block sizes that divide "
                                "the base's dims (a block of rows within one row of the dims merged), "
                                "or copy from the base tensor itself")


class ViewLoad(Load):
    """`view[i, j]`: a load of the base's element (in an expression), or a start index (T.copy)."""

    def __init__(self, view: View, indices: tuple):
        super().__init__(view.base, tuple(Sym(e) for e in view.element(indices)))
        self.view, self.view_indices = view, indices


class ViewSlice:
    """`view[a:b, j]`: a region of the view, for T.copy (mapped to the base by ops.operand)."""

    def __init__(self, view: View, items: tuple):
        self.view, self.items = view, items


def pair_dims(view: tuple[int, ...], base: tuple[int, ...]) -> tuple[tuple[tuple, tuple], ...]:
    """Groups of consecutive dims of view and base with equal products, smallest first."""
    groups, i, j = [], 0, 0
    while i < len(view) or j < len(base):
        vi, bj = [i], [j]
        pv, pb = view[i], base[j]
        while pv != pb:
            if pv < pb:
                i += 1
                vi.append(i)
                pv *= view[i]
            else:
                j += 1
                bj.append(j)
                pb *= base[j]
        groups.append((tuple(vi), tuple(bj)))
        i, j = i + 1, j + 1
        if i == len(view) or j == len(base):        # the other side's trailing dims of 1 join the last
            vi, bj = groups.pop()
            groups.append((vi + tuple(range(i, len(view))), bj + tuple(range(j, len(base)))))
            break
    return tuple(groups)


def linearise(indices: list, shape: list[int]) -> Any:
    """sum(index_k * stride_k) over row-major strides, folded where constant."""
    flat: Any = const(0)
    for index, n in zip(indices, shape):
        flat = add(mul(flat, n), index)
    return flat


def delinearise(flat: Any, shape: list[int]) -> list:
    """The indices of a flat offset in a row-major shape: offset // stride % dim (no % on the first
    dim, whose offset is in range, and no // by a stride of 1)."""
    out, stride = [], prod(shape)
    for k, n in enumerate(shape):
        stride //= n
        x = flat if stride == 1 else op("//", flat, stride)
        out.append(x if k == 0 else op("%", x, n))
    return out


def contiguous(starts: list, extents: list, shape: list[int]) -> tuple[list, int] | None:
    """(starts, length) when a region of these dims is one run of row-major offsets, else None."""
    first = next((k for k, e in enumerate(extents) if e > 1), len(extents) - 1)
    for k in range(first + 1, len(extents)):
        if extents[k] != shape[k] or not (isinstance(starts[k], l0.Const) and starts[k].value == 0):
            return None
    return list(starts), prod(extents)


def box_extents(length: int, shape: list[int]) -> list[int] | None:
    """The base extents of a run of `length` offsets starting at a multiple of it: whole inner dims,
    then a divisor of the next dim, then 1s; None if the run is no such box."""
    out, left = [], length
    for n in reversed(shape):
        if left >= n and left % n == 0:
            out.append(n)
            left //= n
        elif n % left == 0:
            out.append(left)
            left = 1
        else:
            return None
    return list(reversed(out))


def multiple_of(e: Any) -> int:
    """The largest m that e is provably m times an integer (sums and products of int constants)."""
    match e:
        case l0.Const(int() as v, _):
            return abs(v)                        # 0 is a multiple of everything: gcd(0, m) = m
        case l0.BinOp("+" | "-", a, b):
            return gcd(multiple_of(a), multiple_of(b))
        case l0.BinOp("*", a, b):
            return multiple_of(a) * multiple_of(b)
    return 1


def add(a: Any, b: Any) -> Any:
    if isinstance(a, l0.Const) and a.value == 0:
        return b
    if isinstance(b, l0.Const) and b.value == 0:
        return a
    return op("+", a, b)


def mul(a: Any, n: int) -> Any:
    return const(0) if isinstance(a, l0.Const) and a.value == 0 else op("*", a, n)


def op(name: str, a: Any, n: int) -> Any:
    """a <name> n, folded when a is a constant or n makes it a no-op."""
    b = n if isinstance(n, l0.Const | l0.BinOp | l0.Var | l0.Load) else const(n)
    if isinstance(a, l0.Const) and isinstance(b, l0.Const):
        fold = {"+": lambda x, y: x + y, "*": lambda x, y: x * y, "//": lambda x, y: x // y,
                "%": lambda x, y: x % y}
        return const(fold[name](a.value, b.value))
    if isinstance(b, l0.Const) and name == "*" and b.value == 1:
        return a
    return l0.BinOp(name, a, b, loc=Tracing.loc)
