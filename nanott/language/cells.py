"""Scalar cells: an on-chip buffer of one element that holds one value, made the value itself.

TileLang kernels keep a scalar in a one-element fragment (`D_local = T.alloc_fragment((1), f32)`,
`D_local[0] = D[bz]`, then `acc_o[i, j] += x[i, j] * D_local[0]` in a T.Parallel): on a GPU a
register. A Tensix buffer is whole 32x32 tiles, so a block of one element would be a tile of 1023
elements of nothing (NT111). When analysis shows the buffer is only a name for one value, P0 puts
the value in place of every read instead, and the kernel records the choice as
`scalar_cells = D_local: D[bz]`. A buffer qualifies when

  - every dim of it is 1, and every access to it is an element read or write at index 0 (no copy,
    fill, reduction or GEMM names it);
  - it is written once, by a store at the kernel's top level, and read only after that store;
  - the value reads no on-chip buffer, no DRAM tensor the kernel writes and no scalar the kernel
    reassigns: it means the same wherever it is read.

A DRAM element read that way (`D[bz]`, one element per block) is then what P0b stages as for any
element read in a T.Parallel. Any other one-element buffer is left as it is (A1 reports NT111).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import Launches, replace, walk
from nanott.languages import l0
from nanott.language.predicate import subst_nodes


def scalar_cells(program: Any) -> Any:
    """The program with each qualifying one-element buffer's value in place of its reads."""
    if isinstance(program, Launches):
        return replace(program, launches=tuple(scalar_cells(k) for k in program.launches))
    cells = {}
    for s in program.body:
        if isinstance(s, l0.Alloc) and s.scope != "global" and all(n == 1 for n in s.shape):
            value = cell_value(program, s)
            if value is not None:
                cells[s.name] = value
    if not cells:
        return program
    reads = {l0.Load(name, zeros(program, name)): value for name, value in cells.items()}
    body = tuple(subst_nodes(s, reads) for s in program.body
                 if not (isinstance(s, (l0.Alloc, l0.Store)) and _name(s) in cells))
    notes = tuple(l0.Attr("scalar_cells", f"{name}: {value}", loc=program.loc) for name, value in cells.items())
    attrs = tuple(sorted((*program.attrs, *notes), key=lambda a: (a.key, a.value)))
    return replace(program, body=body, attrs=attrs)


def cell_value(k: l0.Kernel, a: l0.Alloc) -> l0.Expr | None:
    """The value the one-element buffer `a` names, or None when it is not only a name for a value."""
    index = tuple(l0.Const(0, "int32") for _ in a.shape)
    uses = [x for x in walk(k.body) if a.name in l0.buffer_names(x) or (isinstance(x, l0.Region) and x.buffer == a.name)]
    if any(not isinstance(x, (l0.Load, l0.Store)) or tuple(x.indices) != index for x in uses):
        return None
    stores = [s for s in k.body if isinstance(s, l0.Store) and s.buffer == a.name]
    if len(stores) != 1 or sum(isinstance(x, l0.Store) for x in uses) != 1:
        return None
    store = stores[0]
    before = k.body[:k.body.index(store)]
    if any(isinstance(x, l0.Load) and x.buffer == a.name for x in walk(before)):
        return None
    on_chip = {x.name for x in walk(k.body) if isinstance(x, l0.Alloc)}
    updated = {x.var for x in walk(k.body) if isinstance(x, l0.Let) and x.update}
    read = {x.buffer for x in walk(store.value) if isinstance(x, l0.Load)}
    named = {x.name for x in walk(store.value) if isinstance(x, l0.Var)}
    if read & (on_chip | written(k)) or named & updated:
        return None
    return store.value


def written(k: l0.Kernel) -> set[str]:
    """The buffers and tensors the kernel writes (copies, stores, atomic adds, fills)."""
    out = set()
    for x in walk(k.body):
        if isinstance(x, (l0.Copy, l0.AtomicAdd)):
            out.add(x.dst.buffer)
        elif isinstance(x, (l0.Store, l0.AtomicStore, l0.Fill)):
            out.add(x.buffer)
    return out


def zeros(k: l0.Kernel, name: str) -> tuple[l0.Expr, ...]:
    a = next(s for s in k.body if isinstance(s, l0.Alloc) and s.name == name)
    return tuple(l0.Const(0, "int32") for _ in a.shape)


def _name(s: Any) -> str:
    return s.name if isinstance(s, l0.Alloc) else s.buffer
