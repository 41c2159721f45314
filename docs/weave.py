"""Weave the course from the compiler: fill every marker block in docs/*.md and docs/solutions/*.md,
and draw the pictures they name.

A block is a marker line, the generated text, and `<!-- /weave -->`:

    <!-- weave: pipeline-table -->                the stages: id, name, Lin -> Lout
    <!-- weave: stage-count -->                   a sentence: how many stages and sub-steps run
    <!-- weave: sizes -->                         files and code lines per directory (README)
    <!-- weave: delta L2 -->                      a language's Delta section (its docstring)
    <!-- weave: source nanott/x.py [name] -->     a file, or one function, class or Class.method
    <!-- weave: docstring nanott/x.py [name] --> the docstring of a file, function or class
    <!-- weave: targets -->                       the machines of nanott/target.py, as a table
    <!-- weave: snapshot gemm B1 [part] -->       the IR of examples/gemm.py after B1 (part: one
                                                  kernel, `reader`, or one G1 file, `compute.cpp`)
    <!-- weave: diff gemm B1 [part] -->           what B1 changed, as `nanott explain --diff` shows it
    <!-- weave: picture gemm C3 -->               the IR after C3 drawn: docs/img/gemm_C3.{dot,svg}
    <!-- weave: drawing tensix_core "alt" -->     a hand-written docs/drawings/tensix_core.dot, drawn
    <!-- weave: nanott run examples/x.py -->      a `nanott` command and what it prints
    <!-- weave: cbs docs/kernels/x.py C2c -->     the circular buffers of a kernel file after a stage
    <!-- weave: gemm-cycles 1024 128x128x512 HiFi2 - D3d D3b+D3c -->
                                                  examples/gemm.py's matmul in the cycle model, whole
                                                  (-) and without each set of stages: a table
    <!-- weave: families -->                      the progression's families: kernels, L9 errors,
                                                  TileLang files that run, sections (weave_families.py)

The repository's README.md is woven with the course, so its numbers are computed too. Markers
that run the compiler are in weave_runs.py; those that quote its code in weave_code.py.
Beside the chapters it writes docs/pipeline.{dot,svg}. Command output shows paths relative to the
repository (the checkout's own directory is cut), so the docs read the same on every machine.

    python docs/weave.py            rewrite the blocks and the pictures
    python docs/weave.py --check    exit 1, naming the page, the marker and a diff, when the docs
                                    drifted from the compiler (SVGs compared by content, with `dot`)
"""
from __future__ import annotations

import argparse
import difflib
import re
import shlex
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS)]

import graphviz  # noqa: E402

import weave_code  # noqa: E402
import weave_families  # noqa: E402
import weave_runs  # noqa: E402
from nanott.backends.graphviz import pipeline_graph  # noqa: E402

BLOCK = re.compile(r"(<!-- weave: (.*?) -->\n)(.*?)(<!-- /weave -->)", re.S)
MAKERS = {**weave_code.MAKERS, **weave_runs.MAKERS, **weave_families.MAKERS}


class Course:
    """One weave of a docs directory: every block's text on disk and woven now, and the files the
    markers ask for (generated DOT sources, and SVGs to draw from DOT)."""

    def __init__(self, docs: Path):
        self.docs = docs
        self.files: dict[Path, str] = {docs / "pipeline.dot": pipeline_graph().source}
        self.renders: dict[Path, str] = {docs / "pipeline.svg": pipeline_graph().source}
        pages = sorted(docs.glob("*.md")) + sorted(docs.glob("solutions/*.md"))
        if (docs.parent / "README.md").exists() and docs == DOCS:
            pages.append(docs.parent / "README.md")    # its numbers are generated too
        self.blocks = {page: [(m, self.make(m.group(2), page)) for m in BLOCK.finditer(page.read_text())]
                       for page in pages}

    def make(self, marker: str, page: Path) -> str:
        verb, *args = shlex.split(marker)
        if verb not in MAKERS:
            raise SystemExit(f"{shown(page, self.docs)}: unknown marker {marker!r}; markers are "
                             f"{', '.join(MAKERS)}")
        try:
            return MAKERS[verb](self, page, *args).rstrip("\n") + "\n"
        except (KeyError, TypeError, ValueError) as e:
            raise SystemExit(f"{shown(page, self.docs)}: marker {marker!r} failed: {e}") from e

    def woven(self, page: Path) -> str:
        text, out, at = page.read_text(), [], 0
        for m, new in self.blocks[page]:
            out += [text[at:m.start(3)], new]
            at = m.end(3)
        return "".join(out) + text[at:]

    def picture(self, page: Path, name: str, dot_source: str, keep_source: bool) -> str:
        """Ask for docs/img/<name>.svg drawn from `dot_source`, with the .dot beside it when the
        source is generated; return the picture's path relative to the page."""
        svg = self.docs / "img" / f"{name}.svg"
        self.renders[svg] = dot_source
        if keep_source:
            self.files[svg.with_suffix(".dot")] = dot_source
        return ("../" if page.parent != self.docs else "") + f"img/{name}.svg"


def shown(page: Path, docs: Path) -> str:
    """A page's name in a message: relative to docs/, or to the repository for the README."""
    return str(page.relative_to(docs if page.is_relative_to(docs) else docs.parent))


def svg_content(svg: str) -> list[str]:
    """What an SVG says (titles and texts), without the layout, which varies by graphviz version."""
    return sorted(re.findall(r"<(?:title|text)\b[^>]*>(.*?)</(?:title|text)>", svg))


def unified(old: str, new: str, where: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"{where} (on disk)", f"{where} (woven)"))


def drift(docs: Path) -> list[str]:
    """One report per drifted block (page, marker, diff), per generated file that differs, and per
    picture no marker draws."""
    course, out = Course(docs), []
    for page, blocks in course.blocks.items():
        for m, new in blocks:
            if m.group(3) != new:
                out.append(f"{shown(page, docs)}: marker `{m.group(2)}` drifted from the compiler\n"
                           + unified(m.group(3), new, f"{page.name} [{m.group(2)}]"))
    for path, new in course.files.items():
        old = path.read_text() if path.exists() else ""
        if old != new:
            out.append(f"{path.relative_to(docs)} differs from what the compiler makes\n"
                       + unified(old, new, path.name))
    wanted = set(course.files) | set(course.renders)
    pictures = sorted((docs / "img").iterdir()) if (docs / "img").is_dir() else []
    out += [f"{p.relative_to(docs)} is drawn by no marker: delete it" for p in pictures if p not in wanted]
    return out


def svg_drift(docs: Path) -> list[str]:
    """Every SVG a marker asks for against a fresh rendering, compared by content (needs `dot`)."""
    out = []
    for svg, source in Course(docs).renders.items():
        fresh = svg_content(graphviz.Source(source).pipe(format="svg").decode())
        old = svg_content(svg.read_text()) if svg.exists() else []
        if old != fresh:
            out.append(f"{svg.relative_to(docs)} does not show what the compiler draws now: "
                       "run python docs/weave.py")
    return out


def weave(docs: Path) -> None:
    course = Course(docs)
    for page in course.blocks:
        page.write_text(course.woven(page))
    for path, text in course.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if shutil.which("dot") is None:
        print("no 'dot' found: wrote the .dot sources, not the .svg pictures")
        return
    for svg, source in course.renders.items():
        svg.parent.mkdir(parents=True, exist_ok=True)
        svg.write_bytes(graphviz.Source(source).pipe(format="svg"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report drift, change nothing")
    ap.add_argument("--docs", type=Path, default=DOCS, help="the docs directory")
    args = ap.parse_args(argv)
    docs = args.docs.resolve()
    if not args.check:
        weave(docs)
        return 0
    problems = drift(docs) + (svg_drift(docs) if shutil.which("dot") else [])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
