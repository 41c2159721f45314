"""Every diagnostic code the compiler can raise is registered once in nanott.diagnostics.CODES,
so two places never give one code two meanings unnoticed."""
import re
from pathlib import Path

from nanott.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[1]


def raised_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "nanott").rglob("*.py")):
        if path.name == "diagnostics.py":
            continue
        for code in re.findall(r'"(NT\d{3})"', path.read_text()):
            found.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_raised_code_is_registered():
    missing = {c: files for c, files in raised_codes().items() if c not in CODES}
    assert not missing, f"codes raised but not in diagnostics.CODES: {missing}"


def test_every_registered_code_is_raised_somewhere():
    raised = raised_codes()
    unused = [c for c in CODES if c not in raised and c != "NT314"]   # NT314: diagnostics.not_yet
    assert not unused, f"codes registered but never raised: {unused}"


def test_codes_are_in_their_family():
    families = {"1": "a mistake", "2": "a hardware limit", "3": "not supported yet",
                "5": "a fault the simulator names", "9": "usage"}
    assert all(code[2] in families for code in CODES)
