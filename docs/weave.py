"""Weave the course from the compiler: fill every marker block in docs/*.md, and draw the pipeline.

A block is a marker line, the generated text, and `<!-- /weave -->`:

    <!-- weave: pipeline-table -->          the stages: id, name, Lin -> Lout (nanott.pipeline)
    <!-- weave: delta L2 -->                a language's docstring Delta section (nanott.languages)
    <!-- weave: source nanott/x.py name --> the source of one top-level function or class, by name

Beside the chapters it writes docs/pipeline.dot and, where graphviz's `dot` exists, pipeline.svg.

    python docs/weave.py            rewrite the blocks and the pictures
    python docs/weave.py --check    exit 1, with a diff, when the docs drifted from the compiler
"""
from __future__ import annotations

import argparse
import ast
import difflib
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nanott.backends.graphviz import pipeline_graph, write_picture  # noqa: E402
from nanott.pipeline import PIPELINE, language  # noqa: E402

BLOCK = re.compile(r"(<!-- weave: (.*?) -->\n)(.*?)(<!-- /weave -->)", re.S)


def pipeline_table() -> str:
    rows = [f"| {s.id} | {s.name} | {s.transition} |" for s in PIPELINE]
    return "\n".join(["| id | name | in -> out |", "|---|---|---|", *rows])


def delta(name: str) -> str:
    doc = language(name).module.__doc__ or ""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("Delta"))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "```text\n" + "\n".join(lines[start:end]) + "\n```"


def source(path: str, name: str) -> str:
    text = (ROOT / path).read_text()
    for d in ast.parse(text).body:
        if getattr(d, "name", None) == name:
            return "```python\n" + ast.get_source_segment(text, d) + "\n```"
    raise KeyError(f"{path} has no top-level {name}")


MAKERS = {"pipeline-table": pipeline_table, "delta": delta, "source": source}


def woven(text: str, where: str) -> str:
    def fill(m: re.Match) -> str:
        verb, *args = m.group(2).split()
        if verb not in MAKERS:
            raise SystemExit(f"{where}: unknown marker {m.group(2)!r}; markers are {', '.join(MAKERS)}")
        return m.group(1) + MAKERS[verb](*args) + "\n" + m.group(4)
    return BLOCK.sub(fill, text)


def svg_content(svg: str) -> list[str]:
    """What an SVG says (titles and texts), without the layout, which varies by graphviz version."""
    return sorted(re.findall(r"<(?:title|text)\b[^>]*>(.*?)</(?:title|text)>", svg))


def drift(docs: Path) -> list[str]:
    """Unified diffs of every file that differs from what the compiler makes now."""
    out = []
    wanted = {p: woven(p.read_text(), p.name) for p in sorted(docs.glob("*.md"))}
    wanted[docs / "pipeline.dot"] = pipeline_graph().source
    for path, new in wanted.items():
        old = path.read_text() if path.exists() else ""
        if old != new:
            out.append("".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                    f"{path} (on disk)", f"{path} (woven)")))
    return out


def svg_drift(docs: Path) -> list[str]:
    """The committed SVG against a fresh rendering, compared by content (needs `dot`)."""
    svg = docs / "pipeline.svg"
    fresh = svg_content(pipeline_graph().pipe(format="svg").decode())
    old = svg_content(svg.read_text()) if svg.exists() else []
    return [] if old == fresh else [f"{svg} does not show the current pipeline: run python docs/weave.py"]


def weave(docs: Path) -> None:
    for path in sorted(docs.glob("*.md")):
        path.write_text(woven(path.read_text(), path.name))
    written = write_picture(pipeline_graph(), docs / "pipeline.svg")
    if written.suffix == ".dot":
        print(f"no 'dot' found: wrote {written}, not pipeline.svg")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report drift, change nothing")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs", help="the docs directory")
    args = ap.parse_args(argv)
    if not args.check:
        weave(args.docs)
        return 0
    problems = drift(args.docs) + (svg_drift(args.docs) if shutil.which("dot") else [])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
