"""`nanott report FILE -o report.html`: the whole lowering of one kernel on one self-contained page.

A sidebar lists the stages; each stage shows what its pass does (the docstring's specification), the
time it took, its numeric check, the IR after it, a side-by-side diff against the stage before, and
its picture (graphviz's SVG, inline). A stage that fails shows its input IR and the diagnostic.
The page needs nothing but itself: styles, script and pictures are inside it, and its script only
shows one stage at a time (the one the address names, `#A1`) and moves with the arrow keys.
"""
from __future__ import annotations

import difflib
import html
import shutil
import time
from dataclasses import dataclass
from typing import Any

from nanott import pipeline
from nanott.diagnostics import NanottError
from nanott.ir import CheckError
from nanott.pipeline import PIPELINE, Stage


@dataclass
class StageReport:
    """What the page says about one stage."""
    stage: Stage
    text: str = ""                  # the printed output (IR, or G1's files)
    seconds: float = 0.0            # the pass and its checker
    numerics: str = ""              # the numeric check's verdict, in words
    ok: bool = True
    svg: str = ""
    error: str = ""                 # the diagnostic of a stage that failed
    reached: bool = True


def collect(loaded: Any, target: Any, check: bool = True) -> tuple[list[StageReport], Exception | None]:
    """Run every stage, timing each and keeping what the page shows; stop at the first failure."""
    from nanott.cli import Numerics, printed
    reports, program, numerics = [], loaded.prim_func, None
    for s in PIPELINE:
        r = StageReport(s)
        reports.append(r)
        start = time.perf_counter()
        try:
            out = s.run(program, target)
            if check and s.dst is not None:
                pipeline.language(s.dst).check(out, after=f"{s.id} {s.name}")
        except (NanottError, CheckError) as e:
            r.seconds, r.ok = time.perf_counter() - start, False
            r.error = e.render() if isinstance(e, NanottError) else str(e)
            r.text = reports[-2].text if len(reports) > 1 else loaded.path.read_text()
            reports += [StageReport(later, reached=False) for later in PIPELINE[s.position + 1:]]
            return reports, e
        r.seconds, program, given = time.perf_counter() - start, out, program
        r.text = printed(s, out)
        if s.dst is None:
            r.numerics = "C++ is checked by `nanott compile --execute` (g++ and nanott's CPU runtime)"
            continue
        if check:
            numerics = numerics or Numerics(loaded, out)
            failures = len(numerics.failures)
            r.numerics = f"{s.dst} interpreter: {numerics.check(s, out)}"
            r.ok = len(numerics.failures) == failures
        r.svg = picture(out)
        if hasattr(out, "work") and not hasattr(given, "work"):      # the stage that split the work
            r.svg += picture(out, work=True)
    return reports, None


def picture(program: Any, work: bool = False) -> str:
    """The IR's picture (or its work split over the cores) as inline SVG, its XML prologue
    dropped; "" without graphviz's `dot`."""
    if shutil.which("dot") is None:
        return ""
    from nanott.backends.graphviz import READABLE, to_dot
    from nanott.backends.work_picture import work_dot
    svg = (work_dot(program) if work else to_dot(program, READABLE)).pipe(format="svg", encoding="utf-8")
    return svg[svg.index("<svg"):]


def diff_table(before: StageReport, after: StageReport) -> str:
    """A side-by-side diff of two stages' printed IR, changed lines with 3 lines of context."""
    old, new = before.text.splitlines(), after.text.splitlines()
    if old == new:
        return f"<p>No change from {before.stage.id}.</p>"
    return difflib.HtmlDiff(tabsize=2, wrapcolumn=90).make_table(
        old, new, f"after {before.stage.id}", f"after {after.stage.id}", context=True, numlines=3)


def stage_section(r: StageReport, before: StageReport | None) -> str:
    s = r.stage
    e = html.escape
    parts = [f'<section class="stage" id="{s.id}">',
             f"<h2>{s.id} {e(s.name)} <small>{e(s.transition)}</small></h2>"]
    if not r.reached:
        return "".join(parts + [f"<p>Not reached: a stage before {s.id} failed.</p></section>"])
    parts.append(f'<p class="meta">time {r.seconds * 1000:.1f} ms'
                 + (f' &middot; <span class="{"ok" if r.ok else "bad"}">numerics: {e(r.numerics)}</span>'
                    if r.numerics else "") + "</p>")
    parts.append(f"<details open><summary>What {s.id} does</summary><pre>{e(s.explanation)}</pre></details>")
    if r.error:
        parts.append(f'<h3 class="bad">{s.id} failed</h3><pre class="diag">{e(r.error)}</pre>')
        parts.append(f"<details open><summary>Its input</summary><pre class=ir>{e(r.text)}</pre></details>")
        return "".join(parts + ["</section>"])
    if before is not None and s.dst is not None:
        parts.append(f"<details open><summary>Diff against {before.stage.id}</summary>"
                     f'<div class="diff">{diff_table(before, r)}</div></details>')
    label = "The C++ files" if s.dst is None else f"The {s.dst} program after {s.id}"
    parts.append(f"<details{'' if before else ' open'}><summary>{label}</summary>"
                 f"<pre class=ir>{e(r.text)}</pre></details>")
    if r.svg:
        parts.append(f'<details><summary>Picture</summary><div class="picture">{r.svg}</div></details>')
    return "".join(parts + ["</section>"])


def sidebar(name: str, reports: list[StageReport]) -> str:
    items = []
    for r in reports:
        state = "unreached" if not r.reached else ("ok" if r.ok else "bad")
        items.append(f'<li><a class="{state}" href="#{r.stage.id}">{r.stage.id} '
                     f'<span>{html.escape(r.stage.name)}</span></a></li>')
    total = sum(r.seconds for r in reports) * 1000
    return (f'<nav><h1>{html.escape(name)}</h1><p>{len(reports)} stages, {total:.0f} ms</p>'
            f'<ol>{"".join(items)}</ol><p class="keys">&larr; &rarr; move between stages</p></nav>')


def page(name: str, source: str, reports: list[StageReport]) -> str:
    """The whole HTML document."""
    sections = [stage_section(r, reports[i - 1] if i and reports[i - 1].text else None)
                for i, r in enumerate(reports)]
    source_block = (f'<details><summary>The kernel file</summary><pre class=ir>{html.escape(source)}'
                    "</pre></details>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>nanott report: "
            f"{html.escape(name)}</title><style>{STYLE}</style></head><body>"
            f"{sidebar(name, reports)}<main>{source_block}{''.join(sections)}</main>"
            f"<script>{SCRIPT}</script></body></html>\n")


STYLE = """
body{margin:0;font:14px/1.4 system-ui,sans-serif;display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:15em;flex:none;background:#f4f4f4;padding:0 1em}
nav ol{list-style:none;padding:0} nav a{display:block;padding:2px 4px;text-decoration:none;color:#222}
nav a span{color:#666;font-size:85%} nav a.current{background:#cfe2f3}
nav a.bad{color:#a00;font-weight:bold} nav a.unreached{color:#aaa} .keys{color:#888;font-size:85%}
main{flex:1;min-width:0;padding:0 1.5em} .stage{display:none} .stage.current{display:block}
pre{background:#fafafa;border:1px solid #ddd;padding:6px;overflow:auto;font-size:12px}
.meta{color:#555} .ok{color:#060} .bad{color:#a00} .diag{border-color:#a00}
.picture{overflow:auto;max-height:80vh;border:1px solid #ddd} .picture svg{max-width:100%;height:auto}
table.diff{font:12px monospace;border-collapse:collapse} table.diff td{padding:0 4px;white-space:pre-wrap}
.diff_header{background:#eee;color:#666} .diff_next{display:none}
.diff_add{background:#d4f7d4} .diff_chg{background:#ffec99} .diff_sub{background:#f7d4d4}
"""

SCRIPT = """
const ids = [...document.querySelectorAll('.stage')].map(s => s.id);
function show() {
  const id = ids.includes(location.hash.slice(1)) ? location.hash.slice(1) : ids[0];
  for (const s of document.querySelectorAll('.stage')) s.classList.toggle('current', s.id === id);
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.hash === '#' + id);
}
addEventListener('hashchange', show);
addEventListener('keydown', e => {
  const i = ids.indexOf(location.hash.slice(1)), step = {ArrowRight: 1, ArrowLeft: -1}[e.key];
  if (step) location.hash = ids[Math.min(ids.length - 1, Math.max(0, (i < 0 ? 0 : i) + step))];
});
show();
"""
