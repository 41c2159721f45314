"""The picture of a work split (L2 and later): the core grid as a table, one cell per core, saying
which blocks it runs; idle cores grey. It answers B1's question at a glance: who runs what.

Cells are coloured by block count (the busiest cores darkest) so an unbalanced split shows, and a
legend under the grid says so. Built from the program's WorkSplit alone, never from names.
"""
from __future__ import annotations

from typing import Any

import graphviz

SHADES = ("#deebf7", "#9ecae1", "#4292c6")          # fewer .. more blocks per core
IDLE = "#eeeeee"


def cell(work: Any | None, busiest: int, fewest: int) -> str:
    if work is None:
        return f'<td bgcolor="{IDLE}"> </td>'
    shade = SHADES[0] if work.count == fewest else SHADES[-1] if work.count == busiest else SHADES[1]
    blocks = str(work.start) if work.count == 1 else f"{work.start}..{work.start + work.count - 1}"
    return f'<td bgcolor="{shade}">{blocks}</td>'


def work_dot(program: Any) -> graphviz.Digraph:
    """The core grid of `program.work`: (x, y) cells, each with the block ids its core runs."""
    split = program.work
    by_core = {c.core: c for c in split.cores}
    counts = [c.count for c in split.cores]
    busiest, fewest = max(counts), min(counts)
    width, height = split.core_grid
    rows = ["<tr><td></td>" + "".join(f"<td><b>x={x}</b></td>" for x in range(width)) + "</tr>"]
    for y in range(height):
        rows.append(f"<tr><td><b>y={y}</b></td>"
                    + "".join(cell(by_core.get((x, y)), busiest, fewest) for x in range(width)) + "</tr>")
    table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="4">' + "".join(rows) + "</table>"
    g = graphviz.Digraph(name="work", graph_attr={"fontname": "Helvetica", "labelloc": "t",
                         "label": f"{program.name}: {split.blocks} blocks over {len(split.cores)} of "
                                  f"{width}x{height} cores"},
                         node_attr={"shape": "plaintext", "fontname": "Courier", "fontsize": "10"})
    g.node("grid", f"<{table}>")
    legend = (f"blocks per core: {fewest} (lightest)" + (f" .. {busiest} (darkest)" if busiest != fewest else "")
              + "; grey: idle core")
    g.node("legend", legend, fontname="Helvetica")
    g.edge("grid", "legend", style="invis")
    return g
