"""The JSON loader validates (backends/json.py): every malformed dump is NT932 with one line that
names the path in the document where it goes wrong; none raises KeyError or AttributeError, and
none loads to crash F1 or the simulator later.

Each case starts from a real dump of the GEMM example after F1 (L9) and breaks one thing.
"""
from __future__ import annotations

import copy
import re
import json

import pytest

from conftest import ROOT

from nanott.backends.json import dump, load
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel
from nanott.pipeline import run_stages


@pytest.fixture(scope="module")
def good() -> dict:
    program = dict((s.id, p) for s, p in run_stages(load_kernel(ROOT / "examples" / "gemm.py").prim_func, "F1"))["F1"]
    return json.loads(dump(program, "L9", "F1"))


def first(doc: dict, kind: str, where: list | None = None) -> dict:
    """The first node of `kind` in document order."""
    stack = [doc["program"]] if where is None else [where]
    while stack:
        x = stack.pop(0)
        if isinstance(x, dict):
            if x.get("kind") == kind:
                return x
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    raise LookupError(kind)


def set_in(doc, kind, field, value):
    first(doc, kind)[field] = value


BREAKS = {
    "not an object": (lambda d: [d], r"^\$: a dump is an object"),
    "no language": (lambda d: d.pop("language"), r"^\$\.language: no language None"),
    "unknown language": (lambda d: d.update(language="L12"), r"^\$\.language: no language 'L12'"),
    "stage of another language": (lambda d: d.update(after="D3"), r"^\$\.after: 'D3' is not a stage whose output is L9 \(D3 makes L8\)"),
    "format": (lambda d: d.update(nanott_ir=2), r"^\$\.nanott_ir: not a nanott IR dump"),
    "program not an object": (lambda d: d.update(program=[]), r"^\$\.program: the program is an object"),
    "missing kind": (lambda d: first(d, "CbPush").pop("kind"), r"^\$\.program\.kernels\[\d\]\.body.*: an object without a \"kind\""),
    "unknown kind": (lambda d: set_in(d, "CbPush", "kind", "CbShove"), r"^\$\.program\.kernels.*: L9 has no CbShove"),
    "unknown field": (lambda d: set_in(d, "CbPush", "count", 1), r"^\$\.program\.kernels.*: L9's CbPush has no field count"),
    "missing field": (lambda d: first(d, "CbPush").pop("pages"), r"^\$\.program\.kernels.*: L9's CbPush needs pages"),
    "negative pages": (lambda d: set_in(d, "CbPop", "pages", -1), r"^\$\.program\.kernels.*\.pages: -1 is not a positive page count"),
    "a CB that is not there": (lambda d: set_in(d, "CbWait", "cb", 31), r"^\$\.program\.kernels.*\.cb: cb31 is not one of the program's CBs"),
    "a tensor that is not there": (lambda d: set_in(d, "NocReadPage", "tensor", "Z"), r"^\$\.program\.kernels.*\.tensor: no tensor 'Z'"),
    "a kernel that is not there": (lambda d: d["program"]["cbs"][0].update(producer="nobody"), r"^\$\.program\.cbs\[0\]\.producer: no kernel 'nobody'"),
    "a wrong type": (lambda d: set_in(d, "CbPush", "pages", "two"), r"^\$\.program\.kernels.*\.pages: 'two' is not a positive page count"),
    "a shape of strings": (lambda d: d["program"]["params"][0].update(shape=["a", 256]), r"^\$\.program: .*shape\[0\]"),
}


@pytest.mark.parametrize("name", BREAKS)
def test_a_malformed_dump_is_one_line_naming_its_path(good, name):
    breaker, pattern = BREAKS[name]
    doc = copy.deepcopy(good)
    result = breaker(doc)
    text = json.dumps(result if name == "not an object" else doc)
    with pytest.raises(NanottError) as info:
        load(text)
    err = info.value
    assert err.code == "NT932" and "\n" not in err.render(), err.render()
    assert re.search(pattern, err.message), err.message


def test_not_json_at_all():
    with pytest.raises(NanottError, match=r"\$: not JSON \(Expecting value at line 1, column 1\)"):
        load("nope")


def test_the_good_dump_loads(good):
    program, language, after = load(json.dumps(good))
    assert (language, after) == ("L9", "F1") and program.kernels
