"""Every language module states its grammar truthfully, and its checker rejects what is outside it.

The docstring's `+`/`-`/`~` lines must equal the delta computed from the productions, for every
language in nanott.pipeline.LANGUAGES: a missing language module is a failure, not a skip. Each
checker is then fed three programs that break its language, built from the language's own
productions: a node of a neighbouring language where a statement belongs, a string there, and a
statement with a required field left empty.
"""
from __future__ import annotations

import re
import types
import typing
from dataclasses import fields, is_dataclass, replace

import pytest

from nanott.grammar import computed_delta, describe, docstring_delta, docstring_parent, skeleton
from nanott.ir import CheckError, Language
from nanott.pipeline import LANGUAGES, PIPELINE, language


@pytest.mark.parametrize("name", LANGUAGES)
def test_docstring_delta_agrees_with_the_productions(name):
    lang = language(name)
    i = LANGUAGES.index(name)
    if i == 0:
        assert lang.parent is None and docstring_parent(name) is None
        return
    assert lang.parent is language(LANGUAGES[i - 1]), f"{name} should extend {LANGUAGES[i - 1]}"
    header = docstring_parent(name)
    assert header is not None, f"{name}'s docstring has no 'Delta from {LANGUAGES[i - 1]}' section"
    parent, made_by = header
    assert parent == lang.parent.name
    makers = [s.id for s in PIPELINE if s.src == parent and s.dst == name]
    assert makers and all(m in made_by for m in makers), f"{name}: header should name {makers}"
    said, computed = docstring_delta(name), computed_delta(name)
    problems = [f"{sign} docstring {sorted(a)} vs computed {sorted(b)}"
                for sign, a, b in zip("+-~", said, computed) if a != b]
    assert not problems, f"{name}'s Delta section disagrees with its productions:\n" + "\n".join(problems)


def test_describe_prints_grammar_unions_and_computed_delta():
    text = describe("L1")
    assert text.startswith("L1:")
    assert re.search(r"^  Stmt +::= .*\bAlloc\b", text, re.M)
    assert "  ~ Alloc, Tensor" in text and "The docstring's delta agrees." in text
    assert "first language" in describe("L0")


# ----- breaking each language on purpose -----
def _options(hint) -> tuple:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return typing.get_args(hint) if union else (hint,)


def _plant(cls: type, lang: Language, value, path: str, depth: int = 0):
    """(an instance of cls holding `value` where the first Stmt is expected, its path) or None."""
    stmts = set(lang.nonterminals["Stmt"])
    for f in fields(cls):
        hint = lang.hints(cls).get(f.name)
        args = typing.get_args(hint) if typing.get_origin(hint) is tuple else ()
        many = len(args) == 2 and args[1] is Ellipsis
        members = _options(args[0]) if many else _options(hint)
        if many and set(members) == stmts:
            return replace(skeleton(cls, lang), **{f.name: (value,)}), f"{path}.{f.name}[0]"
        for m in members:
            if is_dataclass(m) and depth < 4 and (got := _plant(m, lang, value, "", depth + 1)):
                inner, sub = got
                where = f"{path}.{f.name}[0]{sub}" if many else f"{path}.{f.name}{sub}"
                return replace(skeleton(cls, lang), **{f.name: (inner,) if many else inner}), where
    return None


def _planted(name: str, value):
    lang = language(name)
    got = _plant(lang.root, lang, value, lang.root.__name__)
    assert got, f"{name}: no place for a Stmt below {lang.root.__name__}"
    return lang, *got


def _foreign(name: str) -> type:
    """A production of the next language (the previous one, for the last) that `name` lacks."""
    i = LANGUAGES.index(name)
    other = language(LANGUAGES[i + 1] if i + 1 < len(LANGUAGES) else LANGUAGES[i - 1])
    mine = language(name).nodes
    strangers = sorted(n for n in other.nodes if n not in mine)
    assert strangers, f"{other.name} has no production that {name} lacks"
    statements = [n for n in strangers if hasattr(other.nodes[n], "head")]
    return other.nodes[(statements or strangers)[0]], other


@pytest.mark.parametrize("name", LANGUAGES)
def test_checker_rejects_a_node_of_another_language(name):
    cls, other = _foreign(name)
    lang, program, path = _planted(name, skeleton(cls, other))
    with pytest.raises(CheckError, match=re.escape(f"{name} has no {cls.__name__}: {path}")):
        lang.check(program)


@pytest.mark.parametrize("name", LANGUAGES)
def test_checker_rejects_a_string_where_a_statement_belongs(name):
    lang, program, path = _planted(name, "oops")
    first = sorted(c.__name__ for c in lang.nonterminals["Stmt"])[0]
    with pytest.raises(CheckError, match=rf"got str 'oops': {re.escape(path)}\n.*\b{first}\b"):
        lang.check(program)


@pytest.mark.parametrize("name", LANGUAGES)
def test_checker_rejects_a_missing_field_value(name):
    lang = language(name)
    for cls in sorted(lang.nonterminals["Stmt"], key=lambda c: c.__name__):
        required = [f for f, h in lang.hints(cls).items() if type(None) not in _options(h)]
        if required:
            break
    broken = replace(skeleton(cls, lang), **{required[0]: None})
    lang, program, path = _planted(name, broken)
    with pytest.raises(CheckError, match=re.escape(f"got NoneType None: {path}.{required[0]}")):
        lang.check(program)


def test_an_l7_node_in_an_l0_kernel_is_named():
    l7 = language("L7")
    _, program, path = _planted("L0", skeleton(l7.nodes["DeviceKernel"], l7))
    with pytest.raises(CheckError, match=re.escape(f"L0 has no DeviceKernel: {path}")):
        language("L0").check(program)


@pytest.mark.parametrize("name", LANGUAGES)
def test_field_types_resolve_as_typing_resolves_them(name):
    """Language.hints compiles each annotation's text once for all languages; typing.get_type_hints
    is the reference it must agree with, for every production of the language."""
    lang = language(name)
    for cls in lang.nodes.values():
        expected = typing.get_type_hints(cls, globalns=lang._ns)
        expected.pop("loc", None)
        assert lang.hints(cls) == expected, cls.__name__


def test_the_checkers_memo_skips_only_what_it_accepted(lowered):
    """One lowering's checks share a memo of the nodes each language accepted (pipeline.run_stages):
    a program that reuses accepted subtrees is still rejected for the one new node that is wrong."""
    from conftest import with_kernel
    program, l9 = lowered.program("gemm", "F1"), language("L9")
    accepted: dict = {}
    l9.check(program, accepted=accepted)
    assert id(program) in accepted and id(program.kernel("compute")) in accepted
    body = program.kernel("compute").body
    bad = with_kernel(program, "compute", body=(*body, "oops"))
    with pytest.raises(CheckError, match=r"got str 'oops': Program\.kernels\[1\]\.body\[\d+\]"):
        l9.check(bad, accepted=accepted)
