"""Small files, with a budget that fails (docs/style.md): code lines per file, where blank lines,
comments and docstrings do not count. Every file opens with a docstring; there is no utils.py.

`python tests/test_budget.py` prints the size of the repository (the README quotes it).
"""
from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = {"nanott/passes": 150, "nanott/languages": 250, "nanott": 400}   # code lines per file


def docstring_lines(tree: ast.AST) -> set[int]:
    """Line numbers covered by module, class and function docstrings."""
    lines: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(path: Path) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    text = path.read_text()
    try:
        skip = docstring_lines(ast.parse(text))
    except SyntaxError:             # test data that is broken on purpose (tests/kernels/)
        skip = set()
    code: set[int] = set()
    ignored = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
               tokenize.ENDMARKER, tokenize.ENCODING}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type not in ignored:
            code.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in skip)
    return len(code)


def budget_for(path: Path) -> int:
    rel = path.relative_to(ROOT).as_posix()
    return next(b for prefix, b in BUDGET.items() if rel.startswith(prefix + "/"))


def package_files() -> list[Path]:
    return sorted((ROOT / "nanott").rglob("*.py"))


def test_code_lines_skips_blanks_comments_and_docstrings(tmp_path):
    f = tmp_path / "x.py"
    f.write_text('"""Doc\nstring."""\n\n# comment\ndef f(x):\n    """Doc."""\n    return (x +\n'
                 '            1)  # trailing\n')
    assert code_lines(f) == 3


def test_files_within_budget():
    over = [f"{p.relative_to(ROOT)}: {n} code lines, budget {b}" for p in package_files()
            if (n := code_lines(p)) > (b := budget_for(p))]
    assert not over, "split by job, not by line count:\n" + "\n".join(over)


def test_every_file_opens_with_a_docstring():
    files = package_files() + sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "examples").glob("*.py"))
    missing = [str(p.relative_to(ROOT)) for p in files if ast.get_docstring(ast.parse(p.read_text())) is None
               and not (p.name == "__init__.py" and not p.read_text().strip())]   # an empty package marker
    assert not missing, "files without an opening docstring:\n" + "\n".join(missing)


def test_no_utils_module():
    assert not [p for p in ROOT.rglob("utils.py") if ".venv" not in p.parts], \
        "no utils.py: shared code goes in a module named for its job"


def size() -> dict[str, tuple[int, int]]:
    """(files, code lines) per top directory of Python code."""
    out = {}
    for top in ("nanott", "examples", "tests", "benchmarks", "docs", "tools"):
        files = sorted((ROOT / top).rglob("*.py"))
        out[top] = (len(files), sum(code_lines(p) for p in files))
    return out


def table() -> str:
    """The size table the README quotes (woven into it by docs/weave.py)."""
    rows = {top: n for top, n in size().items() if n[0]}
    lines = [f"{top + '/':12} {files:4} files {code:6} code lines" for top, (files, code) in rows.items()]
    return "\n".join([*lines, f"{'total':12} {sum(f for f, _ in rows.values()):4} files "
                               f"{sum(n for _, n in rows.values()):6} code lines"])


if __name__ == "__main__":
    print(table(), file=sys.stdout)
