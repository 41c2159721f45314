"""The course is woven from the compiler: every marker block, generated DOT source and picture must
be what `python docs/weave.py` makes now; the weaver must notice drift and name the page, the
marker and a diff; and every chapter must keep the course's arc (delta, pass source, the GEMM
before and after, a picture, the interpreter, exercises with solutions)."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from nanott.pipeline import PIPELINE

DOCS = ROOT / "docs"
_spec = importlib.util.spec_from_file_location("weave", DOCS / "weave.py")
weave = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(weave)

CHAPTERS = ["00_machine.md", "01_source_P0.md", "02_A_layouts_and_buffers.md", "03_B_work_on_cores.md",
            "04_C_circular_buffers_and_tiles.md", "05_D_kernels_and_protocol.md",
            "06_EF_signature_and_verification.md", "07_G_metalium.md", "08_time.md", "09_adding_a_stage.md",
            "10_progression.md"]
STAGES_OF = {"01_source_P0.md": "P", "02_A_layouts_and_buffers.md": "A", "03_B_work_on_cores.md": "B",
             "04_C_circular_buffers_and_tiles.md": "C", "05_D_kernels_and_protocol.md": "D",
             "06_EF_signature_and_verification.md": "EF", "07_G_metalium.md": "G"}


def markers(page: str) -> list[str]:
    return re.findall(r"<!-- weave: (.*?) -->", (DOCS / page).read_text())


@pytest.mark.slow       # re-runs every woven excerpt of the course (seconds); `make test` keeps it
def test_docs_have_not_drifted():
    problems = weave.drift(DOCS)
    assert not problems, "docs drifted from the compiler; run `python docs/weave.py`:\n" + "\n".join(problems)


@pytest.mark.needs_dot
@pytest.mark.slow
def test_pictures_show_what_the_compiler_draws():
    assert not weave.svg_drift(DOCS)


def run_weave(docs: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(DOCS / "weave.py"), "--docs", str(docs), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=docs)


@pytest.mark.slow
def test_check_names_page_marker_and_diff_then_weaving_repairs(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns("__pycache__"))
    page = docs / "03_B_work_on_cores.md"
    block = re.search(r"<!-- weave: diff gemm B1 -->\n(.*?)<!-- /weave -->", page.read_text(), re.S).group(1)
    added = next(line for line in block.splitlines() if line.startswith("+ "))     # a line B1 adds
    page.write_text(page.read_text().replace(added, added + " (edited by hand)"))
    picture_source = (docs / "img" / "gemm_B2.dot").read_text()
    (docs / "img" / "gemm_B2.dot").write_text("digraph stale {}\n")
    (docs / "img" / "gemm_Z9.svg").write_text("<svg/>")

    checked = run_weave(docs, "--check")
    assert checked.returncode == 1
    assert "03_B_work_on_cores.md: marker `diff gemm B1` drifted from the compiler" in checked.stdout
    assert f"-{added} (edited by hand)\n+{added}\n" in checked.stdout
    assert "img/gemm_B2.dot differs" in checked.stdout and "+" + picture_source.splitlines()[0] in checked.stdout
    assert "img/gemm_Z9.svg is drawn by no marker: delete it" in checked.stdout

    (docs / "img" / "gemm_Z9.svg").unlink()
    assert run_weave(docs).returncode == 0
    assert run_weave(docs, "--check").returncode == 0, run_weave(docs, "--check").stdout
    assert page.read_text() == (DOCS / page.name).read_text()
    assert (docs / "img" / "gemm_B2.dot").read_text() == picture_source


def course(tmp_path: Path, text: str) -> tuple[object, Path]:
    (tmp_path / "drawings").mkdir()
    (tmp_path / "drawings" / "box.dot").write_text("digraph box { a -> b }\n")
    page = tmp_path / "t.md"
    page.write_text(text)
    return weave.Course(tmp_path), page


def test_markers_quote_code_by_name(tmp_path):
    c, page = course(tmp_path, "<!-- weave: delta L7 -->\nstale\n<!-- /weave -->\n"
                               "<!-- weave: source nanott/pipeline.py language -->\n<!-- /weave -->\n"
                               "<!-- weave: source nanott/passes/_rewriter.py Rewriter.rebuild -->\n<!-- /weave -->\n"
                               "<!-- weave: docstring nanott/passes/b1_partition_work.py -->\n<!-- /weave -->\n"
                               "<!-- weave: targets -->\n<!-- /weave -->\n")
    text = c.woven(page)
    assert "Delta from L6 (made by D1 split-device-kernel" in text and "stale" not in text
    assert "def language(name: str) -> Language:" in text
    assert "```python\ndef rebuild(self, x: Any, **changes: Any) -> Any:\n    \"\"\"x as the output" in text
    assert "```text\nB1 partition-work: L1 -> L2\n\nChanges:" in text
    assert "| user grid of Tensix cores | 8 x 8 = 64 | 13 x 10 = 130 |" in text


def test_markers_run_the_compiler(tmp_path):
    c, page = course(tmp_path, "<!-- weave: snapshot gemm D3 writer -->\n<!-- /weave -->\n"
                               "<!-- weave: snapshot gemm G1 writer.cpp -->\n<!-- /weave -->\n"
                               "<!-- weave: diff gemm B1 -->\n<!-- /weave -->\n"
                               "<!-- weave: picture gemm C3 -->\n<!-- /weave -->\n"
                               '<!-- weave: drawing box "a box" -->\n<!-- /weave -->\n'
                               "<!-- weave: nanott explain examples/gemm.py --set M=1 --only A1 -->\n<!-- /weave -->\n")
    text = c.woven(page)
    writer = re.search(r"writer -->\n```text\n(.*?)```", text, re.S).group(1).splitlines()
    assert writer[0] == "  writer:" and all(line.startswith("    ") for line in writer[1:])
    assert any("noc_async_write_barrier" in line for line in writer)
    assert "```cpp\n// writer.cpp" in text
    assert "```diff\n--- after A3\n+++ after B1\n@@" in text and "\n+  work: " in text
    assert "![gemm after C3 build-tile-dataflow](img/gemm_C3.svg)" in text
    assert "![a box](img/box.svg)" in text and "(drawings/box.dot)" in text
    assert c.files[tmp_path / "img" / "gemm_C3.dot"].startswith("digraph Kernel {")
    assert set(c.renders) >= {tmp_path / "img" / "gemm_C3.svg", tmp_path / "img" / "box.svg"}
    assert "$ nanott explain examples/gemm.py --set M=1 --only A1\nerror NT903: --set needs --kernel" in text
    assert str(ROOT) not in text


@pytest.mark.parametrize("marker, message", [
    ("snapshots gemm B1", "unknown marker 'snapshots gemm B1'"),
    ("source nanott/pipeline.py no_such", "has no no_such"),
    ("snapshot gemm D3 scribe", "has no part 'scribe'"),
    ("nanott explain examples/gemm.py --only Z9", "exited 2"),
])
def test_unknown_markers_and_names_fail_with_the_page(tmp_path, marker, message):
    (tmp_path / "t.md").write_text(f"<!-- weave: {marker} -->\n<!-- /weave -->\n")
    with pytest.raises(SystemExit, match=re.escape(f"t.md: ") + ".*" + re.escape(message)):
        weave.Course(tmp_path)


def test_index_lists_every_chapter_in_order_and_says_how_to_refresh():
    index = (DOCS / "index.md").read_text()
    on_disk = sorted(p.name for p in DOCS.glob("[0-9][0-9]_*.md"))
    assert on_disk == CHAPTERS
    positions = [index.index(f"]({name})") for name in CHAPTERS]
    assert positions == sorted(positions), "index.md lists the chapters out of order"
    assert "python docs/weave.py" in index and "python docs/weave.py --check" in index


def test_readme_links_the_course_and_where_to_start():
    readme = (ROOT / "README.md").read_text()
    read_next = readme[readme.index("## Read next"):]
    assert "(docs/index.md)" in read_next and "(docs/00_machine.md)" in read_next
    assert "python docs/weave.py" in read_next


def shows(page: str, s) -> bool:
    """The page quotes the stage's pass (source or docstring) and shows a GEMM-family example
    after it."""
    ms = markers(page)
    return (any(m.split()[:2] in (["source", s.path], ["docstring", s.path]) for m in ms)
            and any(re.fullmatch(rf"(snapshot|diff) gemm\w* {s.id}( \S+)?", m) for m in ms))


def shown_elsewhere(s, chapter: str) -> bool:
    """A stage with a page of its own (the worked stage of 09_adding_a_stage.md) is exempt from
    its group's chapter."""
    return any(shows(p.name, s) for p in DOCS.glob("[0-9][0-9]_*.md") if p.name != chapter)


@pytest.mark.parametrize("page", list(STAGES_OF))
def test_every_stage_chapter_has_the_arc(page):
    """The delta of each language the chapter's stages produce, each pass's source, each stage's IR
    on the GEMM, a picture, the interpreter, and exercises whose solutions exist."""
    stages = [s for s in PIPELINE if s.id[0] in STAGES_OF[page] and not shown_elsewhere(s, page)]
    ms = markers(page)
    new_languages = {s.dst for s in stages if s.dst and s.dst != s.src and s.dst != "L0"}
    missing = [f"delta {lang}" for lang in sorted(new_languages) if f"delta {lang}" not in ms]
    pass_files = {s.path for s in stages}
    missing += [f"source or docstring of {f}" for f in sorted(pass_files)
                if not any(m.split()[:2] in (["source", f], ["docstring", f]) for m in ms)]
    missing += [f"the GEMM after {s.id}" for s in stages
                if not any(re.fullmatch(rf"(snapshot|diff) gemm\w* {s.id}( \S+)?", m) for m in ms)]
    missing += ["a picture"] if not any(m.split()[0] in ("picture", "drawing") for m in ms) else []
    if page != "07_G_metalium.md":            # G1's output is C++: there is no interpreter to show
        missing += ["the interpreter"] if not any("_interp.py" in m or m.startswith("nanott run ")
                                                  for m in ms) else []
    text = (DOCS / page).read_text()
    solutions = DOCS / "solutions" / page
    missing += ["## Exercises"] if "## Exercises" not in text else []
    missing += [f"a link to {solutions.relative_to(DOCS)}"] if f"(solutions/{page})" not in text else []
    missing += [f"{solutions.relative_to(DOCS)}"] if not solutions.exists() else []
    assert not missing, f"{page} lacks: " + ", ".join(missing)


def test_machine_chapter_draws_the_machine_and_every_drawing_is_used():
    ms = markers("00_machine.md")
    assert {"chip", "tensix_core", "cb_ring", "dst_handshake"} <= {m.split()[1] for m in ms if m.startswith("drawing ")}
    assert "targets" in ms
    drawn = {m.split()[1] for page in CHAPTERS for m in markers(page) if m.startswith("drawing ")}
    assert drawn == {p.stem for p in (DOCS / "drawings").glob("*.dot")}


def repository_texts():
    """Every text file the repository tracks but the generated pictures and snapshots."""
    import subprocess
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in files.splitlines():
        path = ROOT / name
        if (path.suffix in (".py", ".md", ".cpp", ".hpp", ".h", ".dot", ".toml", ".cfg", "")
                and not name.startswith(("snapshots/", "docs/img/")) and path.is_file()):
            yield name, path.read_text(errors="replace")


def test_the_repository_cites_only_files_inside_it():
    """Design, style and reference facts are pages of docs/: nothing points at notes outside the
    repository (the shared reference pages a session was given), and every `docs/reference.md §N`
    names a section that page has."""
    outside = re.compile(r"\.\./shared|shared/reference|(?<![\w/.])(metalium|tilelang|peers|measured)\.md\b")
    sections = set(re.findall(r"^#+ (§[\w.]+)", (DOCS / "reference.md").read_text(), re.M))
    for name, text in repository_texts():
        if name == "tests/test_docs.py":
            continue
        assert not outside.search(text), f"{name} cites a file outside the repository: {outside.search(text)[0]}"
        for cited in re.findall(r"reference\.md`? (§[\w.]*\w)", text):
            assert cited in sections, f"{name} cites docs/reference.md {cited}, which has no such section"


def test_the_progression_table_names_kernels_sections_and_surveyed_files():
    """The families table of chapter 10 (docs/weave_families.py) cannot drift from the repository:
    each kernel it names is a file of examples/ that a section of the chapter shows, each kernel a
    section shows is in the table, and each TileLang file it says runs unchanged is one
    tools/tilelang_examples.py gives sizes to, in one of the family's folders. (Its L9 errors are
    woven, so test_docs_have_not_drifted checks them.)"""
    spec = importlib.util.spec_from_file_location("tilelang_examples", ROOT / "tools" / "tilelang_examples.py")
    survey = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(survey)
    families = weave.weave_families.FAMILIES
    shown = weave.weave_families.sections((DOCS / "10_progression.md").read_text())
    kernels = [k for _, _, ks, _ in families for k in ks]
    assert len(kernels) == len(set(kernels))
    for k in kernels:
        assert (ROOT / "examples" / f"{k}.py").exists(), k
        assert shown.get(k), f"no section of 10_progression.md shows examples/{k}.py"
    assert set(shown) <= set(kernels), f"sections show kernels the table lacks: {set(shown) - set(kernels)}"
    for family, folders, _, files in families:
        for entry in files:
            f, _, kernel = entry.partition(" ")
            assert f in survey.ARGS, f"{f}: tools/tilelang_examples.py gives it no sizes"
            assert f.split("/")[0] in folders and f.split("/")[0] in survey.FAMILIES, (family, f)
            assert not kernel or any(f"--kernel {kernel} " in a for a in survey.arguments(f)), entry
