"""P0b stage-dram-elements: L0 -> L0

Changes:   a T.Parallel that reads or writes elements of a DRAM tensor gets on-chip buffers and
           T.copy statements, so that after it DRAM appears only in copies, which move whole tiles.
           First, the step element_rows (_p0b_element_rows.py): a scratch tensor (T.alloc_global)
           that a T.Parallel stores one value per row into a column of, under an `if` (GQA
           decoding's `glse[b, hid * 4 + i, sid] = logsum[i]`), gets a DRAM row per element, the
           tensor one dim longer with the element repeated along it; its stores become row
           scatters and its broadcast reads copies of rows. Then:
           - an element read whose index is, along each dim, `start + v` (v one of the loop's
             variables) or a value of none of them (`W[k, j]`): the region those indices cover is
             copied into a new shared buffer before the loop, and the loop reads the buffer;
           - an element written that way (`Mean[bx * blk_m + i] = m[i]`): the loop stores into a
             new fragment, copied out to that region after the loop; an element added into
             (`T.atomic_add(C[by * bm + i, bx * bn + j], C_local[i, j])`, an AtomicStore) the same,
             with a float32 fragment added into the region (an AtomicAdd) after the loop;
           - an element read by no variable of the loop (`Sinks[by]`, `dA[b, h, c, n - 1]`: one value
             for the whole block): the copy brings the 32 elements of the tile row holding it
             (`Sinks[(by // 32) * 32 +32]`, `dA[b, h, c, ((n - 1) // 32) * 32 +1x1x1x32]`: the
             other dims at their index) and compute picks it out: a mask that is 1 at column
             `by % 32` and 0 elsewhere (a value of indices, which the reader makes), times that row,
             summed along the row (T.reduce_sum) into a column vector holding the element in every
             row. The loop reads the vector at its first variable. In a 1-D T.Parallel whose
             vectors lie along tile rows (_p0b_vector_way.py), the same transposed: a row vector.
             A tensor another launch of the program copies in lines (the split kernel's glse
             column over heads) is picked along those lines, so both launches store it alike (A1).
           - a float read from DRAM into a scalar that elementwise compute reads (`lse = glse[b, h, k]`,
             `m = T.max(m, glse[b, h, k])`, `scale = T.exp2(lse - logsum)`, then `o[i] += p[i] *
             scale`: the combine step of split-KV decoding): each such let becomes a float32 vector of
             the reading T.Parallel's extent, set by a T.Parallel (a T.fill for a constant) and read
             as `x_vec[i]`, so the element is picked as above (_p0b_scalars.py).
           - a run of at most 32 elements along the last dim from a start read from DRAM, not
             provably a multiple of 32 (`w[m_start + i]`: fused MoE's routing weight of each row,
             m_start a group's offset): the two tile rows the run spans are copied, and compute
             shifts it into place the same way, row r's mask 1 at the column of element m_start + r
             in whichever of the two holds it (_p0b_pick.py's shift).
           - a T.copy from one DRAM tensor to another (flash attention backward's postprocess:
             dQ's float32 accumulator into dQ): read into a shared block, copied into a fragment
             of the destination's dtype where the dtypes differ (compute rounds it), written out.
           A T.Parallel that fills a block with rows of a DRAM tensor picked by index arithmetic
           (a convolution's im2col: nanott/row_gather.py) is left as it is: C1 makes it a read of rows;
           so is one that writes a block's rows where a condition on the row holds (an `if` in the
           loop, varlen attention's last store): C1 makes it a write of rows; when the value written
           is an expression (`o[i, j] * w[i]`, fused MoE's last store), the loop first stores it into
           a fragment of the tensor's dtype, whose rows are written. Any other store into DRAM under
           a run-time `if` is NT302.
           Any other element access of a DRAM tensor (an index mixing variables, a tensor both read
           and written element by element) is NT315, naming it.
Preserves: every value. A staged read reads the same elements; a staged write rounds to the
           tensor's dtype where the store did and the copy moves it exactly; a picked element is
           x * 1 + 0 + ... + 0 in float32, exactly x, as long as the rest of its tile row is finite
           (0 * inf would be NaN; the tensor's padding is zeros).
           A scalar made a vector holds in each element the float32 value the let held.
           P0b runs before P0a, which merges one-row blocks with the copies P0b makes.
Why:       a Tensix core reads DRAM through the NoC in whole tiles into circular buffers, and its
           compute engines see only those tiles: they can neither address DRAM nor index a tile at a
           position known only at run time. The reader fetches the tile that holds what is needed,
           and the IR says so from here on.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import Launches, per_launch, replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine, build, divide, subst
from nanott.passes._names import NameSupply, names_in
from nanott.passes._p0b_dram_copies import copy, through_l1
from nanott.passes._p0b_element_rows import element_rows
from nanott.passes._padding import stored_orders
from nanott.passes._p0b_pick import pick, shift
from nanott.passes._p0b_scalars import vector_scalars
from nanott.passes._rewriter import Rewriter
from nanott.row_gather import refuse_unscattered, row_gather, row_scatter, through_fragment
from nanott.target import TILE, Target

HINT = ("index each dim of a DRAM tensor by `start + v` (v a T.Parallel variable, each used once) or by "
        "a value of none; or T.copy the region into a shared buffer yourself; a block gathered from rows "
        "of the tensor (a convolution's im2col) needs its last index `c + j` with the block's width "
        "dividing each // and % of it (block_K dividing the channels), and its other indices free of j")


def stage_dram_elements(program: l0.Kernel | Launches, target: Target) -> l0.Kernel | Launches:
    """Each launch staged; a picked element of a tensor that a launch of several copies in lines
    (once staged: the split kernel's element stores into glse become a copy of a column) is read
    along those lines (A1's stored order: one DRAM buffer, one layout)."""
    if not isinstance(program, Launches):
        return stage_launch(program, {})
    staged = per_launch(stage_launch, program := element_rows(program), {})
    lines = {t: order[-1] for t, order in stored_orders(staged.launches).items() if order}
    return per_launch(stage_launch, program, lines) if lines else staged


def stage_launch(program: l0.Kernel, line_dims: dict[str, int]) -> l0.Kernel:
    dram = {p.name: p for p in program.params}
    program = vector_scalars(program, dram, NameSupply(names_in(program)))
    if not any(isinstance(x, l0.AtomicStore) or isinstance(x, (l0.Load, l0.Store)) and x.buffer in dram
               or isinstance(x, l0.Copy) and {x.src.buffer, x.dst.buffer} <= dram.keys() for x in walk(program.body)):
        return program
    return StageDramElements(dram, NameSupply(names_in(program)), line_dims).visit(program)


class StageDramElements(Rewriter, src=l0.LANG, dst=l0.LANG):
    def __init__(self, dram: dict[str, l0.Tensor], names: NameSupply, line_dims: dict[str, int]):
        self.dram, self.names, self.allocs, self.line_dims = dram, names, [], line_dims
        self.scratch: dict[tuple, str] = {}    # a pick's buffers, by role and shape (_p0b_pick.py)

    def visit_Kernel(self, k: l0.Kernel) -> l0.Kernel:
        self.kernel, self.data = k, {}         # data: the kernel's lets, inlined (what reads DRAM)
        for let in (x for x in walk(k.body) if isinstance(x, l0.Let)):
            self.data[let.var] = subst(let.value, self.data)
        body = self.visit(k.body)
        return replace(k, body=(*self.allocs, *body))

    def visit_Parallel(self, p: l0.Parallel) -> list:
        if (row_gather(p, set(self.dram)) or row_scatter(p, set(self.dram))) is not None: return [p]  # noqa: E701 (C1's)
        if split := through_fragment(p, self.dram, self.alloc): return [*self.visit_Parallel(split[0]), split[1]]  # noqa
        self.before: list = []
        self.picks_here = 0                    # the picks of this loop so far (each its own vector)
        self.after: list = []
        self.staged: dict[Any, Any] = {}       # (tensor, region) -> how the loop reads it
        self.lets: dict[str, Any] = {}
        body = tuple(self.stmt(s, p) for s in p.body)
        written = {s.buffer for s in p.body if isinstance(s, (l0.Store, l0.AtomicStore)) and s.buffer in self.dram}
        if both := written & {key[0] for key in self.staged}:
            raise NanottError("NT315", f"this T.Parallel reads and writes elements of the DRAM tensor "
                              f"{sorted(both)[0]}", p.loc, "read it from one buffer and write another")
        return [*self.before, replace(p, body=body), *self.after]

    def visit_Copy(self, c: l0.Copy) -> Any:
        """DRAM to DRAM: through L1 (_p0b_dram_copies.py)."""
        return through_l1(c, self.dram, self.alloc) or c

    def stmt(self, s: Any, p: l0.Parallel) -> Any:
        if isinstance(s, l0.AtomicStore):
            return self.atomic(s, p)
        if not isinstance(s, (l0.Let, l0.Store)):
            return self.visit(s)
        if isinstance(s, l0.Let):
            value = self.expr(s.value, p)
            self.lets[s.var] = subst(value, self.lets)
            return replace(s, value=value)
        refuse_unscattered(s, self.dram, p)
        value = self.expr(s.value, p)
        if s.buffer not in self.dram:
            return replace(s, indices=self.expr(s.indices, p), value=value)
        starts, extents, index, shape = self.region(s, p)
        if len(index) != len(p.vars):
            raise NanottError("NT315", f"every iteration of this T.Parallel writes {show(s)}: its index leaves "
                              f"out some of {', '.join(p.vars)}", s.loc, HINT)
        buf = self.alloc(f"{s.buffer}_frag", shape, self.dram[s.buffer].dtype, "fragment", s.loc)
        self.after.append(copy(buf, shape, s.buffer, starts, extents, s.loc, out=True))
        return l0.Store(buf, index, value, loc=s.loc)

    def atomic(self, s: l0.AtomicStore, p: l0.Parallel) -> l0.Store:
        """C[start + i, ...] += v: the loop stores v into a float32 fragment, added in after it."""
        value = self.expr(s.value, p)
        starts, extents, index, shape = self.region(s, p)
        if len(index) != len(p.vars):
            raise NanottError("NT315", f"every iteration of this T.Parallel adds into {show(s)}: its index "
                              f"leaves out some of {', '.join(p.vars)}", s.loc, HINT)
        buf = self.alloc(f"{s.buffer}_add", shape, "float32", "fragment", s.loc)
        c = copy(buf, shape, s.buffer, starts, extents, s.loc, out=True)
        self.after.append(l0.AtomicAdd(c.src, c.dst, loc=s.loc))
        return l0.Store(buf, index, value, loc=s.loc)

    def visit_AtomicStore(self, s: l0.AtomicStore):
        raise NanottError("NT304", f"T.atomic_add of one element ({show(s)}) outside a T.Parallel is not "
                          "supported by nanott yet", s.loc, "add a block: T.atomic_add(C[by * bm, bx * bn], C_local), "
                          "or add elements inside a T.Parallel")

    def expr(self, e: Any, p: l0.Parallel) -> Any:
        if isinstance(e, tuple):
            return tuple(self.expr(x, p) for x in e)
        if isinstance(e, l0.Load) and e.buffer in self.dram:
            return self.read(e, p)
        if isinstance(e, (l0.BinOp, l0.Cast, l0.UnOp, l0.Select, l0.Load)):
            return replace(e, **{f: self.expr(getattr(e, f), p) for f in e.__dataclass_fields__ if f != "loc"})
        return e

    def read(self, e: l0.Load, p: l0.Parallel) -> l0.Load:
        starts, extents, index, shape = self.region(e, p)
        if self.from_data(starts, extents):
            key = (e.buffer, starts, extents)
            if key not in self.staged:
                self.staged[key] = shift(self, e, p, starts[:-1], starts[-1], extents[-1])
            return l0.Load(self.staged[key], index, loc=e.loc)
        if index:
            key = (e.buffer, starts, extents)
            if key not in self.staged:
                buf = self.alloc(f"{e.buffer}_shared", shape, self.dram[e.buffer].dtype, "shared", e.loc)
                self.before.append(copy(buf, shape, e.buffer, starts, extents, e.loc, out=False))
                self.staged[key] = buf
            return l0.Load(self.staged[key], index, loc=e.loc)
        if (key := (e.buffer, starts)) not in self.staged:
            self.staged[key] = pick(self, e, p)
        return l0.Load(self.staged[key], (l0.Var(p.vars[0], loc=e.loc),), loc=e.loc)

    def from_data(self, starts: tuple, extents: tuple) -> bool:
        """Whether a region is a run of at most 32 elements along the tensor's last dim (one each along
        the others) from a start read from DRAM, not provably a multiple of 32: a shift's."""
        start = subst(subst(starts[-1], self.lets), self.data)
        return (all(n == 1 for n in extents[:-1]) and 1 < extents[-1] <= TILE and divide(start, TILE) is None
                and any(isinstance(x, l0.Load) and x.buffer in self.dram for x in walk(start)))

    def region(self, x: l0.Load | l0.Store | l0.AtomicStore, p: l0.Parallel) -> tuple[tuple, tuple, tuple]:
        """(starts, extents) of the region x's indices cover, and the loop's index into the buffer that
        stages it and that buffer's shape (the extents of the dims a variable indexes, in order)."""
        starts, extents, index, shape = [], [], [], []
        extent_of = dict(zip(p.vars, p.extents))
        for e in subst(x.indices, self.lets):
            terms, const = affine(e)
            found = [(a, k) for a, k in terms if any(isinstance(v, l0.Var) and v.name in extent_of for v in walk(a))]
            if not found:
                starts.append(e)
                extents.append(1)
                continue
            var = found[0][0]
            if len(found) > 1 or not isinstance(var, l0.Var) or found[0][1] != 1 or var in index:
                raise NanottError("NT315", f"the index of {show(x)} is not `start + v` along each dim, "
                                  f"with each T.Parallel variable v used once", x.loc, HINT)
            starts.append(build([(a, k) for a, k in terms if a != var], const))
            extents.append(extent_of[var.name])
            shape.append(extent_of[var.name])
            index.append(l0.Var(var.name, loc=x.loc))
        if len(index) > 2:
            raise NanottError("NT315", f"{show(x)} covers a block of more than two dims", x.loc, HINT)
        return tuple(starts), tuple(extents), tuple(index), tuple(shape)

    def reused(self, key: tuple, base: str, shape: tuple, dtype: str, scope: str, loc) -> str:
        """The buffer of `key` a pick made before (its row, mask, product: used up within the pick),
        else a new one."""
        return self.scratch.get(key) or self.scratch.setdefault(key, self.alloc(base, shape, dtype, scope, loc))

    def alloc(self, base: str, shape: tuple, dtype: str, scope: str, loc) -> str:
        name = self.names.fresh(base)
        self.allocs.append(l0.Alloc(name, tuple(shape), dtype, scope, loc=loc))
        return name


def show(x: l0.Load | l0.Store | l0.AtomicStore) -> str:
    return f"{x.buffer}[{', '.join(map(str, x.indices))}]"
