"""L1: the grid kernel with Tenstorrent layouts and circular-buffer plans (A1, A2, A3).

  Tensor     ::= Tensor(name, shape: int*, dtype, layout: TileLayout, accessor: Accessor | None)
  TileLayout ::= TileLayout(memory, interleaving, format, padded_shape: int*, tiles: int*, page_bytes: int,
                            order: int*)      order: the dims as DRAM stores them, () as written
  Accessor   ::= Accessor(page_bytes: int, num_banks: int, is_dram: bool, cta_flags: int)
  Alloc      ::= Alloc(name, shape: int*, dtype, scope, cb: CbPlan | None)
  CbPlan     ::= CbPlan(format, page_bytes: int, block_pages: int, depth: int, why: str)
  everything else as in L0.

Delta from L0 (made by A1 infer-layout, A2 plan-circular-buffers, A3 attach-tensor-accessors):
  ~ Tensor       gains its TT layout (A1): tiled 32x32, interleaved in DRAM, data format, padded
                 shape (a ragged tensor is padded with zeros: printed "padded 100x70 -> 128x96
                 with zeros"), tile grid, page size, the order its dims are stored in (a BSHD
                 tensor copied in (S, D) blocks is stored BHSD); and later its accessor (A3)
  ~ Alloc        gains its circular-buffer plan (A2): pages of one tile, block pages, depth in blocks
  - AtomicStore  P0b made every element atomic add an AtomicAdd of a fragment
  + TileLayout   how a tensor lies in DRAM: one 32x32 tile per page, pages dealt over the banks
  + CbPlan       how an on-chip buffer becomes a circular buffer, and why it has that depth
  + Accessor     what a kernel needs to find page i of a tensor (TensorAccessorArgs)
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l0
from nanott.languages.l0 import (  # noqa: F401  (productions L1 keeps)
    Print, PrintBuffer, Attr, AtomicAdd, BinOp, Cast, Const, Copy, Fill, For, Gemm, Kernel, Let, Load, Parallel,
    Reduce, Region, Store, Select, UnOp, Var, buffers_defined_before_use)
from nanott.printing import shape


@node
class TileLayout:
    memory: Memory
    interleaving: Interleaving
    format: Format
    padded_shape: tuple[int, ...]
    tiles: tuple[int, ...]
    page_bytes: int
    order: tuple[int, ...] = ()        # the dims in the order DRAM stores them; () as written

    def __str__(self):
        stored = (f", dims stored in order ({', '.join(map(str, self.order))}) as "
                  f"{shape(self.padded_shape)}" if self.order else "")
        return (f"{self.memory} {self.interleaving}, {self.format}, {shape(self.tiles)} tiles"
                f" of {self.page_bytes} B{stored}")

    def stored(self, dims: tuple) -> tuple:
        """Per-dim values (a shape, starts) of the tensor as written, in the order DRAM stores them."""
        return tuple(dims[d] for d in self.order) if self.order else tuple(dims)


@node
class Accessor:
    page_bytes: int
    num_banks: int
    is_dram: bool
    cta_flags: int

    def __str__(self):
        return f"accessor({self.num_banks} banks, cta flags {self.cta_flags})"


@node
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    layout: TileLayout
    accessor: Accessor | None

    def __str__(self):
        return f"{self.name}: {self.dtype}[{shape(self.shape)}]"

    def describe(self) -> str:
        acc = f"; {self.accessor}" if self.accessor else ""
        pad, own = self.layout.padded_shape, self.layout.stored(self.shape)
        padding = f", padded {shape(own)} -> {shape(pad)} with zeros" if pad != own else ""
        return f"{self.name}: {self.layout}{padding}{acc}"


@node
class CbPlan:
    format: Format
    page_bytes: int
    block_pages: int
    depth: int
    why: str

    @property
    def pages(self) -> int:
        return self.block_pages * self.depth

    @property
    def bytes(self) -> int:
        return self.pages * self.page_bytes

    def __str__(self):
        return (f"cb {self.block_pages} pages x {self.depth} blocks of {self.page_bytes} B"
                f" {self.format} ({self.why})")


@node
class Alloc:
    name: str
    shape: tuple[int, ...]
    dtype: DType
    scope: Scope
    cb: CbPlan | None

    def head(self):
        plan = f"   [{self.cb}]" if self.cb else ""
        return f"{self.name} = alloc_{self.scope}({shape(self.shape)}, {self.dtype}){plan}"


Expr = Const | Var | BinOp | Load | Cast | UnOp | Select
Stmt = Alloc | Copy | AtomicAdd | Gemm | Fill | Reduce | For | Parallel | Store | Let | Print | PrintBuffer


LANG = Language("L1", sys.modules[__name__], Kernel, l0.LANG, {"Stmt": Stmt, "Expr": Expr},
                invariants=buffers_defined_before_use)
