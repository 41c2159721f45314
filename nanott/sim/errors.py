"""What the device simulator reports when a program breaks the protocol or stops making progress.

Both are faults of the program simulated (a compiler bug when the program came from the pipeline,
the test's intent when it was built by hand), so they are exceptions with readable messages that
name the kernel (core and role), the CB, the numbers, and the source line of the statement.
"""
from __future__ import annotations

from dataclasses import dataclass

from nanott.ir import NOLOC, Loc
from nanott.printing import seq

RULES = {
    2: "reserve/wait count within the CB's capacity",
    3: "the wrap rule: a pointer may pass the end of the ring only by landing on it",
    4: "cumulative waits: slots are readable only below the count waited for since the last pop",
    5: "push needs a reservation with the data written; pop needs the pages visible",
    6: "compute reads only waited slots and writes only reserved slots",
    7: "noc_async_read_barrier before cb_push_back",
    8: "noc_async_write_barrier before cb_pop_front",
    "3.5": "a page id addresses one of the tensor's pages",
    "5.5": "every page pushed is popped: producer and consumer agree on the counts",
    "5.4.3": "a data-movement kernel ends with all its transfers complete",
    "sem": "a core raises the semaphores of other cores of the run, never its own",
    "mcast": "a multicast lands only in pages every receiver has reserved, on cores of the run, "
             "the sender outside its rectangle, before the pages are pushed",
    "owner": "one core writes each row of a DRAM page in a launch (two writers land in no fixed order)",
    "4.4": "data-format mismatch: the unpacker reads a CB in the format it is configured for "
           "(short inits do not reconfigure it)",
}


def where(core: tuple[int, ...], role: str, loc: Loc) -> str:
    at = f", at {loc}" if loc != NOLOC else ""
    return f"{role} on core ({seq(core)}){at}"


class SimulationError(Exception):
    """A simulated program did something the device would get wrong."""


class ProtocolError(SimulationError):
    """A broken protocol rule: `rule` is its number in docs/reference.md §5.2 (or a section, "5.4.3")."""

    def __init__(self, rule: int | str, message: str, core: tuple[int, ...] = (), role: str = "",
                 loc: Loc = NOLOC):
        self.rule, self.core, self.role, self.loc, self.detail = rule, core, role, loc, message
        head = f"rule {rule}" if isinstance(rule, int) else f"§{rule}"
        text = f"{message} ({head}: {RULES.get(rule, '')})"
        super().__init__(f"{where(core, role, loc)}: {text}" if role else text)

    def at(self, core: tuple[int, ...], role: str, loc: Loc) -> "ProtocolError":
        """The same error, told where it happened (raised deep inside a CB, located by the kernel)."""
        return self if self.role else ProtocolError(self.rule, self.detail, core, role, loc)


@dataclass(frozen=True)
class Blocked:
    """One kernel that cannot go on: where it is, what it waits on, and who could unblock it."""
    core: tuple[int, ...]
    role: str
    call: str                  # the call it is blocked in: "cb_wait_front cb0, 4"
    loc: Loc
    cb: int | None
    state: str                 # "0 of 4 pages visible"
    partner: str | None        # the role that could unblock it (the CB's producer or consumer)
    partner_kind: str          # "producer" | "consumer"
    partner_status: str        # "has finished" | "is blocked too" | ...

    def line(self) -> str:
        cb = f": cb{self.cb} has {self.state}" if self.cb is not None else f": {self.state}"
        who = (f"; its {self.partner_kind}, the {self.partner} on the same core, {self.partner_status}"
               if self.partner else "")
        if self.partner == self.role:
            who = f"; this kernel is its {self.partner_kind} too, so nothing else can unblock it"
        return f"{self.role} waits at {self.call}{cb}{who}"


class DeadlockError(SimulationError):
    """No kernel can make progress: every blocked kernel, grouped by what it waits on."""

    def __init__(self, blocked: list[Blocked]):
        self.blocked = blocked
        groups: dict[tuple, list[tuple[int, ...]]] = {}
        for b in blocked:
            groups.setdefault((b.line(), b.loc), []).append(b.core)
        lines = ["deadlock: no kernel can make progress"]
        for (text, loc), cores in groups.items():
            on = f"core ({seq(cores[0])})" if len(cores) == 1 else (
                f"cores ({seq(cores[0])})..({seq(cores[-1])}) ({len(cores)} cores)")
            at = f" [{loc}]" if loc != NOLOC else ""
            lines.append(f"  on {on}: {text}{at}")
        super().__init__("\n".join(lines + cycle_lines(blocked)))


def cycle_lines(blocked: list[Blocked]) -> list[str]:
    """The wait-for cycles among blocked kernels (a kernel waits for the partner of its CB)."""
    waits = {(b.core, b.role): b for b in blocked}
    found: dict[str, list[tuple[int, ...]]] = {}
    for b in blocked:
        path = [b]
        while (nxt := waits.get((path[-1].core, path[-1].partner))) is not None and nxt not in path:
            path.append(nxt)
        if nxt is None or nxt is not path[0]:
            continue                      # no cycle, or one that does not pass through b
        first = min(range(len(path)), key=lambda i: path[i].role)       # one text per cycle
        path = path[first:] + path[:first]
        text = " -> ".join(f"{p.role} (on cb{p.cb})" for p in path) + f" -> {path[0].role}"
        if b.core not in found.setdefault(text, []):
            found[text].append(b.core)
    return [f"  wait-for cycle on {len(cores)} core(s) from ({seq(cores[0])}): {text}"
            for text, cores in found.items()]
