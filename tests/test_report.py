"""`nanott report`: the page's content (every stage, its explanation, time, numerics, diff, picture;
a failing stage's input and diagnostic), and the page in a real headless browser (Debian's
chromium driven by playwright): it loads without errors, every stage in the sidebar is reachable
and shows its own section, and a screenshot is taken.

Every example's report opens in the browser. The numeric checks of every example already run in
tests/test_numerics.py, so the reports of the other examples are made with --no-check (pictures,
diffs and times only) and gemm's with its checks, which the page must show.
"""
import os
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, nanott_cli as nanott

from nanott.pipeline import PIPELINE, STAGES

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
L1_TOO_SMALL = ["--kernel", "matmul", *[f"--set={k}" for k in
                ("M=512", "N=512", "K=512", "bm=256", "bn=256", "bk=256", "stages=4")]]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """The GEMM's report, checked, and a failing kernel's (every example's: all_reports, slow)."""
    d = tmp_path_factory.mktemp("reports")
    out = {"gemm": d / "gemm.html"}
    nanott("report", str(ROOT / "examples" / "gemm.py"), "-o", str(out["gemm"]))
    out["failing"] = d / "failing.html"
    result = nanott("report", str(ROOT / "tests" / "kernels" / "gemm_family.py"), *L1_TOO_SMALL,
                    "-o", str(out["failing"]), code=3)
    assert "error NT201" in result.stderr
    return out


@pytest.fixture(scope="module")
def all_reports(reports, tmp_path_factory) -> dict[str, Path]:
    """Every example's report (each draws a picture per stage: about 20 `dot` runs an example)."""
    d = tmp_path_factory.mktemp("all_reports")
    out = dict(reports)
    for ex in EXAMPLES:
        if ex not in out:
            out[ex] = d / f"{ex}.html"
            nanott("report", str(ROOT / "examples" / f"{ex}.py"), "-o", str(out[ex]), "--no-check")
    return out


def sections(page: str) -> dict[str, str]:
    parts = re.split(r'<section class="stage" id="(\w+)">', page)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_stage_has_its_explanation_time_ir_diff_and_picture(reports):
    page = reports["gemm"].read_text()
    found = sections(page)
    assert list(found) == [s.id for s in PIPELINE]
    for s in PIPELINE:
        text = found[s.id]
        assert f"What {s.id} does" in text and re.search(r"time \d+\.\d ms", text)
        if s.dst is not None:
            assert "<svg" in text and f"numerics: {s.dst} interpreter: max |err|" in text
        if s.position > 0 and s.dst is not None:
            assert f"Diff against {PIPELINE[s.position - 1].id}" in text
    assert "16 blocks over 16 of 8x8 cores</text>" in found["B1"]                 # the work-split picture
    assert 'class="diff"' in found["D3"] and "diff_add" in found["D3"] and "cb_reserve_back" in found["D3"]
    assert "reader.cpp" in found["G1"] and "kernel_main" in found["G1"]
    assert "http" not in page.replace("http://www.w3.org", "")     # self-contained: nothing fetched


def test_a_failing_stage_shows_its_input_and_diagnostic(reports):
    found = sections(reports["failing"].read_text())
    assert "A2 failed" in found["A2"] and "error NT201" in found["A2"] and "need 1,536 KiB of L1" in found["A2"]
    assert "Its input" in found["A2"] and "dram interleaved" in found["A2"]      # A1's L1 output
    assert all("Not reached" in found[s.id] for s in PIPELINE[STAGES["A3"].position:])


@pytest.mark.needs_browser
@pytest.mark.slow
def test_every_report_opens_in_the_browser(all_reports, tmp_path):
    reports = all_reports
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: errors.append(f"fetched {r.url}") if not r.url.startswith("file:") else None)
        for name, path in reports.items():
            page.goto(path.as_uri())
            links = page.locator("nav a")
            assert links.count() == len(PIPELINE)
            for i, s in enumerate(PIPELINE):
                if name == "failing" and s.position > STAGES["A2"].position:
                    break
                links.nth(i).click()
                page.wait_for_selector(f'section.stage.current[id="{s.id}"]', timeout=10_000)
                shown = page.locator("section.stage:visible")
                assert shown.count() == 1 and shown.get_attribute("id") == s.id, (name, s.id)
                assert shown.locator("h2").inner_text().startswith(f"{s.id} {s.name}")
            if name != "failing":                                  # the keys move too
                page.keyboard.press("ArrowLeft")
                page.wait_for_selector(f'section.stage.current[id="{PIPELINE[-2].id}"]', timeout=10_000)
        page.goto(reports["gemm"].as_uri() + "#D3")
        shot = Path(os.environ.get("NANOTT_SCREENSHOT", tmp_path / "report.png"))
        page.screenshot(path=str(shot))
        browser.close()
    assert not errors, errors
    assert shot.stat().st_size > 20_000                          # a rendered page, not a blank one
