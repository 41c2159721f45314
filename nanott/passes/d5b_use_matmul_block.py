"""D5b use-matmul-block: L9 -> L9

Changes:   a loop of matmul_tiles over the tiles of an output subblock becomes one matmul_block
           call. The loop (`for j in 0..n`, lets, `matmul_tiles cbA[a(j)], cbB[b(j)] -> dst[d(j)]
           +=`, as D5 vectorises a GEMM's tile group) qualifies when, for some ct dividing n and
           every j = r * ct + c, d(j) = d(0) + j, b(j) = b(0) + c and a(j) = a(0) + r * kt: the
           subblock is rt = n / ct rows of ct tiles, the A tiles of its rows kt apart in their CB,
           the B tiles of its columns adjacent, checked by running the indices for every j at
           several values of the loops around (not from names). The call is
           `matmul_block(cbA, cbB, a(0), b(0), d(0), transpose, ct, rt, kt)` and its init
           `mm_block_init_short(cbA, cbB, transpose, ct, rt, kt)`, placed again by D4's placement
           (the init model knows it sets the FPU slot). A transposed B (in1) keeps matmul_tiles.
Preserves: every number, bit for bit: each DST tile receives the same products in the same
           order (matmul_block is DST[d + r * ct + c] += A[a + r * kt] @ B[b + c],
           docs/reference.md §4.6); the CB protocol, the reader and the writer.
Why:       matmul_tiles unpacks both operand tiles for every output tile; matmul_block holds one
           tile of one operand and streams the other across the subblock (tt-llk
           `_llk_unpack_AB_matmul_`: per row of the subblock one held tile and ct streamed ones),
           so a 2x2 subblock unpacks 6 tiles per K step instead of 8: the unpacker, not the
           matrix engine, bounds a bf16 GEMM at HiFi2 (docs/reference.md §9).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import replace, walk
from nanott.languages import l9
from nanott.passes._affine import affine, build, divide
from nanott.passes._dst_pages import evaluate, subst
from nanott.passes.d5a_keep_accumulators_in_dst import place_inits
from nanott.sim.engine import formats_of
from nanott.target import Target

SAMPLES = (0, 1, 2, 5)          # values the loops around are run at, to check the index shapes


def use_matmul_block(program: l9.Program, target: Target) -> l9.Program:
    compute = program.kernel("compute")
    body = blocks(compute.body)
    if body == compute.body:
        return program
    body = place_inits(body, formats_of(program))
    return replace(program, kernels=tuple(replace(k, body=body) if k is compute else k for k in program.kernels))


def blocks(stmts: tuple) -> tuple:
    out = []
    for s in stmts:
        if isinstance(s, l9.For):
            block = as_block(s)
            out.append(block if block is not None else replace(s, body=blocks(s.body)))
        else:
            out.append(s)
    return tuple(out)


def as_block(loop: l9.For) -> l9.MatmulBlock | None:
    """The matmul_block call doing what `loop` does, or None."""
    *lets, mm = loop.body
    if not (isinstance(mm, l9.MatmulTiles) and not mm.transpose and isinstance(loop.extent, l9.Const)
            and all(isinstance(x, l9.Let) for x in lets) and loop.extent.value > 1):
        return None
    values: dict[str, Any] = {}
    for x in lets:
        values[x.var] = subst(x.value, values)
    a, b, d = (subst(e, values) for e in (mm.a_index, mm.b_index, mm.dst))
    n, j = loop.extent.value, loop.var
    outer = sorted({x.name for e in (a, b, d) for x in walk(e) if isinstance(x, l9.Var)} - {j})
    shape = None
    for sample in SAMPLES:
        env = dict.fromkeys(outer, sample)
        try:
            rows = [tuple(evaluate(e, {**env, j: i}) for e in (a, b, d)) for i in range(n)]
        except KeyError:
            return None
        found = fits(rows)
        if found is None or shape not in (None, found):
            return None
        shape = found
    rt, ct, kt = shape
    at0 = {j: l9.Const(0, "int32")}
    a0, b0, d0 = (tidy(fold(subst(e, at0))) for e in (a, b, d))
    return l9.MatmulBlock(mm.a_cb, mm.b_cb, a0, b0, d0, rt, ct, kt, loc=mm.loc)


def fits(rows: list[tuple[int, int, int]]) -> tuple[int, int, int] | None:
    """(rt, ct, kt) when row j is (a0 + r * kt, b0 + c, d0 + j) for j = r * ct + c; else None."""
    n, (a0, b0, d0) = len(rows), rows[0]
    ct = next((i for i in range(1, n) if rows[i][0] != a0), n)
    if n % ct:
        return None
    rt = n // ct
    kt = rows[ct][0] - a0 if rt > 1 else 1
    want = [(a0 + (i // ct) * kt, b0 + i % ct, d0 + i) for i in range(n)]
    return (rt, ct, kt) if rows == want and kt > 0 else None


def tidy(e: Any) -> Any:
    """e rebuilt as a sum of terms, the left side of each `//` and `%` in it too: ((sb * 4) + 0) // 8
    is (sb * 4) // 8."""
    terms, const = affine(e)
    return build([(replace(a, lhs=tidy(a.lhs)) if isinstance(a, l9.BinOp) and a.op in ("//", "%") else a, k)
                  for a, k in terms], const)


def fold(e: Any) -> Any:
    """e with every subexpression free of variables computed: ((0 // 2) + ki) is ki."""
    if not any(isinstance(x, l9.Var) for x in walk(e)):
        return l9.Const(evaluate(e, {}), "int32")
    if not isinstance(e, l9.BinOp):
        return e
    e = replace(e, lhs=fold(e.lhs), rhs=fold(e.rhs))
    if e.op in ("//", "%") and isinstance(e.rhs, l9.Const) and e.rhs.value > 0:
        terms, const = affine(e.lhs)
        if all(c % e.rhs.value == 0 for _, c in terms) and 0 <= const < e.rhs.value:
            quotient = divide(build(terms, 0), e.rhs.value)         # (n * x + r) // n = x, % n = r
            return quotient if e.op == "//" else l9.Const(const, "int32")
    return e
