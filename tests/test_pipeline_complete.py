"""The ladder is complete: every stage of PIPELINE has its pass file and function, with the
specification docstring, and every language it produces has a grammar, a checker, a printer and an
interpreter that extends the level before. A missing piece FAILS here; nothing is skipped.
"""
import importlib
import inspect

import pytest

from nanott.ir import Language
from nanott.pipeline import LANGUAGES, PIPELINE, interpreter, language

# Stages whose output is not an IR language, by name, with the reason they have no checker or
# interpreter. Any other stage without an output language fails test_every_stage_has_a_language.
EXEMPT = {"G1": "its output is C++ source files (reader, compute, writer, host), not an IR: it is "
                "checked by the L9 checker and verifier before it and by compiling it on a machine"}
STAGES = [pytest.param(s, id=s.id, marks=getattr(pytest.mark, s.id)) for s in PIPELINE]
LEVELS = [pytest.param(name, id=name) for name in LANGUAGES]


@pytest.mark.parametrize("stage", STAGES)
def test_pass_file_and_function(stage):
    module = importlib.import_module(stage.module_name)
    function = getattr(module, stage.name.replace("-", "_"), None)
    assert callable(function), f"{stage.module_name} must export {stage.name.replace('-', '_')}(program, target)"
    inspect.signature(function).bind(None, None)          # callable as f(program, target)


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
