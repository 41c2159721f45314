"""D3c split-reads-between-movers: L8 -> L8

Changes:   where the reader's step reads and multicasts two blocks, one shared along rows of cores
           and one along columns (D3b's multicasts: a rectangle of one row, or of one column), the
           column-shared block's part moves to the writer kernel, the other data-movement RISC-V:
           its reserve, its reads, its handshake and its push, under copies of the loops and lets
           around them, ahead of what the writer already does for the block (its output). The
           writer then produces that CB (the CB's producer says so) and binds the tensors it now
           reads; each mover waits on its own read barrier. The IR states it in the `movers` note.
Preserves: every page each core finds in each CB and the order of each CB's pushes; compute; the
           reader's other reads; the writer's writes, after the block's reads as before.
Why:       a Tensix core has two data-movement RISC-Vs, each with its own NoC interface: with both
           blocks on the reader, each step reads, waits and multicasts one block after the other
           on one RISC-V while the writer idles until the output. tt-metal's
           matmul_multicore_reuse_mcast gives in0 (shared along rows) to one RISC-V and in1
           (shared along columns) with the output writer to the other.
           The writer's reads of block b come before its writes of block b: the compute kernel
           needs the whole K loop's blocks before it pushes the output the writer waits for (F1's
           deadlock check runs the counts of every core against each other).
           Only where every core runs one block (as tt-metal's kernel does: one output block per
           core): with several, the writer would read block b+1's first steps only after block
           b's output has gone to DRAM, and compute would wait for both (4096^3 in 256x256x256
           blocks, 4 per core: 70.1% -> 65.0% of the ideal-cycles bound in the cycle model).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l8
from nanott.passes.d2_bind_tensor_accessors import BindTensorAccessors
from nanott.target import Target


def split_reads_between_movers(program: l8.Program, target: Target) -> l8.Program:
    reader, writer = program.kernel("reader"), program.kernel("writer")
    moved = column_blocks(reader.body)
    if not moved or any(isinstance(x, l8.COOPERATION) for x in walk(writer.body)):
        return program
    if any(w.count != 1 for w in program.work.cores):
        return program                  # the next block's reads would wait behind this one's output
    keep, give = split(reader.body, moved)
    keep = tuple(replace(s, body=used_lets(s.body, ())) if isinstance(s, l8.For) else s for s in keep)
    merged = merge(give, writer.body)
    if merged is None:
        return program
    tensors = {t.name: t for t in program.params}
    kernels = tuple(rebind(replace(k, body=keep), tensors) if k.role == "reader" else
                    rebind(replace(k, body=merged), tensors) if k.role == "writer" else k
                    for k in program.kernels)
    cbs = tuple(replace(cb, producer="writer") if cb.index in moved else cb for cb in program.cbs)
    note = l8.Attr("movers", f"the writer reads and multicasts {', '.join(f'cb{c}' for c in sorted(moved))} "
                   "(shared along columns of cores), the reader the rest", loc=program.loc)
    return replace(program, kernels=kernels, cbs=cbs, attrs=program.attrs + (note,))


def column_blocks(body: tuple) -> set[int]:
    """The CBs multicast to one column of cores in a step that also multicasts to one row."""
    out: set[int] = set()
    for loop in walk(body):
        if not isinstance(loop, l8.For):
            continue
        casts = [x for s in loop.body if isinstance(s, l8.When) for x in s.body if isinstance(x, l8.McastPages)]
        column = {m.cb for m in casts if m.rect.x0 == m.rect.x1 and m.rect.y0 != m.rect.y1}
        row = {m.cb for m in casts if m.rect.y0 == m.rect.y1 and m.rect.x0 != m.rect.x1}
        if column and row:
            out |= column
    return out


def owner(s: Any, moved: set[int], sems: set[int]) -> bool | None:
    """True if the statement belongs to a moved CB's part, False if to another's, None if shared."""
    parts = [x for x in walk(s) if isinstance(x, (l8.CbReserve, l8.CbPush, l8.NocReadPage, l8.McastPages))]
    sem_calls = [x for x in walk(s) if isinstance(x, (l8.SemSet, l8.SemWait, l8.SemInc, l8.SemSetMcast))]
    mine = {x.cb in moved for x in parts} | {x.sem in sems for x in sem_calls}
    return mine.pop() if len(mine) == 1 else None


def split(stmts: tuple, moved: set[int]) -> tuple[tuple, tuple]:
    """(what the reader keeps, what the writer takes): the moved CBs' parts, with copies of the
    loops and lets around them and of the read barrier of a step they read in."""
    sems = {x.sem for w in walk(stmts) if isinstance(w, l8.When)
            if any(isinstance(m, l8.McastPages) and m.cb in moved for m in w.body)
            for x in w.body if isinstance(x, (l8.SemWait, l8.SemSetMcast, l8.SemSet))}
    sems |= {x.sem for w in walk(stmts) if isinstance(w, l8.When)
             if any(isinstance(i, l8.SemInc) and i.sem in sems for i in w.body)
             for x in w.body if isinstance(x, l8.SemSet)}

    def go(body: tuple) -> tuple[tuple, tuple]:
        keep, give = [], []
        for s in body:
            if isinstance(s, l8.For):
                k, g = go(s.body)
                keep.append(replace(s, body=k))
                if any(not isinstance(x, l8.Let) for x in g):
                    give.append(replace(s, body=g))
            elif isinstance(s, (l8.Let, l8.NocReadBarrier)):
                keep.append(s)
                give.append(s)
            elif owner(s, moved, sems):
                give.append(s)
            else:
                keep.append(s)
        return tuple(keep), tuple(s for s in give if not isinstance(s, l8.NocReadBarrier)
                                  or any(isinstance(x, l8.NocReadPage) for x in walk(tuple(give))))
    return go(stmts)


def merge(give: tuple, writer: tuple) -> tuple | None:
    """The writer's body with the moved parts ahead of its own statements, inside its persistent
    loop (the same loop as the reader's: the same blocks), lets shared; None if the loops differ."""
    if len(give) != 1 or len(writer) != 1 or not isinstance(give[0], l8.For) or not isinstance(writer[0], l8.For):
        return None
    mine, theirs = give[0], writer[0]
    if (mine.var, mine.extent, mine.kind) != (theirs.var, theirs.extent, theirs.kind):
        return None
    lets = {s.var: s.value for s in mine.body if isinstance(s, l8.Let)}
    if any(isinstance(s, l8.Let) and lets.get(s.var, s.value) != s.value for s in theirs.body):
        return None
    own = tuple(s for s in theirs.body if not (isinstance(s, l8.Let) and s.var in lets))
    return (replace(theirs, body=used_lets(mine.body, own) + own),)


def used_lets(body: tuple, after: tuple) -> tuple:
    """body without the lets that neither it nor `after` reads (the reader's lets for its own reads)."""
    out: list = []
    for s in reversed(body):
        read = {x.name for x in walk((*out, *after)) if isinstance(x, l8.Var)}
        if not isinstance(s, l8.Let) or s.var in read:
            out.insert(0, s)
    return tuple(out)


def rebind(k: l8.DeviceKernel, tensors: dict) -> l8.DeviceKernel:
    """D2's bindings again, for the tensors the kernel now transfers, in order of first use."""
    names = list(dict.fromkeys(x.tensor for x in walk(k.body) if isinstance(x, (l8.NocReadPage, l8.NocWritePage))))
    offsets = [sum(BindTensorAccessors.cta_words(tensors[n]) for n in names[:i]) for i in range(len(names))]
    return replace(k, bindings=tuple(l8.Binding(n, o, f"{n}_addr", loc=k.loc) for n, o in zip(names, offsets)))
