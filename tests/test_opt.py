"""`nanott opt`: stages run on a dump from `--dump-dir` give what the pipeline gives; a hand-edited
dump that changes the numbers is caught; a dump of the wrong language is a diagnostic; usage errors."""
import json

import numpy as np
from conftest import ROOT, nanott_cli as nanott

import nanott as api_
from nanott import api, notebook
from nanott.cli_opt import numerics, random_arrays
from nanott.loader import load_kernel
from nanott.pipeline import STAGES

GEMM = str(ROOT / "examples" / "gemm.py")
ADD = str(ROOT / "examples" / "elementwise_add.py")


def c1_dump(tmp_path):
    nanott("explain", GEMM, "--stop-after", "C1", "--no-check", "--dump-dir", str(tmp_path))
    return tmp_path / f"{STAGES['C1'].position:02d}_C1_lower-shared-to-cb.json"


def test_opt_runs_stages_on_a_dump_like_the_pipeline(tmp_path):
    result = nanott("opt", str(c1_dump(tmp_path)), "--passes", "C2..C3", "-o", str(tmp_path / "c3.json"))
    assert "bit-identical to the input (L4)" in result.stderr
    doc = json.loads((tmp_path / "c3.json").read_text())
    assert (doc["language"], doc["after"]) == ("L6", "C3")
    pipeline_c3 = api_.lower(load_kernel(ROOT / "examples" / "gemm.py").prim_func, "C3")
    assert api_.load(tmp_path / "c3.json") == pipeline_c3


def test_opt_prints_the_ir_without_output(tmp_path):
    out = nanott("opt", str(c1_dump(tmp_path)), "--passes", "C2").stdout
    assert out.startswith("kernel ") and "tile" in out


def test_a_hand_edited_dump_resumes_through_the_pipeline(tmp_path):
    """A learner turns C = A + B into C = A - B in the L4 dump and resumes at C2: the lowered L5
    program computes A - B (checked against NumPy at float32's tolerance: one rounding)."""
    nanott("explain", ADD, "--stop-after", "C1", "--no-check", "--dump-dir", str(tmp_path))
    text = (tmp_path / f"{STAGES['C1'].position:02d}_C1_lower-shared-to-cb.json").read_text()
    adds = [i for i, line in enumerate(text.splitlines()) if line.strip() == '"op": "+",']
    lines = text.splitlines()
    edited = [i for i in adds if '"line": 32' in lines[i - 2]]        # the T.Parallel's A + B (line 32)
    assert len(edited) == 1
    lines[edited[0]] = lines[edited[0]].replace("+", "-")
    (tmp_path / "edited.json").write_text("\n".join(lines))
    nanott("opt", str(tmp_path / "edited.json"), "--passes", "C2", "-o", str(tmp_path / "c2.json"))
    program = api_.load(tmp_path / "c2.json")
    arrays = random_arrays(program, seed=5)
    a, b = (arrays[n].astype(np.float32) for n in ("A", "B"))
    out = api.simulate(program, "L5", arrays)["C"]
    assert api.within(out, a - b, "float32") and not api.within(out, a + b, "float32")


def test_numerics_flag_an_undeclared_change():
    """Numerics compares the program before and after: a B2 output of another kernel (A - B for
    A + B) is a change B2 does not declare, so the check fails; C2 declares a rounding change."""
    plus = api_.lower(load_kernel(ROOT / "examples" / "elementwise_add.py").prim_func, "B1")
    minus = tweak(plus)
    words, ok = numerics(plus, "L2", api_.run_pass("B2", minus), "L3", [STAGES["B2"]], seed=0)
    assert not ok and "no stage run declares a Numerics change" in words
    words, ok = numerics(plus, "L2", api_.run_pass("B2", plus), "L3", [STAGES["B2"]], seed=0)
    assert ok and "bit-identical" in words
    words, ok = numerics(plus, "L2", api_.run_pass("B2", minus), "L3", [STAGES["C2"]], seed=0)
    assert ok and "C2 declare a Numerics change" in words


def tweak(program):
    """The program with its elementwise + turned into - (through its JSON, as a learner would)."""
    from nanott.backends import json as ir_json
    doc = ir_json.to_json(program)

    def visit(x):
        if isinstance(x, dict):
            if x.get("op") == "+" and x.get("loc", {}).get("line") == 32:
                x["op"] = "-"
            for v in x.values():
                visit(v)
        elif isinstance(x, list):
            for v in x:
                visit(v)
    visit(doc)
    return ir_json.from_json(doc, program_language(program))


def program_language(program):
    from nanott.pipeline import language
    return language(notebook.language_of(program))


def test_opt_rejects_a_stage_of_another_language(tmp_path):
    err = nanott("opt", str(c1_dump(tmp_path)), "--passes", "D3", code=3).stderr
    assert "error NT933" in err and "takes an L7 program" in err


def test_opt_rejects_p0_g1_and_unknown_stages(tmp_path):
    dump = str(c1_dump(tmp_path))
    assert "error NT935" in nanott("opt", dump, "--passes", "G1", code=3).stderr
    assert "error NT913" in nanott("opt", dump, "--passes", "C2,Z9", code=3).stderr
    assert "error NT935" in nanott("opt", dump, "--passes", ",", code=3).stderr
    backwards = nanott("opt", dump, "--passes", "C3..C2", code=3).stderr
    assert "error NT935" in backwards and "C2 runs before C3" in backwards


def test_a_range_of_passes_is_every_stage_between_in_pipeline_order():
    from nanott.cli_opt import stage_list
    from nanott.pipeline import PIPELINE
    ids = [s.id for s in stage_list("C2..C3", "C1")]
    assert ids == [s.id for s in PIPELINE[STAGES["C2"].position:STAGES["C3"].position + 1]]
    assert len(ids) > 2 and [s.id for s in stage_list("A2, C2..C2", "A1a")] == ["A2", "C2"]


def test_opt_of_a_file_that_is_not_a_dump(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    assert "error NT932" in nanott("opt", str(bad), "--passes", "C2", code=3).stderr


def test_version_flag():
    from importlib.metadata import version
    assert nanott("--version").stdout == f"nanott {version('nanott')}\n"
