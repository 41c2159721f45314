"""Diagnostics for user mistakes: an error code, a message, the kernel's source line with a caret,
and a hint. Never a traceback for a mistake in the user's kernel.

Codes: NT1xx source language and shapes (P0), NT2xx hardware limits (L1, DST, CBs),
NT3xx constructs nanott does not lower yet, NT9xx command-line usage.
"""
from __future__ import annotations

import linecache

from nanott.ir import NOLOC, Loc


class NanottError(Exception):
    """A mistake in the user's kernel (or a limit of the hardware it asks for)."""

    def __init__(self, code: str, message: str, loc: Loc | None = None, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.loc, self.hint = code, message, loc or NOLOC, hint

    def render(self) -> str:
        loc = self.loc
        if loc == NOLOC:
            out = [f"error {self.code}: {self.message}"]
        else:
            out = [f"{loc.file}:{loc.line}:{loc.col + 1}: error {self.code}: {self.message}"]
            text = linecache.getline(loc.file, loc.line).rstrip("\n")
            if text:
                word = len(text[loc.col:]) - len(text[loc.col:].lstrip("abcdefghijklmnopqrstuvwxyz"
                                                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.0123456789"))
                out += [f"    {text}", "    " + " " * loc.col + "^" + "~" * max(0, word - 1)]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


def error(code: str, message: str, loc: Loc | None = None, hint: str = "") -> NanottError:
    return NanottError(code, message, loc, hint)


def kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n % 1024 == 0 or n > 10240 else f"{n:,} B"
