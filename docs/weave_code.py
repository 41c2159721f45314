"""Weave markers that quote the compiler's own code and data: the pipeline, a language's delta, the
source or docstring of a file, function or class (found by name, never by line range), and the
machines nanott targets. Each maker takes the Course, the page and the marker's arguments.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from nanott.pipeline import PIPELINE, language
from nanott.target import FORMATS, TARGETS, TILE

ROOT = Path(__file__).resolve().parent.parent


def stage_count(course, page) -> str:
    """How many stages the pipeline runs, and the sub-steps named inside them (`passes --verbose`)."""
    steps = sum(len(s.steps) for s in PIPELINE)
    return (f"The pipeline runs {len(PIPELINE)} stages, {PIPELINE[0].id} {PIPELINE[0].name} to "
            f"{PIPELINE[-1].id} {PIPELINE[-1].name}, through the ten languages L0..L9, with "
            f"{steps} named sub-step{'s' if steps != 1 else ''} inside them (`nanott passes --verbose`).")


def sizes(course, page) -> str:
    """Files and code lines per top directory, as `python tests/test_budget.py` counts them."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("test_budget", ROOT / "tests" / "test_budget.py")
    budget = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(budget)
    return "```\n" + budget.table() + "\n```"


def pipeline_table(course, page) -> str:
    rows = [f"| {s.id} | {s.name} | {s.transition} |" for s in PIPELINE]
    return "\n".join(["| id | name | in -> out |", "|---|---|---|", *rows])


def delta(course, page, name: str) -> str:
    """The `Delta ...` paragraph of a language module's docstring."""
    lines = (language(name).module.__doc__ or "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("Delta"))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "```text\n" + "\n".join(lines[start:end]) + "\n```"


def definition(path: str, name: str | None) -> tuple[str, ast.AST]:
    """The file's text and the node of `name` (a top-level def or class, or Class.method)."""
    text = (ROOT / path).read_text()
    node: ast.AST = ast.parse(text)
    for part in name.split(".") if name else ():
        found = [d for d in getattr(node, "body", []) if getattr(d, "name", None) == part]
        if not found:
            raise KeyError(f"{path} has no {name}")
        node = found[0]
    return text, node


def source(course, page, path: str, name: str | None = None) -> str:
    text, node = definition(path, name)
    code = text if name is None else ast.get_source_segment(text, node, padded=True)
    return "```python\n" + textwrap.dedent(code).rstrip("\n") + "\n```"


def docstring(course, page, path: str, name: str | None = None) -> str:
    _, node = definition(path, name)
    doc = ast.get_docstring(node)
    if doc is None:
        raise KeyError(f"{path} {name or ''} has no docstring")
    return "```text\n" + doc + "\n```"


def targets(course, page) -> str:
    """nanott/target.py's machines side by side, and the tile of each data format."""
    ts = list(TARGETS.values())
    kib = lambda n: f"{n // 1024} KiB"  # noqa: E731
    rows = [("user grid of Tensix cores", lambda t: f"{t.grid[0]} x {t.grid[1]} = {t.num_cores}"),
            ("L1 per core", lambda t: kib(t.l1_bytes)),
            ("L1 left for circular buffers", lambda t: kib(t.l1_usable_bytes)),
            ("circular-buffer indices per core", lambda t: str(t.num_cbs)),
            ("DST tiles, 16-bit / fp32 accumulation", lambda t: f"{t.dst_tiles_16bit} / {t.dst_tiles_32bit}"),
            ("DRAM banks", lambda t: str(t.dram_banks)),
            ("DRAM alignment", lambda t: f"{t.dram_alignment} B"),
            ("clock", lambda t: f"{t.clock_ghz} GHz")]
    out = ["| | " + " | ".join(f"`{t.name}`" for t in ts) + " |", "|---" * (len(ts) + 1) + "|"]
    out += [f"| {label} | " + " | ".join(f(t) for t in ts) + " |" for label, f in rows]
    out += ["", f"| dtype | data format | bytes per {TILE}x{TILE} tile |", "|---|---|---|"]
    out += [f"| {dtype} | {fmt} | {size} |" for dtype, (fmt, size) in FORMATS.items()]
    return "\n".join(out)


MAKERS = {"pipeline-table": pipeline_table, "stage-count": stage_count, "sizes": sizes, "delta": delta, "source": source,
          "docstring": docstring, "targets": targets}
