"""The init model: the compute engine's configuration slots, what each tile operation needs in
them, and what each init call sets. One model, shared by D4 (which places the inits), F1 (which
checks them) and the L9 simulator (which faults on an op run without its init), so the three can
never disagree. Facts from metalium.md §4.4 and §5.3 rule 6.

  slot  set by                                                      value kept
  fpu   copy_tile_init(cb), {add,sub,mul}_tiles_init(a, b),         the init call and its CBs
        mm_init_short(a, b)                                         (unpack + math configuration)
  sfpu  {op}_binary_tile_init(), binop_with_scalar_tile_init(),     the init call
        fill_tile_init()
  pack  pack_reconfig_data_format(cb)                               the CB's data format

`compute_kernel_hw_startup(in0, in1, out)` must come first, exactly once; it configures the packer
for `out`'s format and leaves fpu and sfpu unknown. An op needs one slot to hold one value:

  TileLoad(ref)        | CopyTile(cb)           fpu  = copy_tile_init(cb)
  TileBinary(op, a, b) | BinaryTiles(op, a, b)  fpu  = {op}_tiles_init(a, b)
  TileMatmul(a, b)     | MatmulTiles(a, b)      fpu  = mm_init_short(a, b)
  TileBinaryTemps(op)  | SfpuBinary(op)         sfpu = {op}_binary_tile_init()
  TileScalar           | SfpuScalar             sfpu = binop_with_scalar_tile_init()
  TileFill             | FillTile               sfpu = fill_tile_init()
  TStore(ref)          | PackTile(cb)           pack = the format of the CB

A program point's State is what every path reaching it has set: at a loop head, the join of the
state before the loop and the state after its body, iterated to a fixpoint (`loop_entry`). A slot
two paths disagree on is unknown (None), and an op whose slot is unknown needs a (re-)init.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Any, Callable

from nanott.ir import CheckError
from nanott.languages import l5, l8, l9

HW_STARTUP = "compute_kernel_hw_startup"
PACK_RECONFIG = "pack_reconfig_data_format"
SLOTS = ("fpu", "sfpu", "pack")


@dataclass(frozen=True)
class Need:
    """What an op needs: `slot` must hold `value`; `init` is the call that puts it there."""
    slot: str
    value: Any
    init: l8.Init


@dataclass(frozen=True)
class State:
    """The engine's configuration at a program point (None: unknown, as after a disagreeing join)."""
    started: bool = False
    fpu: Any = None
    sfpu: Any = None
    pack: Any = None

    def holds(self, need: Need) -> bool:
        return self.started and getattr(self, need.slot) == need.value

    def join(self, other: State) -> State:
        """What both states agree on; a slot they disagree on becomes unknown."""
        same = {s: getattr(self, s) if getattr(self, s) == getattr(other, s) else None for s in SLOTS}
        return State(self.started and other.started, **same)

    def after(self, init: l8.Init, formats: dict[int, str]) -> State:
        """The state after one init call."""
        if init.op == HW_STARTUP:
            return State(True, None, None, formats[init.cbs[-1]])
        slot = slot_of(init.op)
        return replace(self, **{slot: formats[init.cbs[-1]] if slot == "pack" else (init.op, init.cbs)})


def slot_of(op: str) -> str:
    """The slot an init call configures (a CheckError for a call the model does not know)."""
    if op == PACK_RECONFIG:
        return "pack"
    if op in ("copy_tile_init", "mm_init_short") or op.endswith("_tiles_init"):
        return "fpu"
    if op.endswith("_tile_init"):
        return "sfpu"
    raise CheckError(f"the init model has no init call {op!r}")


def _init(op: str, cbs: tuple[int, ...], loc) -> l8.Init:
    return l8.Init(op, cbs, loc=loc)


def need(x: Any, formats: dict[int, str]) -> Need | None:
    """The need of a tile op (an L8 TAssign's op or TStore, or an L9 call); None for anything else."""
    loc = x.loc
    if isinstance(x, l5.TAssign):
        x = x.op
    match x:
        case l5.TileLoad(ref) | l9.CopyTile(cb=ref):
            return _fpu("copy_tile_init", (getattr(ref, "cb", ref),), loc)
        case l5.TileBinary(op, a, b):
            return _fpu(f"{op}_tiles_init", (a.cb, b.cb), loc)
        case l9.BinaryTiles(op, a_cb, b_cb):
            return _fpu(f"{op}_tiles_init", (a_cb, b_cb), loc)
        case l5.TileMatmul(a, b, _):
            return _fpu("mm_init_short", (a.cb, b.cb), loc)
        case l9.MatmulTiles(a_cb, b_cb):
            return _fpu("mm_init_short", (a_cb, b_cb), loc)
        case l5.TileBinaryTemps(op) | l9.SfpuBinary(op):
            return _sfpu(f"{op}_binary_tile_init", loc)
        case l5.TileScalar() | l9.SfpuScalar():
            return _sfpu("binop_with_scalar_tile_init", loc)
        case l5.TileFill() | l9.FillTile():
            return _sfpu("fill_tile_init", loc)
        case l5.TStore(ref) | l9.PackTile(cb=ref):
            cb = getattr(ref, "cb", ref)
            return Need("pack", formats[cb], _init(PACK_RECONFIG, (cb,), loc))
    return None


def _fpu(op: str, cbs: tuple[int, ...], loc) -> Need:
    return Need("fpu", (op, cbs), _init(op, cbs, loc))


def _sfpu(op: str, loc) -> Need:
    return Need("sfpu", (op, ()), _init(op, (), loc))


def formats_of(program: Any) -> dict[int, str]:
    """CB index -> data format, from the CB plans."""
    return {cb.index: cb.plan.format for cb in program.cbs}


def static_trips(s: Any) -> int | None:
    """How many times a loop's body runs, when that is known at compile time."""
    if isinstance(s, (l5.TFor, l5.TileGroup)):
        return s.extent if isinstance(s, l5.TFor) else prod(s.extents)
    extent = getattr(s, "extent", None)
    return extent.value if isinstance(extent, l8.Const) else None


def loop_entry(before: State, body_exit: Callable[[State], State]) -> State:
    """The state at a loop head: before ⊔ body_exit(head), iterated until it stops changing."""
    head = before
    for _ in range(2 * len(SLOTS) + 2):           # each round can only make a slot unknown
        nxt = before.join(body_exit(head))
        if nxt == head:
            return head
        head = nxt
    raise CheckError("the init dataflow did not reach a fixpoint")


def loop_exit(s: Any, head: State, body_exit: State) -> State:
    """After a loop: its last body's exit when it surely runs, else the head (which joins both)."""
    trips = static_trips(s)
    return body_exit if trips is not None and trips > 0 else head


def through(stmts: tuple, state: State, formats: dict[int, str],
            visit: Callable[[Any, State], None] | None = None) -> State:
    """The state after `stmts`; `visit(statement, state)` sees every op and init at its state."""
    for s in stmts:
        body = getattr(s, "body", None)
        if isinstance(body, tuple):
            head = loop_entry(state, lambda h: through(body, h, formats))
            state = loop_exit(s, head, through(body, head, formats, visit))
        elif isinstance(s, l8.Init):
            if visit:
                visit(s, state)
            state = state.after(s, formats)
        elif need(s, formats) is not None and visit:
            visit(s, state)
    return state
