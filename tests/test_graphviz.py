"""Graphviz pictures: the same IR gives the same source, kernels are clusters from L7 on, circular
buffers show who produces and who consumes them, and the source renders with `dot`."""
from __future__ import annotations

import re
import shutil

import pytest
from test_json import gemm_l0

from nanott.backends import graphviz as gv
from nanott.grammar import skeleton
from nanott.pipeline import LANGUAGES, PIPELINE, language


def gemm_l7():
    """A hand-built L7 program: reader fills cb0, compute turns cb0 into cb1, writer drains cb1."""
    l7 = language("L7").module
    zero = l7.Const(0, "int32")
    layout = l7.TileLayout("dram", "interleaved", "Float16_b", (64, 64), (2, 2), 2048)
    tensor = lambda n: l7.Tensor(n, (64, 64), "bfloat16", layout, None)        # noqa: E731
    plan = l7.CbPlan("Float16_b", 2048, 1, 2, "double-buffered")
    cbs = (l7.CircularBuffer(0, "A_s", (32, 32), "bfloat16", "shared", plan, "reader", "compute"),
           l7.CircularBuffer(1, "C_l", (32, 32), "bfloat16", "fragment", plan, "compute", "writer"))
    tile = l7.TileRef(0, zero, zero)
    kernels = (
        l7.DeviceKernel("reader", (l7.For("b", l7.CoreArg("count"), "persistent", 0, (
            l7.ReadToCb(l7.TileSlice("A", l7.Var("b"), zero, 1, 1), 0),)),), ()),
        l7.DeviceKernel("compute", (l7.TileGroup(("i",), (1,), (
            l7.TAssign("t0", l7.TileLoad(tile)), l7.TStore(l7.TileRef(1, zero, zero), "t0")),
            (l7.CbEffect(0, "take"), l7.CbEffect(1, "give"))),), ()),
        l7.DeviceKernel("writer", (l7.WriteFromCb(1, l7.TileSlice("C", zero, zero, 1, 1)),), ()),
    )
    work = l7.WorkSplit((1, 1), 1, (l7.CoreWork((0, 0), 0, 1),))
    return l7.Program("copy", (tensor("A"), tensor("C")), work, cbs, kernels, ())


def test_source_is_deterministic_and_names_nodes_by_position():
    a, b = gv.to_dot(gemm_l0()).source, gv.to_dot(gemm_l0()).source
    assert a == b
    names = [int(n) for n in re.findall(r"^\s*n(\d+) \[", a, re.M)]
    assert names == list(range(len(names))) and len(names) == 12       # root + 11 statements
    assert "0x" not in a


def test_nesting_is_drawn_and_labels_are_escaped():
    src = gv.to_dot(gemm_l0()).source
    loop = re.search(r"^\s*(n\d+) \[label=\"for k in 0\.\.4:", src, re.M).group(1)
    gemm = re.search(r"^\s*(n\d+) \[label=\"gemm C_l \+= A_s @ B_s\^T\"", src, re.M).group(1)
    assert re.search(rf"^\s*{loop} -> {gemm}$", src, re.M)
    assert f'fillcolor="{gv.COLOURS["block"]}"' in src and f'fillcolor="{gv.COLOURS["loop"]}"' in src
    l0 = language("L0").module
    odd = l0.Kernel("k", (), (1,), ("bx",), (l0.Let("x", l0.Var('a"b\\c')),), ())
    assert r'label="let x = a\"b\\c"' in gv.to_dot(odd).source


def test_kernels_are_clusters_and_cbs_show_the_dataflow():
    p = gemm_l7()
    language("L7").check(p)
    src = gv.to_dot(p).source
    for role in ("reader", "compute", "writer"):
        assert f"subgraph cluster_{role} {{" in src
    reader = src[src.index("subgraph cluster_reader"):src.index("subgraph cluster_compute")]
    assert 'label="read_to_cb A.tiles[b, 0 +1x1] -> cb0"' in reader
    node = {label: name for name, label in re.findall(r'^\s*(n\d+) \[label="([^"]*)"', src, re.M)}
    for producer, cb, consumer in (("reader", "cb0 A_s", "compute"), ("compute", "cb1 C_l", "writer")):
        assert re.search(rf"^\s*{node[producer + ' kernel']} -> {node[cb]} \[", src, re.M)
        assert re.search(rf"^\s*{node[cb]} -> {node[consumer + ' kernel']} \[", src, re.M)


def test_l6_dataflow_without_clusters():
    l6 = language("L6").module
    p = gemm_l7()
    k = l6.Kernel(p.name, p.params, p.work, p.cbs, p.kernels[0].body, p.attrs)
    src = gv.to_dot(k).source
    assert "cluster_reader" not in src
    assert re.search(r'^\s*n\d+ \[label=reader ', src, re.M) and re.search(r'label=writer ', src)
    assert src.count('color="#bf9000"') == 4


def test_categories_name_real_productions_and_cover_statements():
    names = {n for name in LANGUAGES for n in language(name).nodes}
    assert not sorted(set(gv.CATEGORY) - names), "CATEGORY names a production no language has"
    plain = {"Alloc", "Let"}                      # bookkeeping, drawn uncoloured on purpose
    statements = {n for name in LANGUAGES for n, c in language(name).nodes.items() if hasattr(c, "head")}
    assert not sorted(statements - set(gv.CATEGORY) - plain), "statements with no colour category"


def test_pipeline_graph_has_every_stage():
    src = gv.pipeline_graph().source
    for s in PIPELINE:
        assert f'label="{s.id} {s.name}"' in src
    assert "Python -> L0" in src and "L9 -> \"C++\"" in src


def test_write_picture_without_dot_writes_the_source(tmp_path, monkeypatch):
    g = gv.to_dot(gemm_l0())
    assert gv.write_picture(g, tmp_path / "a.dot") == tmp_path / "a.dot"
    monkeypatch.setattr(gv.shutil, "which", lambda _: None)
    assert gv.write_picture(g, tmp_path / "sub" / "b.svg") == tmp_path / "sub" / "b.dot"
    assert (tmp_path / "sub" / "b.dot").read_text() == g.source and not (tmp_path / "sub" / "b.svg").exists()


@pytest.mark.needs_dot
def test_renders_with_dot(tmp_path):
    assert shutil.which("dot")
    out = gv.write_picture(gv.to_dot(gemm_l7()), tmp_path / "l7.svg")
    svg = out.read_text()
    assert out.suffix == ".svg" and "<svg" in svg and "cluster_compute" in svg
    assert (tmp_path / "l7.dot").exists()


@pytest.mark.parametrize("name", LANGUAGES)
def test_every_language_draws(name):
    from test_grammar import _planted
    lang = language(name)
    for cls in sorted(lang.nonterminals["Stmt"], key=lambda c: c.__name__):
        stmt = skeleton(cls, lang)
        src = gv.to_dot(_planted(name, stmt)[1]).source
        assert re.search(r"^\s*n1 \[label=", src, re.M) and "n0 -> n1" in src, f"{name}: {cls.__name__}"
        assert gv.graphviz.escape(stmt.head()).replace('"', '\\"') in src
