"""P0a's analysis: is a grid of blocks smaller than a tile a grid of independent rows?

A kernel qualifies along grid dim d (block index b) when:
  - b appears only as the start `b * m + c` of DRAM copies of m rows into (or out of) on-chip buffers
    of m rows, along the dim that is the buffer's first (a vector may fill a column), m < 32 dividing
    32 (TileLang's norms and casts: `T.copy(A[bx * blk_m, 0], A_shared)`); the offset c is the same
    for every block along d (it uses neither b nor a value computed from b: the grouped cast's
    `row_offset`, a sum of group sizes read from DRAM), so merged blocks read consecutive rows;
  - or, inside a T.Parallel over the rows of row buffers (first variable i), as the tensor row
    `b * m + i + c` (a row mask: `T.if_then_else(row * blk_m + i < n, ...)`): the rows a block
    holds, numbered in the tensor, which a merged block numbers `b * 32 + i + c`;
  - the on-chip side of each such copy, and every on-chip buffer of first dim m ("row buffers"),
    holds those rows: copies move whole row blocks between row buffers and those DRAM rows only;
  - no operation mixes rows: reductions of a row buffer run along dim 1 into a row buffer; a
    gemm into a row buffer takes a row buffer as A (untransposed) and a non-row buffer as B; a
    T.Parallel touching row buffers has m as its first extent, indexes every row buffer by its
    first variable in dim 0, uses that variable nowhere else, and stores only into row buffers;
    nothing outside a T.Parallel reads one element of a row buffer.
`why_not` says which rule a kernel breaks (for A1's NT111 hint), or None when it qualifies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nanott.ir import walk
from nanott.languages import l0
from nanott.passes._affine import affine
from nanott.passes._p0a_tensor_rows import depends_on, map_tensor_rows, uses_any
from nanott.target import TILE


@dataclass(frozen=True)
class RowBlocks:
    dim: int                 # the grid dim whose blocks merge
    var: str                 # its block index
    rows: int                # m, the rows of one block
    buffers: frozenset[str]  # the row buffers
    varying: frozenset[str]  # b and the names whose values depend on it (no part of an offset c)

    @property
    def factor(self) -> int:
        return TILE // self.rows


def row_blocks(k: l0.Kernel) -> RowBlocks | None:
    """The first grid dim along which the kernel's blocks are independent rows, or None."""
    for d, b in enumerate(k.block_vars):
        found = candidate(k, d, b)
        if isinstance(found, RowBlocks):
            return found
    return None


def why_not(k: l0.Kernel) -> str | None:
    """The first rule the kernel breaks along a grid dim with blocks of fewer than 32 rows."""
    reasons = [c for d, b in enumerate(k.block_vars) if isinstance(c := candidate(k, d, b), str)]
    return reasons[0] if reasons else None


def candidate(k: l0.Kernel, d: int, b: str) -> RowBlocks | str | None:
    """RowBlocks, a reason (str) when b's blocks are small rows that still cannot merge, or None."""
    dram = {p.name for p in k.params}
    shapes = {s.name: s.shape for s in walk(k.body) if isinstance(s, l0.Alloc)}
    varying = depends_on(k.body, b)
    starts = list(row_starts(k.body, b, dram, shapes, varying))
    sizes = {m for m in starts if m}
    if len(sizes) != 1 or (m := sizes.pop()) >= TILE:
        return None
    if 0 in starts:
        return f"{b} is used other than as the start of {m}-row copies"
    if TILE % m:
        return f"blocks of {m} rows do not divide the 32 rows of a tile"
    rows = frozenset(name for name, shape in shapes.items() if shape[0] == m)
    plan = RowBlocks(d, b, m, rows, varying)
    k = map_tensor_rows(k, plan, lambda p, terms, const: l0.Const(0, "int32"))    # allowed: hidden
    on_chip = [s for r in regions(k.body) if r.buffer not in dram for s in r.starts]
    if other := next((x for x in on_chip + other_exprs(k.body) if uses(x, b)), None):
        return f"{b} is used in {other}, other than as the start of {m}-row copies"
    inside = {id(x) for p in walk(k.body) if isinstance(p, l0.Parallel) for x in walk(p.body)}
    problem = next((p for s in walk(k.body) if id(s) not in inside and (p := mixes_rows(s, plan, dram))), None)
    return problem or plan


def row_starts(body: tuple, b: str, dram: set[str], shapes: dict[str, tuple], varying: frozenset[str]):
    """Per use of b in a DRAM copy's start: m when it starts the m rows of the on-chip side's
    first dim (its dims align with the region's last ones), else 0."""
    for s in walk(body):
        if not isinstance(s, (l0.Copy, l0.AtomicAdd)):
            continue
        for r, o in ((s.src, s.dst), (s.dst, s.src)):
            if r.buffer not in dram:
                continue
            row = first_dim(tuple(r.extents), shapes.get(o.buffer, tuple(r.extents)))
            for dim, (start, n) in enumerate(zip(r.starts, r.extents)):
                if uses(start, b):
                    m = row_start(start, b, n, varying)
                    yield m if dim == row and o.buffer in shapes and shapes[o.buffer][0] == m else 0


def first_dim(extents: tuple[int, ...], shape: tuple[int, ...]) -> int:
    """The region dim that holds the on-chip buffer's first dim: the buffer's dims align with the
    region's last ones, or else with its dims of more than one element (a vector written into a
    column, `X_amax[b * m, g +m x 1]`)."""
    row = len(extents) - len(shape)
    wide = [d for d, n in enumerate(extents) if n != 1]
    if extents[row:] != tuple(shape) and len(wide) == len(shape):
        return wide[0]
    return row


def row_start(start: Any, b: str, extent: int, varying: frozenset[str]) -> int:
    """m when `start` is b * m + c (c of no value of b) and the copy moves m along that dim, else 0."""
    terms, _ = affine(start)
    rest = [a for a, _ in terms if a != l0.Var(b)]
    if (l0.Var(b), extent) in terms and not any(uses_any(a, varying) for a in rest):
        return extent
    return 0


def mixes_rows(s: Any, plan: RowBlocks, dram: dict[str, int]) -> str | None:
    rows = plan.buffers
    match s:
        case l0.Copy(src, dst) | l0.AtomicAdd(src, dst):
            sides = [r.buffer in rows for r in (src, dst)]
            moved = [r.buffer in dram and uses(r.starts, plan.var) for r in (src, dst)]
            if any(sides) and not all(a or m for a, m in zip(sides, moved)):
                return f"{src.buffer} -> {dst.buffer} moves rows to or from a buffer that does not hold them"
            if any(sides) and any(r.buffer in rows and r.extents[0] != plan.rows for r in (src, dst)):
                return f"{src.buffer} -> {dst.buffer} moves part of a block's rows"
        case l0.Reduce(_, src, dst, dim, _) if src in rows or dst in rows:
            if not (src in rows and dst in rows and dim == 1):
                return f"reduce {src} -> {dst} along dim {dim} mixes rows"
        case l0.Gemm(a, b, c, ta, _, _) if rows & {a, b, c}:
            if not (c in rows and a in rows and b not in rows and not ta):
                return f"gemm {c} = {a} @ {b} mixes rows"
        case l0.Parallel(vars, extents, body) if rows & {x.buffer for x in walk(body) if is_access(x)}:
            return parallel_mixes_rows(vars, extents, body, plan)
        case l0.Let(_, value) if rows & {x.buffer for x in walk(value) if isinstance(x, l0.Load)}:
            return f"one element of a row buffer is read outside T.Parallel ({value})"
    return None


def parallel_mixes_rows(vars: tuple, extents: tuple, body: tuple, plan: RowBlocks) -> str | None:
    """A T.Parallel over rows: its first variable picks the row of row buffers, and nothing else."""
    i = l0.Var(vars[0])
    if extents[0] != plan.rows:
        return f"a T.Parallel over {extents} touches row buffers but does not run over their rows"
    rows = [x for x in walk(body) if is_access(x) and x.buffer in plan.buffers]
    if any(x.indices[0] != i for x in rows):
        return f"a row buffer is indexed by another row than {i} in a T.Parallel"
    if sum(isinstance(v, l0.Var) and v == i for v in walk(body)) != len(rows):
        return f"the row index {i} is used other than to pick a row of a row buffer"
    if any(isinstance(x, l0.Store) and x.buffer not in plan.buffers for x in walk(body)):
        return "a T.Parallel over rows stores into a buffer that does not hold rows"
    return None


def is_access(x: Any) -> bool:
    return isinstance(x, (l0.Load, l0.Store))


def uses(x: Any, name: str) -> bool:
    return uses_any(x, {name})


def regions(body: tuple) -> list[l0.Region]:
    return [x for x in walk(body) if isinstance(x, l0.Region)]


def other_exprs(body: tuple) -> list[Any]:
    """The expressions of the body that are no region start: loop extents, values and indices."""
    out: list[Any] = []
    for s in walk(body):
        match s:
            case l0.For(_, extent, _, _, _):
                out.append(extent)
            case l0.Store(_, indices, value):
                out += [*indices, value]
            case l0.Let(_, value) | l0.Fill(_, value):
                out.append(value)
    return out
