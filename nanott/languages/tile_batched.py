"""BatchedTiles: a tile group's tiles as one NumPy call per statement (L5..L8's compiled executors).

InterpL5 runs a TileGroup's body once per tile of its grid, and CompiledTiles (tile_compiled.py)
does the same through closures: a 2x2 group of a GEMM's K step is four loads, four products and
four stores. This mixin runs such a group once, statement by statement, on stacks of tiles: every
temporary is an (n, 32, 32) array whose slice i is what the reference computes for the i-th tile of
the grid, a load gathers the n tiles with one fancy index and a store scatters them with another.
Each operation of L5 is elementwise, a reduction per tile, a transpose or a 32x32 product, so on a
stack it computes each slice as the reference computes that tile: the same NumPy functions, and
products by the k-order BLAS kernel (nanott/sum_order.py) whatever the stack's shape. So the
results are bit-identical (tests/test_batched_tiles.py, every example at L5..L8 and fuzzed groups).

A group runs batched only where the reference's tile order cannot show, decided once per group
from the IR (`group_plan`):
  - every tile read and store names its tile by the group's indices and its TFor's, constants and
    arithmetic alone, so where each tile reads and writes is the same on every run;
  - no tile stores a tile of a CB that another tile of the group reads or stores (tiles of one
    group are then independent: the order in which they run changes nothing);
  - every statement is one of L5's (L8's Init, a no-op there, is skipped as InterpL8 skips it).
Anything else runs tile by tile as before. Where tiles are is the level's (`tiles_at`): L5 and L6
keep a CB as one block, L7 reads the front block and stores into the block it gives, L8 reads the
waited pages of a ring and stores into its reserved pages. Every protocol check those levels make
on a tile is made on the group's lowest and highest slots before the group computes anything; if
one fails, the group runs tile by tile, so the reference raises its own error at its own tile.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from nanott.ir import walk
from nanott.languages import l0, l5, l8
from nanott.languages.l4_interp import cb_key
from nanott.languages.l5_interp import TILE_OPS, reduce_tile, spread
from nanott.languages.l7_interp import back_key
from nanott.languages.tile_compiled import TEMPS_ONLY
from nanott.sim.errors import ProtocolError
from nanott.target import TILE

F32 = np.float32
INDEX_NODES = (l0.Const, l0.Var, l0.BinOp)     # what a batched tile's row and column may be made of
Step = Callable[[list, dict], None]            # (the run's tile places, temps) -> None


class Access:
    """A tile read or store of the group, for every tile at once: tile i is (rows[i], cols[i]) of
    cb. What every run needs of it is worked out once: the highest row and column, the index into
    a block seen as (tile rows, 32, tile cols, 32), and the slots of a ring (by its block's columns)."""
    __slots__ = ("cb", "rows", "cols", "store", "top", "right", "index", "slots")

    def __init__(self, cb: int, rows: np.ndarray, cols: np.ndarray, store: bool):
        self.cb, self.rows, self.cols, self.store = cb, rows, cols, store
        self.top, self.right = int(rows.max()), int(cols.max())
        self.index = (rows, slice(None), cols, slice(None))
        self.slots: dict[int, tuple[np.ndarray, int, int]] = {}

    def ring_slots(self, block_cols: int) -> tuple[np.ndarray, int, int]:
        """(slot of each tile, lowest, highest) in a ring whose blocks are block_cols tiles wide."""
        got = self.slots.get(block_cols)
        if got is None:
            slots = self.rows * block_cols + self.cols
            got = self.slots[block_cols] = (slots, int(slots.min()), int(slots.max()))
        return got


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    accesses: tuple[Access, ...]


class BatchedTiles:
    """run_group on stacks of tiles where `plan` allows it, else tile by tile (CompiledTiles)."""

    skipped = ()                       # tile statements the level runs as no-ops (L8: Init)

    def run_group(self, vars: tuple[str, ...], extents: tuple[int, ...], body: tuple, env: Any) -> None:
        key = ("batched", id(body))
        entry = self.code.get(key)
        if entry is None or entry[0] is not body or entry[1] != (vars, extents):
            entry = self.code[key] = (body, (vars, extents), self.group_plan(vars, extents, body, env))
        plan = entry[2]
        places = None if plan is None else self.group_places(plan, env)
        if places is None:
            super().run_group(vars, extents, body, env)
            return
        temps: dict[str, np.ndarray] = {}
        with np.errstate(invalid="ignore"):      # -inf - -inf where a vector's tiles carry no data
            for step in plan.steps:
                step(places, temps)

    def group_places(self, plan: Plan, env: Any) -> list | None:
        """Where each access of the plan is on this run (array, index), its checks made; None if a
        check fails (the group then runs tile by tile and the reference reports it)."""
        try:
            return [self.tiles_at(a, env) for a in plan.accesses]
        except (ProtocolError, KeyError, IndexError):
            return None

    def tiles_at(self, a: Access, env: Any) -> tuple[np.ndarray, tuple]:
        """(array, index): array[index] is the stack of the access's tiles (L5, L6: the CB's block)."""
        return block_tiles(env.buffers[cb_key(a.cb)], a)

    # ----- the plan: decided once per group -----
    def group_plan(self, vars: tuple[str, ...], extents: tuple[int, ...], body: tuple, env: Any) -> Plan | None:
        n = int(np.prod(extents))
        if n < 2:
            return None
        grid = np.array(list(itertools.product(*(range(e) for e in extents))), dtype=np.int64).reshape(n, len(extents))
        scalars = dict(zip(vars, grid.T))
        accesses: list[Access] = []
        try:
            steps = self.group_steps(body, scalars, n, accesses, env)
        except NotBatched:
            return None
        return Plan(tuple(steps), tuple(accesses)) if independent(accesses, n) else None

    def group_steps(self, body: tuple, scalars: dict, n: int, accesses: list, env: Any) -> list[Step]:
        out: list[Step] = []
        for t in body:
            match t:
                case l5.TAssign(dst, op):
                    out.append(assign(dst, self.stack_value(op, scalars, n, accesses, env)))
                case l5.TStore(ref, src):
                    out.append(store(self.tile_access(ref, scalars, n, True, accesses, env), src))
                case l5.TFor(var, extent, inner):
                    for i in range(extent):
                        out += self.group_steps(inner, {**scalars, var: i}, n, accesses, env)
                case _ if isinstance(t, self.skipped):
                    pass
                case _:
                    raise NotBatched(t)
        return out

    def tile_access(self, ref: l5.TileRef, scalars: dict, n: int, is_store: bool, accesses: list, env: Any) -> int:
        """The index of ref's access among the plan's: its row and column for every tile."""
        rows, cols = (self.tile_positions(e, scalars, n, env) for e in (ref.row, ref.col))
        accesses.append(Access(ref.cb, rows, cols, is_store))
        return len(accesses) - 1

    def tile_positions(self, e: Any, scalars: dict, n: int, env: Any) -> np.ndarray:
        for x in walk(e):
            if not isinstance(x, INDEX_NODES) or (isinstance(x, l0.Var) and x.name not in scalars):
                raise NotBatched(e)
        inner = env.child()
        inner.scalars = dict(scalars)
        v = np.broadcast_to(np.asarray(self.eval(e, inner)), (n,))
        if v.dtype.kind not in "iuf":
            raise NotBatched(e)
        return v.astype(np.int64)             # what int() makes of each tile's value

    def stack_value(self, op: Any, scalars: dict, n: int, accesses: list, env: Any) -> Callable[[list, dict], np.ndarray]:
        """InterpL5.tile_op's rule on stacks: a closure over (places, temps). The operations on
        temporaries alone are CompiledTiles' (TEMPS_ONLY: elementwise, so a stack is computed as
        each of its tiles); those that read tiles gather them by the plan's accesses."""
        build = TEMPS_ONLY.get(type(op))
        if build is not None:
            return build(op)
        def read(ref):
            j = self.tile_access(ref, scalars, n, False, accesses, env)
            return lambda places: loaded(places[j])
        match op:
            case l5.TileLoad(src):
                get = read(src)
                return lambda places, temps: get(places)
            case l5.TileFill(value):
                return lambda places, temps: np.full((n, TILE, TILE), value, dtype=F32)
            case l5.TileBinary(name, a, b, bcast):
                f, gb, ga = TILE_OPS[name], read(b), read(a)      # b read first, as the reference does
                if bcast == "none":
                    return lambda places, temps: f(ga(places), gb(places))
                return lambda places, temps: f(ga(places), spread(gb(places), bcast))
            case l5.TileMatmul(a, b, acc, transpose_b):
                gb, ga = read(b), read(a)
                if transpose_b:
                    return lambda places, temps: temps[acc] + ga(places) @ np.swapaxes(gb(places), -1, -2)
                return lambda places, temps: temps[acc] + ga(places) @ gb(places)
            case l5.TileTranspose(src):
                get = read(src)
                return lambda places, temps: np.swapaxes(get(places), -1, -2).copy()
            case l5.TileBcast(src, dim, _):
                get = read(src)
                return lambda places, temps: spread(get(places), dim)
            case l5.TileReduce(name, dim, src, scaler, acc, _):
                gs, gc = read(src), read(scaler)
                return lambda places, temps: reduce_tile(name, dim, temps[acc], gs(places), gc(places))
        raise NotBatched(op)


class NotBatched(Exception):
    """A group the plan cannot run on stacks (it runs tile by tile)."""


def assign(dst: str, value: Callable[[list, dict], np.ndarray]) -> Step:
    def step(places, temps):
        temps[dst] = value(places, temps)
    return step


def store(j: int, src: str) -> Step:
    def step(places, temps):
        array, index = places[j]
        array[index] = temps[src].astype(array.dtype)
    return step


def loaded(place: tuple[np.ndarray, tuple]) -> np.ndarray:
    """The stack of tiles at a place, as float32 (a read: InterpL5.tile(...).astype(float32))."""
    array, index = place
    return array[index].astype(F32, copy=False)


def independent(accesses: list[Access], n: int) -> bool:
    """No tile stores a tile of a CB that another tile reads or stores, and the tiles' positions
    are on the block (nonnegative)."""
    owner: dict[tuple[int, int, int], int] = {}
    for a in accesses:
        if (a.rows < 0).any() or (a.cols < 0).any():
            return False
        if a.store:
            for i, at in enumerate(zip(a.rows.tolist(), a.cols.tolist())):
                if owner.setdefault((a.cb, *at), i) != i:
                    return False
    for a in accesses:
        for i, at in enumerate(zip(a.rows.tolist(), a.cols.tolist())):
            if owner.get((a.cb, *at), i) != i:
                return False
    return True


def block_tiles(block: np.ndarray, a: Access) -> tuple[np.ndarray, tuple]:
    """A CB's block seen as (tile rows, 32, tile cols, 32), and the index of the access's tiles in
    it; IndexError where a tile is off the block (InterpL5 would slice past its edge)."""
    rows, cols = block.shape[0] // TILE, block.shape[-1] // TILE
    if block.ndim != 2 or not block.flags.c_contiguous or a.top >= rows or a.right >= cols:
        raise IndexError(a)
    return block.reshape(rows, TILE, cols, TILE), a.index


class QueueTiles(BatchedTiles):
    """L7: reads from the front block of a CB the group consumes, stores into the block it gives
    (InterpL7.tile and store_tile, their rule-6 checks included)."""

    def tiles_at(self, a: Access, env: Any) -> tuple[np.ndarray, tuple]:
        key = back_key(a.cb) if a.store else cb_key(a.cb)
        if key not in env.buffers:
            raise ProtocolError(6, f"cb{a.cb} is not the group's")
        return block_tiles(env.buffers[key], a)


class RingTiles(BatchedTiles):
    """L8: reads from the waited front pages of a ring, stores into its reserved back pages
    (InterpL8.tile and store_tile: rule 6 on the lowest and the highest slot)."""

    skipped = (l8.Init,)

    def tiles_at(self, a: Access, env: Any) -> tuple[np.ndarray, tuple]:
        ring = env.cbs[a.cb]
        if a.right >= ring.block_cols:         # two positions would name one slot: tile by tile
            raise IndexError(a)
        slots, lo, hi = a.ring_slots(ring.block_cols)
        if a.store:
            ring.check_back(lo, hi, "a tile store")
            pages = ring.wr + slots
            ring.written[pages] = True
        else:
            ring.check_front(lo, hi, "a tile read")
            pages = ring.rd + slots
        return ring.pages, (pages,)
