"""The one error boundary: what every `nanott` command and `nanott.run`/`nanott.lower` turn a failure
into, and the exit code that says whose failure it is.

  0  ok
  1  numerics mismatch: the kernel ran and an output differs from its reference beyond tolerance
  2  usage error: a command line the CLI cannot parse (an unknown option, a missing file, ...)
  3  a diagnostic: a mistake in the kernel, its file or its input, with code, line, caret and hint
  4  internal error: a compiler bug (a checker or interpreter failure, a simulator fault in a
     program the compiler made, any other exception), told with a request to report it

A simulator fault (a broken protocol rule, a deadlock) is a fault of the program simulated; the
pipeline's F1 should have caught it, so after the pipeline it is the compiler's. It still prints as a
diagnostic (`NT501`/`NT502`, the statement's line and caret) and only a genuine Python exception
shows a traceback.
"""
from __future__ import annotations

import sys
import warnings
import traceback
from contextlib import contextmanager
from typing import Callable, Iterator

from nanott.diagnostics import NanottError, NanottWarning
from nanott.ir import NOLOC, CheckError
from nanott.sim.errors import DeadlockError, ProtocolError, SimulationError

OK, MISMATCH, USAGE, DIAGNOSTIC, INTERNAL = 0, 1, 2, 3, 4
EXIT_CODES = ("exit codes: 0 ok, 1 numerics mismatch, 2 usage error, 3 a diagnostic about your kernel "
              "or input, 4 internal error (a compiler bug; please report it)")
REPORT = ("nanott: this is a compiler bug, not a mistake in your kernel; please report it with the "
          "kernel file and the command line")
RECURSION_LIMIT = 8000          # an expression chain of a few thousand operations still parses


def fault_diagnostic(e: SimulationError) -> NanottError:
    """A simulator fault in the diagnostic format: the broken rule or the deadlock, at its line."""
    if isinstance(e, ProtocolError):
        return NanottError("NT501", str(e), e.loc, hint="the simulator ran the protocol calls and found "
                           "this rule broken (docs/reference.md §5.2); F1 did not catch it statically")
    loc = next((b.loc for b in getattr(e, "blocked", ()) if b.loc != NOLOC), NOLOC)
    return NanottError("NT502", str(e), loc, hint="every blocked kernel is listed with what it waits on "
                       "and who could unblock it")


@contextmanager
def diagnosed() -> Iterator[None]:
    """For the Python API: simulator faults and too-deep expressions become NanottErrors."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION_LIMIT))
    try:
        yield
    except (ProtocolError, DeadlockError) as e:
        raise fault_diagnostic(e) from e
    except RecursionError as e:
        raise NanottError("NT119", "the kernel nests expressions too deeply for nanott (Python's "
                          "recursion limit)", hint="split a long expression into named temporaries "
                          "in the T.Parallel body") from e
    finally:
        sys.setrecursionlimit(old)


@contextmanager
def printed_warnings(echo: Callable[[str], None]) -> Iterator[None]:
    """NanottWarnings printed as `file:line:col: warning NTxxx: ...`, each once."""
    seen: set[str] = set()

    def show(message, category, *rest) -> None:
        text = message.render() if isinstance(message, NanottWarning) else f"warning: {message}"
        if text not in seen:
            seen.add(text)
            echo(text)
    with warnings.catch_warnings():
        warnings.simplefilter("always", NanottWarning)
        warnings.showwarning = show
        yield


@contextmanager
def reported(echo: Callable[[str], None], exit: Callable[[int], BaseException]) -> Iterator[None]:
    """For the CLI: every failure printed in its format, and `exit(code)` raised with its code."""
    from nanott.languages.l0_interp import NoRule
    try:
        with diagnosed(), printed_warnings(echo):
            yield
    except NanottError as e:
        if isinstance(e.__cause__, SimulationError):
            echo(f"{e.render()}\n{REPORT}")
            raise exit(INTERNAL) from None
        echo(e.render())
        raise exit(DIAGNOSTIC) from None
    except (CheckError, NoRule) as e:
        echo(f"{e}\n{REPORT}")
        raise exit(INTERNAL) from None
    except Exception as e:
        if type(e).__module__.startswith(("click", "typer")):
            raise                                   # typer's own exits and usage errors
        echo("".join(traceback.format_exception(e)).rstrip("\n") + f"\n{REPORT}")
        raise exit(INTERNAL) from None
