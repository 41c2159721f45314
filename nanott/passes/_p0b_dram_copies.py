"""A T.copy from one DRAM tensor to another, for P0b: through an on-chip block.

TileLang's flash attention backward ends with a postprocess kernel that is one copy, dQ's float32
accumulator into dQ in float16, DRAM to DRAM: a GPU's threads load and store the elements. A Tensix
core moves DRAM only into and out of circular buffers, and only its compute engines change a
format, so the copy becomes three: the region read into a shared block of the source's dtype, that
block copied into a fragment of the destination's dtype (compute rounds it, as the store would)
where the dtypes differ, and the block written out. The writer then writes what the reader read,
or what compute rounded. Blocks of more than two dims stay a copy C1 declines (NT314).
Also `copy`: the T.copy between a whole on-chip buffer and a tensor's region that P0b's stagings make.
"""
from __future__ import annotations

from typing import Any, Callable

from nanott.languages import l0


def through_l1(c: l0.Copy, dram: dict[str, l0.Tensor], alloc: Callable[..., str]) -> list | None:
    """The copy c as copies through L1 when both its sides are DRAM tensors; else None.
    `alloc(base, shape, dtype, scope, loc)` allocates an on-chip buffer and returns its name."""
    shape = tuple(n for n in c.src.extents if n != 1)
    if not {c.src.buffer, c.dst.buffer} <= dram.keys() or not 1 <= len(shape) <= 2:
        return None
    src, dst = dram[c.src.buffer], dram[c.dst.buffer]
    zeros = tuple(l0.Const(0, "int32", loc=c.loc) for _ in shape)
    block = alloc(f"{src.name}_shared", shape, src.dtype, "shared", c.loc)
    steps = [l0.Copy(c.src, l0.Region(block, zeros, shape, loc=c.loc), loc=c.loc)]
    if dst.dtype != src.dtype:
        cast = alloc(f"{dst.name}_frag", shape, dst.dtype, "fragment", c.loc)
        steps.append(l0.Copy(l0.Region(block, zeros, shape), l0.Region(cast, zeros, shape), loc=c.loc))
        block = cast
    return [*steps, l0.Copy(l0.Region(block, zeros, shape, loc=c.loc), c.dst, loc=c.loc)]


def copy(buf: str, shape: tuple, tensor: str, starts: tuple, extents: tuple, loc, out: bool) -> l0.Copy:
    """T.copy between the whole buffer and the tensor's region (out: buffer -> tensor)."""
    on_chip = l0.Region(buf, tuple(l0.Const(0, "int32", loc=loc) for _ in shape), tuple(shape), loc=loc)
    region = l0.Region(tensor, tuple(starts), tuple(extents), loc=loc)
    return l0.Copy(on_chip, region, loc=loc) if out else l0.Copy(region, on_chip, loc=loc)
