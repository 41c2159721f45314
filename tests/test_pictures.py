"""Readable pictures (`nanott graph`, `nanott report`): statements numbered in their order, one
kernel alone (--role), loops collapsed to one node with their trip count (--collapse-loops), CB
sizes on the dataflow edges, and a legend of the colours used; each checked against the IR it draws.
"""
import re

import pytest
from conftest import ROOT, nanott_cli as nanott

from nanott.backends.graphviz import PLAIN, READABLE, View, cb_size, to_dot
from nanott.diagnostics import kib
from nanott.ir import walk

GEMM = str(ROOT / "examples" / "gemm.py")
FLASH = str(ROOT / "examples" / "flash_attention.py")


def labels(dot: str) -> dict[str, str]:
    return {m[0]: m[1] for m in re.findall(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M)}


def children_of(dot: str, parent: str) -> list[str]:
    return re.findall(rf"^\s*{parent} -> (n\d+)\s*$", dot, re.M)


def test_statements_are_numbered_in_program_order(lowered):
    program = lowered.program("gemm", "F1")
    dot = to_dot(program, View(role="compute", order=True)).source
    names = labels(dot)
    kernel_node = next(n for n, text in names.items() if text == "compute kernel")
    shown = [names[n] for n in children_of(dot, kernel_node)]
    body = program.kernel("compute").body
    assert shown == [f"{i}. {s.head()}" for i, s in enumerate(body, 1)]


def test_one_kernel_alone(lowered):
    dot = to_dot(lowered.program("gemm", "F1"), View(role="reader")).source
    assert "cluster_reader" in dot and "cluster_compute" not in dot and "cluster_writer" not in dot
    assert "noc_async_read_page" in dot and "matmul_tiles" not in dot


def test_collapsed_loops_say_their_trip_count(lowered):
    """Loops nested `collapse` deep fold to one node; the loops around them stay open."""
    program = lowered.program("gemm", "F1")
    dot = to_dot(program, View(role="compute", collapse=2)).source
    assert 'label="for blk in 0..core.count:  (persistent)"' in dot           # depth 1: open
    assert re.search(r'label="for j\d+ in 0\.\.4:\\n4 trips x 3 statements \(collapsed\)"', dot)  # the packs
    assert "pack_tile" not in dot and "matmul_block" not in dot       # inside the folded loops
    assert "mm_block_init_short" in dot                               # hoisted out of every loop (D5a)
    k = next(x for x in program.kernel("compute").body[-1].body if x.head().startswith("for k"))
    inside = sum(1 for x in walk(k.body) if hasattr(x, "head"))
    assert f'label="for k in 0..8:  (pipelined, 2 stages)\\n8 trips x {inside} statements (collapsed)"' in dot
    every = to_dot(program, View(role="reader", collapse=1)).source
    assert re.search(r'label="for blk in 0\.\.core\.count:  \(persistent\)\\ncore\.count trips x \d+ statements', every)


def test_cb_sizes_on_the_edges_and_a_legend(lowered):
    program = lowered.program("gemm", "F1")
    dot = to_dot(program, READABLE).source
    for cb in program.cbs:
        assert f'label="{cb_size(cb)}"' in dot
    assert cb_size(program.cbs[0]) == f"2x2 pages, {kib(program.cbs[0].plan.bytes)}"
    assert "cluster_legend" in dot and "tile math" in dot and "DST register" in dot
    assert "cluster_legend" not in to_dot(program, PLAIN).source
    early = to_dot(lowered.program("gemm", "A1"), READABLE).source
    assert "DST register" not in early                           # only the colours a picture uses


@pytest.mark.needs_dot
def test_flash_attention_per_kernel_pictures_are_readable(tmp_path):
    """The whole L9 picture of flash attention is huge; one kernel with loops collapsed is not."""
    def size(path):
        w, h = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', path.read_text()).groups()
        return int(w) * int(h)
    nanott("graph", FLASH, "--after", "F1", "-o", str(tmp_path / "all.svg"))
    nanott("graph", FLASH, "--after", "F1", "--role", "compute", "--collapse-loops", "2", "-o", str(tmp_path / "c.svg"))
    assert size(tmp_path / "c.svg") * 10 < size(tmp_path / "all.svg")


def test_role_before_the_split_is_a_diagnostic(tmp_path):
    err = nanott("graph", GEMM, "--after", "C3", "--role", "reader", "-o", str(tmp_path / "x.svg"), code=3).stderr
    assert "error NT938" in err
