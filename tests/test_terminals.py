"""Terminals are checked: for every vocabulary of nanott/terminals.py, a real program holding a
field of that kind passes its language's checker, and the same program with one such field set to
a word outside the vocabulary (op="frobnicate", dtype="float7") is rejected, naming the field."""
import dataclasses
import re
import typing

import pytest
from conftest import EXAMPLES

from nanott.ir import CheckError, walk
from nanott.pipeline import PIPELINE, language
from nanott.terminals import VOCABULARIES

BAD = {int: 7, str: "frobnicate"}


def first_use(lowered, kind: str):
    """(stage, program, node, field) of the first field annotated with `kind` in any example."""
    literal = VOCABULARIES[kind]
    for s in PIPELINE:
        if s.dst is None:
            continue
        lang = language(s.dst)
        for example in EXAMPLES:
            program = lowered.program(example, s.id)
            for x in walk(program):
                for name, hint in lang.hints(type(x)).items():
                    if hint == literal:
                        return s, program, x, name
    raise AssertionError(f"no example holds a {kind} field: add one, so its check is exercised")


def swap(x, old, new):
    """x with the node `old` (by identity) replaced by `new`."""
    if x is old:
        return new
    if isinstance(x, tuple):
        return tuple(swap(v, old, new) for v in x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        changed = {f.name: swap(getattr(x, f.name), old, new) for f in dataclasses.fields(x)
                   if f.name != "loc"}
        return x if all(changed[k] is getattr(x, k) for k in changed) else dataclasses.replace(x, **changed)
    return x


@pytest.mark.parametrize("kind", sorted(VOCABULARIES))
def test_a_word_outside_the_vocabulary_is_rejected_naming_the_field(kind, lowered):
    s, program, node, field = first_use(lowered, kind)
    lang = language(s.dst)
    lang.check(program)                                             # the real value is in the vocabulary
    words = typing.get_args(VOCABULARIES[kind])
    bad = "float7" if kind == "DType" else BAD[type(words[0])]
    assert bad not in words
    with pytest.raises(CheckError) as e:
        lang.check(swap(program, node, dataclasses.replace(node, **{field: bad})), after="a test")
    message = str(e.value)
    assert re.search(rf"\.{field}(,|$)", message, re.M), message           # names the field
    assert repr(bad) in message and repr(words[0]) in message      # the bad word and the vocabulary
