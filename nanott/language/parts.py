"""Parts of on-chip buffers: a T.gemm operand that is part of a buffer, and buffers used in parts (P0).

TileLang kernels multiply parts of shared buffers (`T.gemm(Q_shared[:, :dim // 2], KV_shared[stage,
:, :dim // 2], acc_s, transpose_B=True)`, MLA's two halves of the latent dimension, a stage of an
unrolled pipeline) and copy into and out of parts (`T.copy(acc_o_l, O_shared[:, :dim // 2])`).
nanott's tile operations take whole buffers, so P0 makes the parts whole:

- a gemm operand that is part of an on-chip buffer is copied into a buffer of its own first (one per
  part the kernel names: `Q_shared_part`), and the gemm reads that;
- when the kernel is built, an on-chip buffer (not one blocked.py keeps as the block matrix of its
  tiles) whose every access is a copy of a box with constant bounds (no element access, no whole-buffer operation) is cut along those bounds into one buffer
  per cell of the grid they make (`KV_shared_0` ... ; leading dims the cut leaves at 1, a stage, are
  dropped), and each copy that spans several cells becomes one copy per cell, the other side's
  region moved by the same offsets. The kernel records the cut (`parts.KV_shared`).

Both keep the program's meaning: a copy into a fresh buffer then a read of it reads the same
elements, and cells that no access straddles are independent buffers.
"""
from __future__ import annotations

import itertools
from typing import Any

from nanott.ir import Launches, replace, walk
from nanott.languages import l0
from nanott.language.values import Buffer, Slice


def part_operand(b: Any, x: Any) -> Any:
    """A T.gemm operand that is a part of an on-chip buffer with constant bounds: a stand-in buffer
    (`KV_shared_part`) that `partition` makes the cell it is, or a copy of the part; else x."""
    from nanott.language import ops
    if not (isinstance(x, Slice) and x.buffer.on_chip):
        return x
    region = ops.operand(x).region(b)
    shape = tuple(e for e in region.extents if e != 1)
    if len(shape) != 2 or not all(isinstance(st, l0.Const) for st in region.starts):
        return x                                       # tile() refuses it, naming the part
    stand_in = Buffer(None, shape, x.buffer.dtype, "shared", loc=b.loc)
    stand_in.name = b.unique(f"{x.buffer.label}_part")
    b.taken.add(stand_in.name)
    b.shapes[stand_in.name] = shape
    b.__dict__.setdefault("parts", {})[stand_in.name] = region
    return stand_in


def partition(program: Any, parts: dict | None = None) -> Any:
    """The kernel (each launch) with its on-chip buffers used in constant boxes cut into cells, and
    each gemm operand that is a part (`parts`: stand-in name -> region) the cell it is, or a copy of
    the part into its own buffer just before the gemm when it is not one cell."""
    if isinstance(program, Launches):
        return replace(program, launches=tuple(partition(k, parts) for k in program.launches))
    parts = {k: r for k, r in (parts or {}).items() if any(isinstance(x, l0.Gemm) and k in (x.a, x.b)
                                                          for x in walk(program.body))}
    body, attrs = program.body, []
    blocked = {a.key.split(".", 1)[1] for a in program.attrs if a.key.startswith("blocked.")}
    allocs = [s for s in walk(body) if isinstance(s, l0.Alloc) and s.name not in blocked]   # blocked.py's own
    cuts = {a.name: cut_points(body, a, parts) for a in allocs}
    loose = {k: r for k, r in parts.items() if not one_cell(r, cuts.get(r.buffer))}
    if loose:
        body = copied_parts(body, loose, {a.name: a for a in allocs})
    for alloc in allocs:
        if cuts[alloc.name] is None:
            continue
        body, cut = Cut(alloc, cuts[alloc.name], body, parts).result()
        attrs.append(l0.Attr(f"parts.{alloc.name}", cut, loc=alloc.loc))
    if not attrs and not loose:
        return program
    return replace(program, body=body, attrs=tuple(sorted((*program.attrs, *attrs), key=lambda a: (a.key, a.value))))


def box_of(r: l0.Region) -> tuple:
    return tuple((int(s.value), int(s.value) + e) for s, e in zip(r.starts, r.extents))


def cut_points(body: tuple, alloc: l0.Alloc, parts: dict) -> list | None:
    """Per dim, the bounds of every access of the buffer (a copy of a constant box, or a gemm operand
    part of it); None when some access is not one, or nothing is cut."""
    name, found = alloc.name, [box_of(r) for r in parts.values() if r.buffer == alloc.name]
    for x in walk(body):
        if isinstance(x, l0.Region) and x.buffer == name:
            if not all(isinstance(s, l0.Const) for s in x.starts):
                return None
            found.append(box_of(x))
        elif isinstance(x, (l0.Load, l0.Store, l0.AtomicStore, l0.Fill, l0.PrintBuffer)) and x.buffer == name \
                or isinstance(x, l0.Gemm) and name in (x.a, x.b, x.c) \
                or isinstance(x, l0.Reduce) and name in (x.src, x.dst):
            return None
    cuts = [sorted({0, n, *(b[d][0] for b in found), *(b[d][1] for b in found)}) for d, n in enumerate(alloc.shape)]
    if not found or all(len(c) == 2 for c in cuts):
        return None
    lead = 0                                            # leading dims the cut leaves at extent 1
    while lead < len(cuts) - 1 and all(hi - lo == 1 for lo, hi in zip(cuts[lead], cuts[lead][1:])):
        lead += 1
    return cuts if len(alloc.shape) - lead <= 2 else None


def one_cell(r: l0.Region, cuts: list | None) -> bool:
    return cuts is not None and all(lo in c and hi in c and not any(lo < k < hi for k in c)
                                    for (lo, hi), c in zip(box_of(r), cuts))


def copied_parts(body: tuple, loose: dict, allocs: dict) -> tuple:
    """Each gemm reading a loose part: a copy of the part into the stand-in first (its Alloc first)."""
    def go(stmts: tuple) -> tuple:
        out = []
        for s in stmts:
            if isinstance(s, l0.Gemm):
                for k in (s.a, s.b):
                    if k in loose:
                        r = loose[k]
                        dims = tuple(e for e in r.extents if e != 1)
                        out.append(l0.Copy(r, l0.Region(k, (l0.Const(0, "int32"),) * 2, dims, loc=s.loc), loc=s.loc))
            elif isinstance(s, (l0.For, l0.Parallel)):
                s = replace(s, body=go(s.body))
            out.append(s)
        return tuple(out)
    made = tuple(l0.Alloc(k, tuple(e for e in r.extents if e != 1), allocs[r.buffer].dtype, "shared", loc=r.loc)
                 for k, r in loose.items())
    return made + go(body)


class Cut:
    """The rewrite of one buffer cut into cells: its Alloc, its copies, the gemm parts of it."""

    def __init__(self, alloc: l0.Alloc, cuts: list, body: tuple, parts: dict):
        self.alloc, self.body, self.parts = alloc, body, parts
        self.cells = list(itertools.product(*(list(zip(c, c[1:])) for c in cuts)))
        self.lead = 0
        while self.lead < len(cuts) - 1 and all(hi - lo == 1 for lo, hi in zip(cuts[self.lead], cuts[self.lead][1:])):
            self.lead += 1
        taken = {x.name for x in walk(body) if isinstance(x, l0.Alloc)} | set(parts)
        self.names = {}
        for i, cell in enumerate(self.cells):
            n, k = f"{alloc.name}_{i}", 0
            while n in taken:
                k += 1
                n = f"{alloc.name}_{i}_{k}"
            self.names[cell] = n
        self.cell_of = {k: self.names[box_of(r)] for k, r in parts.items()
                        if r.buffer == alloc.name and box_of(r) in self.names}

    def result(self) -> tuple[tuple, str]:
        text = " ".join(f"{self.names[c]}=[{', '.join(f'{lo}:{hi}' for lo, hi in c)}]" for c in self.cells)
        return self.rewrite(self.body), text

    def rewrite(self, x: tuple) -> tuple:
        out = []
        for s in x:
            out += self.stmt(s)
        return tuple(out)

    def stmt(self, s: Any) -> list:
        name = self.alloc.name
        if isinstance(s, l0.Alloc) and s.name == name:
            return [l0.Alloc(self.names[c], tuple(hi - lo for lo, hi in c)[self.lead:], s.dtype, s.scope, loc=s.loc)
                    for c in self.cells]
        if isinstance(s, (l0.Copy, l0.AtomicAdd)) and name in (s.src.buffer, s.dst.buffer):
            return self.copies(s)
        if isinstance(s, l0.Gemm) and (s.a in self.cell_of or s.b in self.cell_of):
            return [replace(s, a=self.cell_of.get(s.a, s.a), b=self.cell_of.get(s.b, s.b))]
        if isinstance(s, (l0.For, l0.Parallel)):
            return [replace(s, body=self.rewrite(s.body))]
        return [s]

    def copies(self, s: Any) -> list:
        mine_is_src = s.src.buffer == self.alloc.name
        mine, other = (s.src, s.dst) if mine_is_src else (s.dst, s.src)
        box = [(int(st.value), int(st.value) + e) for st, e in zip(mine.starts, mine.extents)]
        moving = [d for d, e in enumerate(mine.extents) if e != 1]
        other_moving = [d for d, e in enumerate(other.extents) if e != 1]
        out = []
        for cell in self.cells:
            sub = [(max(a, c), min(b, d)) for (a, b), (c, d) in zip(box, cell)]
            if any(lo >= hi for lo, hi in sub):
                continue
            here = l0.Region(self.names[cell], tuple(l0.Const(lo - c[0], "int32") for (lo, _), c in zip(sub, cell))[self.lead:],
                             tuple(hi - lo for lo, hi in sub)[self.lead:], loc=mine.loc)
            starts, extents = list(other.starts), list(other.extents)
            for d, od in zip(moving, other_moving):
                off = sub[d][0] - box[d][0]
                starts[od] = shifted(starts[od], off)
                extents[od] = sub[d][1] - sub[d][0]
            there = l0.Region(other.buffer, tuple(starts), tuple(extents), loc=other.loc)
            src, dst = (here, there) if mine_is_src else (there, here)
            out.append(replace(s, src=src, dst=dst))
        return out


def shifted(e: l0.Expr, off: int) -> l0.Expr:
    if off == 0:
        return e
    if isinstance(e, l0.Const):
        return l0.Const(e.value + off, e.dtype, loc=e.loc)
    return l0.BinOp("+", e, l0.Const(off, "int32", loc=e.loc), loc=e.loc)
