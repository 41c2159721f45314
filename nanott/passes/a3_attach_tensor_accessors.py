"""A3 attach-tensor-accessors: L1 -> L1

Changes:   every DRAM tensor gets its accessor descriptor: page size, number of banks its pages
           are dealt over, whether it lives in DRAM, and the compile-time flags word that
           TensorAccessorArgs encodes (interleaved DRAM = 2: IsDram set, Sharded clear).
Preserves: everything else; layouts, CB plans and the body are untouched.
Why:       a data-movement kernel finds page i of a tensor through a TensorAccessor: bank i % banks,
           offset (i // banks) * page size. D2 turns these descriptors into kernel arguments.
"""
from __future__ import annotations

from nanott.ir import replace
from nanott.languages import l1
from nanott.passes._rewriter import Rewriter
from nanott.target import Target

SHARDED, IS_DRAM = 1, 2       # the ArgConfig bits of an accessor's flags word (docs/reference.md §3.5)


def attach_tensor_accessors(program: l1.Kernel, target: Target) -> l1.Kernel:
    return AttachTensorAccessors(target).visit(program)


class AttachTensorAccessors(Rewriter, src=l1.LANG, dst=l1.LANG):
    def __init__(self, target: Target):
        self.target = target

    def visit_Tensor(self, t: l1.Tensor) -> l1.Tensor:
        layout = t.layout
        is_dram = layout.memory == "dram"
        flags = (IS_DRAM if is_dram else 0) | (SHARDED if layout.interleaving != "interleaved" else 0)
        banks = self.target.dram_banks if is_dram else self.target.num_cores
        return replace(t, accessor=l1.Accessor(layout.page_bytes, banks, is_dram, flags))
