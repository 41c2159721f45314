"""The C++ of a NoC transfer of one row of a tile page (docs/reference.md §7.1: a 32x32 tile is four
16x16 faces, each row-major, so row r is 16 contiguous elements in face r / 16 * 2 and 16 in the
face after it): a vector written to or read from one line of a tensor (row 0 of the L1 page), and a
gathered row (a convolution's im2col: row `to_row` of the L1 page, or zeros the reader stores
itself where the row is outside the tensor). `k` is the kernel printer (kernels.py) whose
expressions, calls and CBs these use.
"""
from __future__ import annotations

from typing import Any

INDENT = "    "


def row(k: Any, s: Any, key: str, l1: str) -> str:
    """The two transfers of 16 contiguous elements that move row s.row of a page, to or from row 0
    of the L1 page at l1 (faces 0 and 1), or row s.to_row."""
    r, run = k.expr(s.row), k.cbs[s.cb].plan.page_bytes // 64
    return "; ".join(k.call(key, accessor=k.tensor(s.tensor), page=k.expr(s.page, True),
                            offset=in_page(r, f, run), l1_addr=plus(l1, in_slot(k, s, f, run)), bytes=run)
                     for f in (0, 1))


def in_page(r: str, f: int, run: int) -> str:
    """The byte offset of the f-th 16-element run of row r in a tile page (runs of `run` bytes)."""
    return f"({r} / 16 * 2 + {f}) * {16 * run} + {r} % 16 * {run}"


def in_slot(k: Any, s: Any, f: int, run: int) -> str:
    """in_page for the L1 row a transfer lands in or leaves: to_row, or row 0."""
    return str(f * 16 * run) if getattr(s, "to_row", None) is None else in_page(k.expr(s.to_row), f, run)


def gathered_row(k: Any, s: Any, depth: int) -> list[str]:
    """A gathered row, read where its `valid` holds; elsewhere the reader stores zeros into the two
    runs of its L1 row itself (zero bits are 0.0 in every format)."""
    pad, run = INDENT * (depth + 1), k.cbs[s.cb].plan.page_bytes // 64
    l1 = k.l1(k.call("get_write_ptr", cb=k.cb(s.cb)), s.cb, s.slot)
    words = " ".join(f"reinterpret_cast<volatile tt_l1_ptr uint32_t*>({plus(l1, in_slot(k, s, f, run))})[w] = 0;"
                     for f in (0, 1))
    return [k.line(f"if ({k.expr(s.valid, True)}) {{", s, depth, "a gathered row: read it"),
            pad + row(k, s, "read_run", l1) + ";\n",
            INDENT * depth + "} else {  // the row is outside the tensor: zeros\n",
            pad + f"for (uint32_t w = 0; w < {run // 4}; ++w) {{ {words} }}\n", INDENT * depth + "}\n"]


def plus(base: str, offset: str) -> str:
    return base if offset == "0" else f"{base} + {offset}"
