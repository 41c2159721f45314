"""D5d wait-for-parts: L9 -> L9

Changes:   where the compute kernel waits for the n pages of a CB (`cb_wait_front c, n`) that a
           data mover pushes in parts of q pages (every `cb_push_back c` of the producer pushes a
           multiple of q, q < n: D3d's parts of a multicast block), and reads them before it pops
           the n, the one wait becomes one per part, each placed just before the first statement
           that reads a page of that part: `cb_wait_front c, k*q` before the first read of a page
           in (k-1)*q .. k*q - 1. A loop whose later trips read further parts than its first is
           cut into runs of trips that read the same parts (trip t of a run of trips a..b-1 is
           trip t + a of the loop; a run of one trip is its body), each run waiting for its
           parts; a loop whose first trip reads all the loop reads waits once, before it. Which pages each statement reads is found by
           running its index expressions over its loops (a matmul_block reads rt A pages kt apart
           and ct consecutive B pages), never from names; where an index depends on anything but
           constants, lets and loops of known trips, the wait stays whole. Waits are cumulative
           (docs/reference.md §5.2 rule 4): a later trip's repeated wait for pages already
           waited for returns at once.
Preserves: every page read and every number, bit for bit (the same reads of the same pages, in
           the same order); the pops; the data movers; the DST sections.
Why:       a compute kernel that waits for the whole block multiplies nothing until the block's
           last part has landed: at 1024^3 in 128x128x512 blocks (one block per core) 10,800
           cycles passed before the first matmul, while the reads of a K step's A and B blocks
           arrive part by part. tt-metal's matmul waits per in0/in1 block (`cb_wait_front(in0_cb,
           in0_block_num_tiles)`) and sizes the blocks so that the first ones arrive early; here
           the parts D3d sends are already that granularity, and the compute starts on the first.
"""
from __future__ import annotations

import math
from typing import Any

from nanott.ir import field_names, replace, walk
from nanott.languages import l9
from nanott.passes._affine import subst
from nanott.passes._dst_pages import evaluate, executed
from nanott.target import Target

MOVERS = ("reader", "writer")


def wait_for_parts(program: l9.Program, target: Target) -> l9.Program:
    compute = program.kernel("compute")
    parts = {c: q for c, q in pushed_parts(program).items()}
    done: list[str] = []
    body = compute.body
    for c, q in sorted(parts.items()):
        body = rewrite(body, c, q, {}, done)
    if not done:
        return program
    kernels = tuple(replace(k, body=body) if k is compute else k for k in program.kernels)
    note = l9.Attr("wait-for-parts", "; ".join(dict.fromkeys(done)), loc=program.loc)
    return replace(program, kernels=kernels, attrs=(*program.attrs, note))


def pushed_parts(program: l9.Program) -> dict[int, int]:
    """cb -> q, for each CB a data mover produces and the compute kernel consumes: the largest
    count that divides every push of its producer."""
    out = {}
    for cb in program.cbs:
        if cb.producer in MOVERS and cb.consumer == "compute":
            pushes = [x.pages for x in walk(program.kernel(cb.producer).body)
                      if isinstance(x, l9.CbPush) and x.cb == cb.index]
            if pushes:
                out[cb.index] = math.gcd(*pushes)
    return out


def rewrite(stmts: tuple, c: int, q: int, env: dict, done: list) -> tuple:
    """stmts with each `cb_wait_front c, n ... cb_pop_front c, n` at one level (n a multiple of q
    above q) placed part by part; in every loop body."""
    out = [replace(s, body=rewrite(s.body, c, q, env, done)) if isinstance(s, l9.For) else s for s in stmts]
    i = 0
    while i < len(out):
        s = out[i]
        i += 1
        if not (isinstance(s, l9.CbWait) and s.cb == c and s.pages > q and s.pages % q == 0):
            continue
        j = next((j for j in range(i, len(out)) if isinstance(out[j], l9.CbPop) and out[j].cb == c), None)
        if j is None or waits(tuple(out[i:j]), c):
            continue
        try:
            placed, waited = place(tuple(out[i:j]), c, q, s.pages, env, 0)
        except KeyError:                         # an index the analysis cannot run: left whole
            continue
        if waited < s.pages:                     # pages never read: the pop still needs them waited
            placed = (*placed, l9.CbWait(c, s.pages, loc=s.loc))
        if waits(placed, c) < 2:
            continue                             # one wait, for everything: nothing gained
        out[i - 1:j] = placed
        i += len(placed) - 1
        done.append(f"cb{c} waited {q} pages at a time, before the first read of each part")
    return tuple(out)


def waits(stmts: tuple, c: int) -> int:
    return sum(isinstance(x, l9.CbWait) and x.cb == c for x in walk(stmts))


def place(stmts: tuple, c: int, q: int, n: int, env: dict, waited: int) -> tuple[tuple, int]:
    """stmts with the waits for the parts of c their reads need, given `waited`; and the count
    waited after them."""
    out: list = []
    for s in stmts:
        if isinstance(s, l9.Let):
            env = {k: v for k, v in env.items() if k != s.var}
            try:
                env[s.var] = evaluate(s.value, env)
            except KeyError:                     # a let of a core's values: any read using it stops us
                pass
            out.append(s)
            continue
        need = needed(s, c, q, n, env)
        if need <= waited:
            out.append(s)
            continue
        if isinstance(s, l9.For):
            out += split(s, c, q, n, env, waited)
        else:
            out += [l9.CbWait(c, need, loc=s.loc), s]
        waited = need
    return tuple(out), waited


def split(loop: l9.For, c: int, q: int, n: int, env: dict, waited: int) -> list:
    """A loop whose later trips read further parts: its trips placed one by one (each from the
    count waited before the loop: a wait repeated by a later trip returns at once), cut into runs
    of trips whose bodies came out the same; a wait that opens a run's body goes before it."""
    bodies = [place(loop.body, c, q, n, {**env, loop.var: t}, waited)[0] for t in range(loop.extent.value)]
    out = []
    start = 0
    for t in range(1, len(bodies) + 1):
        if t < len(bodies) and bodies[t] == bodies[start]:
            continue
        body = bodies[start]
        if t - start == 1:                       # a run of one trip: its body, the variable a constant
            out += subst(body, {loop.var: l9.Const(start, "int32")})
            start = t
            continue
        if start:
            body = subst(body, {loop.var: l9.BinOp("+", l9.Var(loop.var), l9.Const(start, "int32"))})
        head = []
        while body and isinstance(body[0], l9.CbWait) and body[0].cb == c:
            head.append(body[0])
            body = body[1:]
        out += [*head, replace(loop, extent=l9.Const(t - start, "int32"), body=body)]
        start = t
    return out


def needed(s: Any, c: int, q: int, n: int, env: dict) -> int:
    """The count of c that s must have waited for: its last page read, rounded up to a part."""
    if any(hasattr(x, "body") and not (isinstance(x, l9.For) and isinstance(x.extent, l9.Const))
           for x in walk(s)):
        raise KeyError("a block the analysis does not run")    # a loop of unknown trips, a When
    last = -1
    for call, at in executed((s,), env):
        last = max(last, *read(call, c, at))
    return min(n, -(-(last + 1) // q) * q)


def read(call: Any, c: int, env: dict) -> list[int]:
    """The pages of c one call reads (-1 for none)."""
    if isinstance(call, l9.MatmulBlock):
        pages = []
        if call.a_cb == c:
            pages.append(evaluate(call.a_index, env) + (call.rt - 1) * call.kt)
        if call.b_cb == c:
            pages.append(evaluate(call.b_index, env) + call.ct - 1)
        return pages or [-1]
    names = field_names(type(call)) or ()
    return [evaluate(getattr(call, f"{cb[:-2]}index"), env) for cb in names     # cb/index, a_cb/a_index...
            if cb.endswith("cb") and f"{cb[:-2]}index" in names and getattr(call, cb) == c] or [-1]
