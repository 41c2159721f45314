"""The printer names a statement's source line only where it changes from the line printed before,
in IR listings and in the emitted C++ alike."""
import re

from conftest import EXAMPLES, ROOT

from nanott.ir import Loc
from nanott.languages import l3
from nanott.printing import stmt_lines


def test_a_source_line_is_named_where_it_changes():
    at = lambda n: Loc("k.py", n)                              # noqa: E731
    body = (l3.Let("a", l3.Const(1, "int32"), loc=at(5)), l3.Let("b", l3.Const(2, "int32"), loc=at(5)),
            l3.For("i", l3.Const(4, "int32"), "serial", 0, (
                l3.Let("c", l3.Const(3, "int32"), loc=at(6)),), loc=at(6)),
            l3.Let("d", l3.Const(4, "int32"), loc=at(5)))
    comments = [re.search(r"# (\S+)$", line) for line in stmt_lines(body)]
    assert [m and m.group(1) for m in comments] == ["k.py:5", None, "k.py:6", None, "k.py:5"]


KERNEL = re.compile(r"^\s*(reader|compute|writer):$|^// ----- |^launch \d+:$")      # where a new listing starts (a launch too)


def test_no_listing_repeats_the_line_above_it():
    """In every snapshot, each kernel's listing (IR or C++) names a source line only when it
    differs from the last one named; the P0 listing (L0, one kernel) included."""
    for example in EXAMPLES:
        for f in sorted((ROOT / "snapshots" / example).glob("*.txt")):
            last = None
            for line in f.read_text().splitlines():
                if KERNEL.match(line):
                    last = None
                m = re.search(r"(?:#|//) (?:.*; )?(\w+\.py:\d+)$", line)   # after a note too
                if m:
                    assert m.group(1) != last, (f.relative_to(ROOT), line)
                    last = m.group(1)
