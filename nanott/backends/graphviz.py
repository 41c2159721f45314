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
"""
from __future__ import annotations

import shutil
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

import graphviz

from nanott.ir import children

# Presentation only: which kind of work a production does, for the colour of its box.
CATEGORY: dict[str, str] = {
    **dict.fromkeys(("Copy", "AtomicAdd", "ReadToCb", "WriteFromCb", "CopyCb", "GenerateToCb"), "block"),
    **dict.fromkeys(("NocReadPage", "NocWritePage", "NocReadBarrier", "NocWriteBarrier"), "noc"),
    **dict.fromkeys(("CbReserve", "CbPush", "CbWait", "CbPop", "CircularBuffer", "Release"), "cb"),
    **dict.fromkeys(("Gemm", "Fill", "Store", "TileGroup", "TAssign", "TStore", "Init", "BinaryTiles",
                     "MatmulTiles", "SfpuBinary", "SfpuScalar", "SfpuUnary", "SfpuTypecast", "FillTile",
                     "TransposeTile", "UnaryBcast", "ReduceTile", "Reduce"), "math"),
    **dict.fromkeys(("RegsAcquire", "RegsCommit", "RegsWait", "RegsRelease", "CopyTile", "PackTile"),
                    "dst"),
    **dict.fromkeys(("For", "TFor", "Parallel"), "loop"),
}
COLOURS = {"block": "#cfe2f3", "noc": "#9fc5e8", "cb": "#ffe599", "math": "#b6d7a8",
           "dst": "#f4cccc", "loop": "#eeeeee", "other": "#ffffff"}
ROLES = ("reader", "compute", "writer")


def category(x: Any) -> str:
    return CATEGORY.get(type(x).__name__, "other")


class _Drawing:
    def __init__(self, program: Any):
        self.g = graphviz.Digraph(name=type(program).__name__,
                                  graph_attr={"rankdir": "LR", "fontname": "Helvetica", "ordering": "out"},
                                  node_attr={"shape": "box", "style": "rounded,filled",
                                             "fontname": "Courier", "fontsize": "10"})
        self.count = 0
        self.roles: dict[str, str] = {}           # role -> the node that stands for its kernel

    def add(self, g: graphviz.Digraph, label: str, kind: str, **attrs: str) -> str:
        name = f"n{self.count}"
        self.count += 1
        g.node(name, graphviz.escape(label), fillcolor=COLOURS[kind], **attrs)
        return name

    def visit(self, g: graphviz.Digraph, x: Any, parent: str) -> None:
        if isinstance(x, tuple):
            for y in x:
                self.visit(g, y, parent)
        elif is_dataclass(x) and type(x).__name__ == "DeviceKernel":
            with g.subgraph(name=f"cluster_{x.role}") as sub:
                sub.attr(label=x.role, style="rounded", color="#999999")
                me = self.add(sub, f"{x.role} kernel", "other", shape="ellipse")
                self.roles[x.role] = me
                g.edge(parent, me)
                for _, v in children(x):
                    self.visit(sub, v, me)
        elif is_dataclass(x) and hasattr(x, "head"):
            me = self.add(g, x.head(), category(x))
            g.edge(parent, me)
            for _, v in children(x):
                self.visit(g, v, me)
        elif is_dataclass(x):
            for _, v in children(x):
                self.visit(g, v, parent)

    def role(self, role: str) -> str:
        if role not in self.roles:
            self.roles[role] = self.add(self.g, role, "other", shape="ellipse")
        return self.roles[role]

    def circular_buffers(self, cbs: tuple) -> None:
        with self.g.subgraph(name="cluster_cbs") as sub:
            sub.attr(label="circular buffers", style="dashed", color="#999999")
            boxes = [self.add(sub, _cb_label(cb), "cb", style="filled") for cb in cbs]
        for cb, box in zip(cbs, boxes):
            if hasattr(cb, "producer"):
                self.g.edge(self.role(cb.producer), box, color="#bf9000", penwidth="2")
            if hasattr(cb, "consumer"):
                self.g.edge(box, self.role(cb.consumer), color="#bf9000", penwidth="2")


def _cb_label(cb: Any) -> str:
    if hasattr(cb, "index") and hasattr(cb, "name"):
        return f"cb{cb.index} {cb.name}"
    return str(cb)


def to_dot(program: Any) -> graphviz.Digraph:
    """The picture of one program of any language: statements nested under the root, kernels as
    clusters (L7+), circular buffers as boxes with producer -> CB -> consumer edges (L6+)."""
    d = _Drawing(program)
    head = program.lines()[0] if hasattr(program, "lines") else type(program).__name__
    root = d.add(d.g, head, "other", shape="note")
    for name, value in children(program):
        if name != "cbs":
            d.visit(d.g, value, root)
    if isinstance(getattr(program, "cbs", None), tuple):
        d.circular_buffers(program.cbs)
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
