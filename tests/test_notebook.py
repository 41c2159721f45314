"""The notebook-grade API, driven as a notebook session would drive it: an IR shows its text and its
SVG, is dumped and loaded, one pass runs on the loaded program and gives what the pipeline gives,
and a compiled kernel is called like TileLang's, on NumPy arrays and (when installed) torch tensors.

Numerics are checked against an independent NumPy reference on random inputs at the tolerance of
the output's dtype (api.TOLERANCE: float32 output of bfloat16 inputs, one rounding of the sum).
"""
import shutil

import ml_dtypes
import numpy as np
import pytest
from conftest import ROOT

import nanott
from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel
from nanott.pipeline import PIPELINE


@pytest.fixture(scope="module")
def add():
    return load_kernel(ROOT / "examples" / "elementwise_add.py").prim_func


def bf16(rng, shape):
    return rng.uniform(-1, 1, size=shape).astype(ml_dtypes.bfloat16)


@pytest.mark.needs_dot
def test_a_program_shows_its_ir_text_and_its_svg(add):
    program = nanott.lower(add, stop_after="D3")
    assert repr(program) == str(program) == "\n".join(program.lines())
    assert repr(program).startswith("kernel elementwise_add(") and "cb_reserve_back" in repr(program)
    svg = program._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "reader" in svg


def test_svg_is_none_without_dot(add, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert nanott.lower(add, stop_after="A1")._repr_svg_() is None


@pytest.mark.parametrize("stage", [s for s in PIPELINE[1:-1]], ids=lambda s: s.id)
def test_dump_load_run_pass_matches_the_pipeline(add, stage, tmp_path):
    before = PIPELINE[stage.position - 1]
    path = nanott.dump(nanott.lower(add, stop_after=before.id), tmp_path / "ir.json", after=before.id)
    loaded = nanott.load(path)
    assert nanott.run_pass(stage.id, loaded) == nanott.lower(add, stop_after=stage.id)


def test_dump_infers_the_language_and_first_stage(add, tmp_path):
    import json
    nanott.dump(nanott.lower(add, stop_after="D5"), tmp_path / "l9.json")
    doc = json.loads((tmp_path / "l9.json").read_text())
    assert (doc["language"], doc["after"]) == ("L9", "D5")


def test_run_pass_rejects_a_program_of_the_wrong_language(add):
    with pytest.raises(NanottError) as e:
        nanott.run_pass("D3", nanott.lower(add, stop_after="B1"))
    assert e.value.code == "NT933" and "takes an L7 program" in e.value.message


def test_load_of_a_bad_file_is_a_diagnostic(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nanott_ir": 1, "language": "L1", "after": "A1", "program": {"kind": "Nope"}}')
    with pytest.raises(NanottError) as e:
        nanott.load(bad)
    assert e.value.code == "NT932" and "Nope" in e.value.message


@pytest.mark.parametrize("level", ["L0", "L5", "L9"])
def test_compiled_kernel_returns_its_outputs(add, level):
    rng = np.random.default_rng(7)
    a, b = bf16(rng, (256, 256)), bf16(rng, (256, 256))
    kernel = nanott.compile(add, out_idx=[-1], level=level)
    c = kernel(a, b)
    expected = a.astype(np.float32) + b.astype(np.float32)
    assert c.dtype == np.float32 and api.within(c, expected, "float32")
    assert "elementwise_add" in repr(kernel)


def test_compiled_kernel_rejects_a_wrong_out_idx(add):
    with pytest.raises(NanottError) as e:
        nanott.compile(add, out_idx=[0], level="L0")
    assert e.value.code == "NT934" and "['C']" in e.value.message


def test_version_is_the_package_version():
    from importlib.metadata import version
    assert nanott.__version__ == version("nanott")


@pytest.mark.needs_torch                       # optional for users; CI installs the CPU build
def test_torch_tensors_in_and_out(add):
    import torch
    g = torch.Generator().manual_seed(3)
    a = (torch.rand((256, 256), generator=g) * 2 - 1).to(torch.bfloat16)
    b = (torch.rand((256, 256), generator=g) * 2 - 1).to(torch.bfloat16)
    expected = a.float().numpy() + b.float().numpy()
    c = nanott.compile(add, level="L5")(a, b)
    assert isinstance(c, torch.Tensor) and c.dtype == torch.float32
    assert api.within(c.numpy(), expected, "float32")
    out = torch.full((256, 256), float("nan"))
    nanott.run(add, a, b, out, level="L9")
    assert api.within(out.numpy(), expected, "float32")
