"""Graphviz pictures of any IR, and of the pipeline itself.

`to_dot` works for every language without knowing its grammar: it walks the root's fields, draws
each statement (a node with a `head()`) as a box labelled with its printed head, and draws nesting
as edges from a statement to the statements in its fields. From L7 on, each DeviceKernel is a
`cluster_<role>` subgraph. When the root declares circular buffers (`cbs`, L4+), each CB is a box
of its own, and once CBs record `producer`/`consumer` roles (L6+) the picture shows the dataflow:
producer -> CB -> consumer.

Nodes are named by traversal position (`n0`, `n1`, ...), never by object id, so the same IR gives
the same `.source` bytes. Colours come from CATEGORY below, a table from production name to kind of
work. It is presentation only: no pass and no checker reads it.

A `View` makes a big program readable (`nanott graph` and `nanott report` use READABLE; snapshots
the plain view): statements numbered in their order under their parent, one kernel alone (`role`,
L7..L9), loops collapsed to one node with their trip count, CB sizes on the dataflow edges, and a
legend of the colours used.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, is_dataclass
from pathlib import Path
from typing import Any

import graphviz

from nanott.diagnostics import kib
from nanott.ir import children, walk

# Presentation only: which kind of work a production does, for the colour of its box.
CATEGORY: dict[str, str] = {
    **dict.fromkeys(("Copy", "AtomicAdd", "ReadToCb", "WriteFromCb", "CopyCb", "GenerateToCb"), "block"),
    **dict.fromkeys(("NocReadPage", "NocWritePage", "NocReadBarrier", "NocWriteBarrier", "McastPages", "NocReadTrid",
                     "NocReadBarrierTrid"), "noc"),
    **dict.fromkeys(("SemSet", "SemWait", "SemInc", "SemSetMcast"), "semaphore"),
    **dict.fromkeys(("CbReserve", "CbPush", "CbWait", "CbPop", "CircularBuffer", "Release"), "cb"),
    **dict.fromkeys(("Gemm", "Fill", "Store", "AtomicStore", "TileGroup", "TAssign", "TStore", "Init",
                     "BinaryTiles", "MatmulTiles", "MatmulBlock", "SfpuBinary", "SfpuScalar", "SfpuUnary",
                     "SfpuTypecast", "SfpuWhere", "SfpuBitsBinary", "SfpuBitsScalar", "TileBits", "FillTile",
                     "TransposeTile", "UnaryBcast", "ReduceTile", "Reduce"), "math"),
    **dict.fromkeys(("RegsAcquire", "RegsCommit", "RegsWait", "RegsRelease", "CopyTile", "PackTile"),
                    "dst"),
    **dict.fromkeys(("For", "TFor", "Parallel", "When"), "loop"),
    **dict.fromkeys(("Print", "PrintBuffer", "PrintCb"), "debug"),
}
COLOURS = {"block": "#cfe2f3", "noc": "#9fc5e8", "semaphore": "#ead1dc", "cb": "#ffe599", "math": "#b6d7a8",
           "dst": "#f4cccc", "loop": "#eeeeee", "debug": "#d9d2e9", "other": "#ffffff"}
from nanott.terminals import ROLES  # noqa: E402
KINDS = {"block": "block copy", "noc": "NoC transfer", "semaphore": "semaphore", "cb": "CB protocol", "math": "tile math",
         "dst": "DST register", "loop": "loop", "debug": "T.print", "other": "other"}


@dataclass(frozen=True)
class View:
    """What a picture shows (the defaults: everything, as the snapshots draw it)."""
    role: str | None = None         # only this kernel (L7..L9)
    collapse: int | None = None     # loops nested this deep (1: every loop) fold to one node each
    order: bool = False             # statements numbered 1, 2, ... in order under their parent
    sizes: bool = False             # CB edges labelled with the CB's pages and bytes
    legend: bool = False            # a box naming the colours used


PLAIN = View()
READABLE = View(order=True, sizes=True, legend=True)


def category(x: Any) -> str:
    return CATEGORY.get(type(x).__name__, "other")


class _Drawing:
    def __init__(self, program: Any, view: View = PLAIN):
        self.view = view
        self.used: set[str] = set()
        self.g = graphviz.Digraph(name=type(program).__name__,
                                  graph_attr={"rankdir": "LR", "fontname": "Helvetica", "ordering": "out"},
                                  node_attr={"shape": "box", "style": "rounded,filled",
                                             "fontname": "Courier", "fontsize": "10"},
                                  edge_attr={"fontname": "Helvetica", "fontsize": "10"} if view.sizes else {})
        self.count = 0
        self.roles: dict[str, str] = {}           # role -> the node that stands for its kernel

    def add(self, g: graphviz.Digraph, label: str, kind: str, **attrs: str) -> str:
        name = f"n{self.count}"
        self.count += 1
        self.used.add(kind)
        text = graphviz.nohtml("\\n".join(line.replace("\\", "\\\\") for line in label.split("\n")))
        g.node(name, text, fillcolor=COLOURS[kind], **attrs)
        return name

    def visit(self, g: graphviz.Digraph, x: Any, parent: str, number: int = 0, loops: int = 0) -> str | None:
        """Draw x under parent; `number` is its place among its siblings, `loops` how many loops
        hold it. Returns the node of a statement."""
        if isinstance(x, tuple):
            drawn = []
            for y in x:
                me = self.visit(g, y, parent, len(drawn) + 1 if self.view.order else 0, loops)
                drawn += [me] if me else []
            if self.view.order and len(drawn) > 1:       # siblings stacked in program order
                with g.subgraph() as row:
                    row.attr(rank="same")
                    for a, b in zip(drawn, drawn[1:]):
                        row.edge(b, a, style="invis")
        elif is_dataclass(x) and type(x).__name__ == "DeviceKernel":
            if self.view.role not in (None, x.role):
                return
            with g.subgraph(name=f"cluster_{x.role}") as sub:
                sub.attr(label=x.role, style="rounded", color="#999999")
                me = self.add(sub, f"{x.role} kernel", "other", shape="ellipse")
                self.roles[x.role] = me
                g.edge(parent, me)
                for _, v in children(x):
                    self.visit(sub, v, me)
        elif is_dataclass(x) and hasattr(x, "head"):
            label = (f"{number}. " if number else "") + x.head()
            loops += category(x) == "loop"
            if self.view.collapse is not None and category(x) == "loop" and loops >= self.view.collapse:
                inside = sum(1 for y in walk(x.body) if hasattr(y, "head"))
                me = self.add(g, f"{label}\n{trips(x)} x {inside} statement{'s' if inside != 1 else ''} (collapsed)",
                              category(x))
                g.edge(parent, me)
                return me
            me = self.add(g, label, category(x))
            g.edge(parent, me)
            for _, v in children(x):
                self.visit(g, v, me, loops=loops)
            return me
        elif is_dataclass(x):
            for _, v in children(x):
                self.visit(g, v, parent)
        return None

    def role(self, role: str) -> str:
        if role not in self.roles:
            self.roles[role] = self.add(self.g, role, "other", shape="ellipse")
        return self.roles[role]

    def circular_buffers(self, cbs: tuple) -> None:
        with self.g.subgraph(name="cluster_cbs") as sub:
            sub.attr(label="circular buffers", style="dashed", color="#999999")
            boxes = [self.add(sub, _cb_label(cb), "cb", style="filled") for cb in cbs]
        for cb, box in zip(cbs, boxes):
            size = {"label": cb_size(cb)} if self.view.sizes and hasattr(cb, "plan") else {}
            if hasattr(cb, "producer") and self.view.role in (None, cb.producer):
                self.g.edge(self.role(cb.producer), box, color="#bf9000", penwidth="2", **size)
            if hasattr(cb, "consumer") and self.view.role in (None, cb.consumer):
                self.g.edge(box, self.role(cb.consumer), color="#bf9000", penwidth="2", **size)

    def legend(self) -> None:
        """A box naming each colour the picture used, and the kinds of edge."""
        rows = "".join(f'<tr><td bgcolor="{COLOURS[k]}">   </td><td align="left">{KINDS[k]}</td></tr>'
                       for k in COLOURS if k in self.used)
        edges = ('<tr><td>→</td><td align="left">holds (nesting)</td></tr>'
                 '<tr><td><font color="#bf9000">⟶</font></td><td align="left">dataflow through a CB</td></tr>')
        table = f'<<table border="0" cellborder="0" cellspacing="2"><tr><td colspan="2"><b>legend</b></td></tr>{rows}{edges}</table>>'
        with self.g.subgraph(name="cluster_legend") as sub:
            sub.attr(label="", style="dashed", color="#999999")
            sub.node("legend", table, shape="plaintext", style="", fontname="Helvetica")


def _cb_label(cb: Any) -> str:
    if hasattr(cb, "index") and hasattr(cb, "name"):
        return f"cb{cb.index} {cb.name}"
    return str(cb)


def trips(loop: Any) -> str:
    """A loop's trip count: its extent (or the product of a T.Parallel's), or the expression."""
    extents = getattr(loop, "extents", None) or (getattr(loop, "extent", "?"),)
    values = [getattr(e, "value", e) for e in extents]
    if all(isinstance(v, int) for v in values):
        n = 1
        for v in values:
            n *= v
        return f"{n} trips"
    return f"{' x '.join(str(v) for v in values)} trips"


def cb_size(cb: Any) -> str:
    plan = cb.plan
    return f"{plan.block_pages}x{plan.depth} pages, {kib(plan.bytes)}"


def to_dot(program: Any, view: View = PLAIN) -> graphviz.Digraph:
    """The picture of one program of any language: statements nested under the root, kernels as
    clusters (L7+), circular buffers as boxes with producer -> CB -> consumer edges (L6+)."""
    d = _Drawing(program, view)
    head = program.lines()[0] if hasattr(program, "lines") else type(program).__name__
    root = d.add(d.g, head, "other", shape="note")
    for name, value in children(program):
        if name != "cbs":
            d.visit(d.g, value, root)
    if isinstance(getattr(program, "cbs", None), tuple):
        d.circular_buffers(program.cbs)
    if view.legend:
        d.legend()
    return d.g


def pipeline_graph(pipeline=None) -> graphviz.Digraph:
    """The ladder: languages as nodes, passes as edges labelled with stage id and verb phrase."""
    from nanott.pipeline import PIPELINE

    g = graphviz.Digraph(name="pipeline", graph_attr={"fontname": "Helvetica"},
                         node_attr={"shape": "box", "style": "rounded", "fontname": "Helvetica"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for s in pipeline or PIPELINE:
        g.edge(s.src or "Python", s.dst or "C++", label=f"{s.id} {s.name}")
    return g


def write_picture(g: graphviz.Digraph, out: Path) -> Path:
    """Write the .dot source beside `out` always; render `out` only if `dot` exists and `out` is
    not itself a .dot file. Returns the path written (the .dot when no rendering happened)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".dot").write_text(g.source)
    if out.suffix == ".dot" or shutil.which("dot") is None:
        return out.with_suffix(".dot")
    out.write_bytes(g.pipe(format=out.suffix[1:]))
    return out
