"""Blocks the reader generates, for C2: values of indices alone, and the parts of a value that
read no buffer (a decay mask), each computed element by element into a CB of its own by the
reader, which alone computes functions of indices (the SFPU computes on tiles of data).

A mixin of LowerTileIntrinsics: it uses the pass's CBs (`new_cb`, `cbs`, `shapes`, `grid`) and
its tile variables.
"""
from __future__ import annotations

from nanott.backends.metalium.api import GENERATED_FUNCTIONS
from nanott.diagnostics import not_yet
from nanott.ir import NOLOC
from nanott.languages import l4, l5
from nanott.passes._tile_groups import copy_group


class GeneratedBlocks:
    generating = False                        # visiting a generated value: functions are the reader's

    def part(self, p: l4.Parallel, s: l4.Store, e, groups: list) -> l4.Load:
        """A part of a store's value that reads indices, not buffers: a float32 block the reader
        generates (into a new CB, appended to groups), loaded where the part was."""
        gen = self.new_cb(f"{self.cbs[s.cb].name}_gen", tuple(p.extents), "float32",
                          "made by the reader from indices", s.loc, depth=2)
        self.shapes[gen] = tuple(p.extents)
        groups.append(l5.GenerateToCb(gen, p.vars, p.extents, self.value_of_indices(e), loc=s.loc))
        return l4.Load(gen, tuple(l4.Var(v) for v in p.vars))

    def value_of_indices(self, e):
        """A generated element's value in L5: functions allowed (the reader computes them)."""
        self.generating = True
        try:
            return self.visit(e)
        finally:
            self.generating = False

    def generated(self, p: l4.Parallel, s: l4.Store) -> list:
        """The reader makes the block (generate_to_cb into a new CB); compute copies it into s.cb."""
        cb = self.cbs[s.cb]
        if s.indices != tuple(l4.Var(v) for v in p.vars) or cb.shape != tuple(p.extents):
            raise not_yet(f"a value of indices alone stored into {cb.name}[{', '.join(map(str, s.indices))}] "
                          f"over {'x'.join(map(str, p.extents))}", s.loc,
                          "store it into a whole 2-D buffer, indexed by the T.Parallel's variables in order")
        gen = self.new_cb(f"{cb.name}_gen", cb.shape, cb.dtype, "made by the reader from indices", s.loc,
                          depth=2)
        return [l5.GenerateToCb(gen, p.vars, p.extents, self.value_of_indices(s.value), loc=s.loc),
                copy_group(gen, s.cb, self.grid(s.cb), self.tile_vars, s.loc)]

    def visit_UnOp(self, e: l4.UnOp):
        """A function is the reader's in a generated value (C++ `exp2f`, ...), NT314 elsewhere."""
        if self.generating and e.op in GENERATED_FUNCTIONS:
            return self.generic_visit(e)
        raise not_yet(f"the function {e.op} outside an elementwise value ({e})",
                      e.loc if e.loc != NOLOC else self.where, "use T.exp and friends inside a T.Parallel")
