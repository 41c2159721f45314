"""Random inputs for packed integers: tensors whose elements a kernel reads only through bit
operations (int4 weights two to a byte: `(B_local[i, j // 2] >> 4 * (j % 2)) & 0xF`).

Integer inputs are small by default (api.INT_RANGE), so that products and sums stay exact; but a
byte that is only ever shifted and masked holds its data in every bit, and small values would
leave the high nibble 0. Found by analysis of the L0 kernel: a tensor copied (through any chain
of T.copy) into on-chip buffers whose every element read is an operand of `>>`, `<<`, `&`, `|` or
`^` gets the whole range of its dtype.
"""
from __future__ import annotations

from typing import Any

from nanott.ir import walk
from nanott.languages import l0

BIT_OPS = ("&", "|", "^", "<<", ">>")


def bit_fields(kernel: Any) -> set[str]:
    """The tensors a kernel reads only through bit operations."""
    nodes = [x for k in getattr(kernel, "launches", (kernel,)) for x in walk(k.body)]
    copies: dict[str, set[str]] = {}                 # buffer -> the buffers copied from it
    under_bits: set[int] = set()                     # the loads that are operands of a bit operation
    for x in nodes:
        if isinstance(x, l0.Copy):
            copies.setdefault(x.src.buffer, set()).add(x.dst.buffer)
        if isinstance(x, l0.BinOp) and x.op in BIT_OPS:
            under_bits |= {id(y) for y in (x.lhs, x.rhs) if isinstance(y, l0.Load)}
    reads: dict[str, list[bool]] = {}                # buffer -> per element read: under a bit op?
    for x in nodes:
        if isinstance(x, l0.Load):
            reads.setdefault(x.buffer, []).append(id(x) in under_bits)
    out = set()
    for p in kernel.params:
        reached, todo = {p.name}, [p.name]
        while todo:
            for d in copies.get(todo.pop(), set()) - reached:
                reached.add(d)
                todo.append(d)
        element_reads = [r for b in reached for r in reads.get(b, [])]
        if element_reads and all(element_reads):
            out.add(p.name)
    return out
