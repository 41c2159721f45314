"""The ladder is complete: every stage of PIPELINE has its pass file and function, with the
specification docstring, and every language it produces has a grammar, a checker, a printer and an
interpreter that extends the level before. A missing piece FAILS here; nothing is skipped.
"""
import importlib
import inspect
import re
from pathlib import Path

import pytest

from nanott.ir import Language
from nanott.pipeline import LANGUAGES, PIPELINE, interpreter, language, resolved

# Stages whose output is not an IR language, by name, with the reason they have no checker or
# interpreter. Any other stage without an output language fails test_every_stage_has_a_language.
EXEMPT = {"G1": "its output is C++ source files (reader, compute, writer, host), not an IR: it is "
                "checked by the L9 checker and verifier before it and by compiling it on a machine"}
STAGES = [pytest.param(s, id=s.stem, marks=getattr(pytest.mark, s.id)) for s in PIPELINE]
LEVELS = [pytest.param(name, id=name) for name in LANGUAGES]


@pytest.mark.parametrize("stage", STAGES)
def test_pass_file_and_function(stage):
    """The stage holds its pass: a function named after the verb phrase, in a file named after the
    stage (`B1 partition-work` is partition_work in nanott/passes/b1_partition_work.py)."""
    snake = stage.name.replace("-", "_")
    assert stage.function.__name__ == snake, f"{stage.id}'s function must be named {snake}"
    assert stage.path == f"nanott/passes/{stage.id.lower()}_{snake}.py", stage.path
    inspect.signature(resolved(stage.function)).bind(None, None)   # callable as f(program, target)


@pytest.mark.parametrize("stage", STAGES)
def test_sub_steps_are_run_and_documented(stage):
    """A stage's named sub-steps are called by its pass and named in its docstring, so the list
    `nanott passes --verbose` prints is every rewrite that runs."""
    source = Path(stage.path).read_text()
    for step in stage.steps:
        assert f"{step.__name__}(" in source, f"{stage.path} does not run {step.__name__}"
        assert step.__name__ in stage.doc, f"{stage.id}'s docstring does not name {step.__name__}"


def test_stage_ids_and_names_are_unique():
    assert len({s.id for s in PIPELINE}) == len({s.stem for s in PIPELINE}) == len(PIPELINE)


@pytest.mark.parametrize("stage", STAGES)
def test_pass_docstring_is_its_specification(stage):
    doc = stage.doc.strip()
    assert doc.splitlines()[0] == f"{stage.id} {stage.name}: {stage.transition}", stage.module_name
    for part in ("Changes:", "Preserves:", "Why:"):
        assert f"\n{part}" in doc, f"{stage.module_name}'s docstring has no {part}"


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_a_language(stage):
    if stage.dst is None:
        assert stage.id in EXEMPT, f"{stage.id} produces no language and is not exempted"
    else:
        assert stage.dst in LANGUAGES and (stage.src is None or stage.src in LANGUAGES)


def test_every_language_is_produced_in_order():
    produced = [s.dst for s in PIPELINE if s.dst is not None]
    assert sorted(set(produced)) == list(LANGUAGES) and produced == sorted(produced)


@pytest.mark.parametrize("name", LEVELS)
def test_language_has_grammar_checker_printer(name):
    module = importlib.import_module(f"nanott.languages.{name.lower()}")
    assert (module.__doc__ or "").startswith(f"{name}:"), f"{module.__name__}'s docstring must open with '{name}:'"
    lang = language(name)
    assert isinstance(lang, Language) and lang.name == name
    assert callable(getattr(lang.root, "lines", None)), f"{name}'s root {lang.root.__name__} has no printer (lines)"
    if name != "L0":
        assert "Delta" in module.__doc__, f"{module.__name__}'s docstring states no delta"
        assert lang.parent is language(f"L{int(name[1:]) - 1}")


@pytest.mark.parametrize("name", LEVELS)
def test_language_has_interpreter_by_open_recursion(name):
    cls = interpreter(name)
    assert callable(getattr(cls, "run", None))
    if name != "L0":
        parent = interpreter(f"L{int(name[1:]) - 1}")
        assert issubclass(cls, parent), f"Interp{name} must extend {parent.__name__}"


def test_every_pass_helper_lives_with_its_users():
    """A helper module under passes/ used by one pass only carries that pass's id
    (`_d5_dst_slots.py`); one without an id is shared by several passes, or used outside passes/
    (a language, the simulator). Imports are read from the source; a helper that only a helper of
    its own pass imports belongs to that pass."""
    root = Path(__file__).resolve().parent.parent
    by_pass = {root / s.path: s.id.lower() for s in PIPELINE}
    users: dict[str, set[str]] = {}
    for f in (root / "nanott").rglob("*.py"):
        if f.parent.name == "passes" and f.name.startswith("_"):
            for helper in re.findall(r"nanott\.passes\.(_\w+)", f.read_text()):
                owner = re.match(r"_([a-z]\d+[a-z]?)_", f.stem)    # a pass's helper split in two
                if owner and helper.startswith(f"_{owner.group(1)}_"):
                    users.setdefault(helper, set()).add(owner.group(1))
            continue
        if f.name == "pipeline.py":
            continue                  # the list naming sub-steps
        for helper in re.findall(r"nanott\.passes\.(_\w+)", f.read_text()):
            users.setdefault(helper, set()).add(by_pass.get(f, f.relative_to(root).as_posix()))
    for f in sorted((root / "nanott" / "passes").glob("_*.py")):
        if f.stem == "__init__":
            continue
        owner = re.match(r"_([a-z]\d+[a-z]?)_", f.stem)
        used_by = users.get(f.stem, set())
        if owner:
            assert used_by == {owner.group(1)}, f"{f.name} is named for {owner.group(1)}, used by {used_by}"
        else:
            assert len(used_by) != 1 or not used_by <= set(by_pass.values()), (
                f"{f.name} is used by one pass only ({used_by}): name it for that pass")
