"""The Rewriter's routine work: what class creation demands of a pass (a visit for every production
the output language removed or reshaped, unless it is only found inside a production the pass
rewrites whole), and `rebuild`, which turns one node into the output language's production of
the same name with some fields changed.
"""
import pytest

from nanott.ir import CheckError, walk
from nanott.languages import l5, l6, l8, l9
from nanott.passes._rewriter import Rewriter


def test_a_production_the_output_language_drops_needs_a_visit():
    with pytest.raises(TypeError, match="L9 has no TAssign: .* must define visit_TAssign"):
        class Forgetful(Rewriter, src=l8.LANG, dst=l9.LANG):
            def visit_Program(self, p):
                return p


def test_rewriting_a_tile_group_whole_covers_what_only_a_tile_group_holds():
    class Whole(Rewriter, src=l8.LANG, dst=l9.LANG, whole=("TileGroup",)):
        def visit_Program(self, p):
            return p

        def visit_TileGroup(self, g):
            return []
    assert "TAssign" in l8.LANG.reachable() and "TAssign" not in l8.LANG.reachable(frozenset({"TileGroup"}))


def test_rewriting_whole_without_a_visit_is_refused():
    with pytest.raises(TypeError, match="rewrites TileGroup whole but has no visit_TileGroup"):
        class Missing(Rewriter, src=l8.LANG, dst=l9.LANG, whole=("TileGroup",)):
            def visit_Program(self, p):
                return p


def test_rebuild_changes_the_fields_given_and_rewrites_the_others(lowered):
    program = lowered.program("gemm", "C2b")
    cb = program.cbs[0]

    class Roles(Rewriter, src=l5.LANG, dst=l6.LANG):
        def visit_CircularBuffer(self, c):
            return self.rebuild(c, producer="reader", consumer="compute")

        def visit_TileGroup(self, g):
            return self.rebuild(g, effects=())
    out = Roles().visit(cb)
    assert isinstance(out, l6.CircularBuffer) and (out.producer, out.consumer) == ("reader", "compute")
    assert (out.index, out.name, out.shape, out.dtype, out.plan, out.loc) == (
        cb.index, cb.name, cb.shape, cb.dtype, cb.plan, cb.loc)


def test_a_production_met_outside_what_is_rewritten_whole_is_a_compiler_bug(lowered):
    program = lowered.program("gemm", "D4")
    assign = next(x for x in walk(program) if isinstance(x, l5.TAssign))

    class Whole(Rewriter, src=l8.LANG, dst=l9.LANG, whole=("TileGroup",)):
        def visit_Program(self, p):
            return p

        def visit_TileGroup(self, g):
            return []
    with pytest.raises(CheckError, match="TAssign at .* outside TileGroup"):
        Whole().visit(assign)


def test_rebuild_keeps_what_it_leaves_unchanged(lowered):
    """A node whose fields all come back the same objects is itself returned (the checker's memo
    and the passes after see it again); a change makes new nodes only on the path to it."""
    program = lowered.program("gemm", "D4")

    class Nothing(Rewriter, src=l8.LANG, dst=l8.LANG):
        pass

    class Rename(Rewriter, src=l8.LANG, dst=l8.LANG):
        def visit_CircularBuffer(self, c):
            return self.rebuild(c, name=c.name + "_") if c.index == 0 else c
    assert Nothing().visit(program) is program
    out = Rename().visit(program)
    assert out is not program and out.cbs[0].name == program.cbs[0].name + "_"
    assert out.kernels is program.kernels and all(a is b for a, b in zip(out.cbs[1:], program.cbs[1:]))
