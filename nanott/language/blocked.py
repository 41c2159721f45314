"""On-chip buffers of four dims, `(a, b, p, q)`: stored as the 2-D block matrix of their p x q tiles.

TileLang's MMA examples stage an output block in tile order: `C_shared = T.alloc_shared((block_M //
16, block_N // 16, 16, 16))`, written as C_shared[ti, tj, r, c] = C[ti * 16 + r, tj * 16 + c] and
read back as `C_shared[i // 16, j // 16, i % 16, j % 16]`. Nothing outside a block sees where an
on-chip buffer keeps its elements, so any one-to-one placement that every access goes through gives
the same program. nanott places element [x, y, r, c] of a 4-D on-chip buffer at [x * p + r, y * q + c]
of a 2-D (a * p, b * q) buffer: the block matrix whose (x, y) block is the tile [x, y, :, :]. As for a
view (views.py) it is index arithmetic done at P0; later stages see the 2-D buffer only, and the
kernel's attrs say so (`blocked.C_shared=8x8x16x16`).

- An element [x, y, r, c] is the element [x * p + r, y * q + c]. With x = i // p and r = i % p the
  row is (i // p) * p + i % p, which P0 folds to i (values.binop): the tile-order read back is the
  identity read it stands for, and later passes see it as one.
- A region is a box of the 2-D buffer when each (outer, inner) pair of dims is one: an outer index
  with any inner range, or an outer range with its inner dim whole (`[x, y, :, :]` is the (x, y)
  block, `[:, :, :, :]` the whole buffer). An outer range over a part of the inner dim is scattered
  over the 2-D buffer: NT304 names it.
- The whole buffer (T.clear, T.fill, an emitter's stmatrix) is the whole 2-D buffer.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.language.values import Buffer, Load, Slice, shape_str


class Blocked(Buffer):
    """A 4-D on-chip buffer whose storage (`shape`) is its 2-D block matrix; `logical` is its 4-D shape."""

    def __init__(self, logical: tuple[int, ...], dtype: str, scope: str, **kw: Any):
        a, b, p, q = logical
        super().__init__(None, (a * p, b * q), dtype, scope, **kw)
        self.logical = logical

    def __repr__(self) -> str:
        return f"{self.label}: {self.scope} {self.dtype}{list(self.logical)} as {list(self.shape)}"

    def note(self) -> tuple[str, str]:
        return "blocked", "x".join(map(str, self.logical))

    def __getitem__(self, index: Any) -> Load | Slice:
        items = index if isinstance(index, tuple) else (index,)
        if len(items) != 4:
            raise NanottError("NT104", f"{self.label} has 4 dims but is indexed with {len(items)}",
                              hint=f"{self.label} is {shape_str(self.logical)}")
        a, b, p, q = self.logical
        (x, r), (y, c) = (items[0], items[2]), (items[1], items[3])
        if not any(isinstance(i, slice) for i in items):
            return super().__getitem__((x * p + r, y * q + c))
        return super().__getitem__((self.rows(x, r, a, p, 0), self.rows(y, c, b, q, 1)))

    def rows(self, outer: Any, inner: Any, n: int, size: int, dim: int) -> Any:
        """The 2-D range (a slice, or an index) of an (outer, inner) pair of dims, when it is a box."""
        if not isinstance(outer, slice):
            if not isinstance(inner, slice):
                return outer * size + inner
            start, stop = inner.start or 0, size if inner.stop is None else inner.stop
            return slice(outer * size + start, outer * size + stop)
        if inner != slice(None) and (inner.start or 0, inner.stop) not in ((0, None), (0, size)):
            raise NanottError("NT304", f"a region of {self.label} {shape_str(self.logical)} takes a range of "
                              f"dim {dim} and a part of dim {dim + 2}: nanott keeps the buffer as the "
                              "block matrix of its tiles, where that region is scattered",
                              hint="take whole tiles ([x, y, :, :] or [x0:x1, y0:y1, :, :]), or one tile's part")
        start, stop = outer.start or 0, n if outer.stop is None else outer.stop
        return slice(start * size, stop * size)
