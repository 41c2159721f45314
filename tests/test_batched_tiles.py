"""A tile group's tiles as one NumPy call per statement (nanott/languages/tile_batched.py): where
it runs (every group of two tiles or more in the examples), that it gives the reference's bits
(every example at L5..L8 is tests/test_compiled.py's; here L8 on fuzzed kernels), that tiles which
depend on each other run tile by tile with the reference's sequential result, and that a protocol
error inside a group is the reference's own."""
from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

import test_generality as gen
from nanott import api, pipeline
from nanott.ir import Launches, launches_of, replace
from nanott.languages import l5, l8, tile_batched
from nanott.languages.compiled import COMPILED
from nanott.languages.l0_interp import scratch_arrays
from nanott.loader import load_kernel
from nanott.sim.errors import ProtocolError


def plans(monkeypatch) -> list[tuple[int, bool]]:
    """Every group run: (its tiles, whether it ran on stacks)."""
    seen = []
    run = tile_batched.BatchedTiles.run_group

    def spy(self, vars, extents, body, env):
        run(self, vars, extents, body, env)
        seen.append((int(np.prod(extents)), self.code[("batched", id(body))][2] is not None))
    monkeypatch.setattr(tile_batched.BatchedTiles, "run_group", spy)
    return seen


def both(program, level, inputs):
    fast, slow = ({k: v.copy() for k, v in inputs.items()} for _ in range(2))
    if isinstance(program, Launches):
        fast.update(scratch_arrays(program))
        slow.update(scratch_arrays(program))
    for launch in launches_of(program):
        COMPILED[level]().run(launch, fast)
        pipeline.interpreter(level)().run(launch, slow)
    return fast, slow


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_group_of_several_tiles_in_the_examples_runs_on_stacks(example, monkeypatch):
    """At L5 (the plan is the same IR analysis at L6..L8), with the reference's bits."""
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    kernel = api.lower(loaded.prim_func, "P0")
    seen = plans(monkeypatch)
    fast, slow = both(api.lower(loaded.prim_func, api.stage_for_level("L5").id), "L5", api.random_inputs(kernel, 3))
    assert all(batched for tiles, batched in seen if tiles > 1)
    assert api.identical(fast, slow, api.tensor_roles(kernel)[1])


@pytest.mark.parametrize("example", ["gemm", "softmax", "flash_attention", "layer_norm", "topk", "mla_decode"])
def test_l8_groups_on_stacks_give_the_reference_bits(example, monkeypatch):
    loaded = load_kernel(ROOT / "examples" / f"{example}.py")
    kernel = api.lower(loaded.prim_func, "P0")
    seen = plans(monkeypatch)
    fast, slow = both(api.lower(loaded.prim_func, "D3"), "L8", api.random_inputs(kernel, 4))
    assert any(batched for _, batched in seen)
    assert api.identical(fast, slow, api.tensor_roles(kernel)[1])


@pytest.mark.parametrize("seed", range(3))
def test_fuzzed_elementwise_math_at_l8_gives_the_reference_bits(seed, tmp_path):
    """Drawn as tests/test_fuzz.py draws them (L5 is compared there, through check_levels)."""
    path = tmp_path / "math.py"
    path.write_text(gen.elementwise_source(random.Random(500 + seed), math=True)[0])
    loaded = load_kernel(path)
    kernel = api.lower(loaded.prim_func, "P0")
    fast, slow = both(api.lower(loaded.prim_func, "D3"), "L8", api.random_inputs(kernel, seed))
    assert api.identical(fast, slow, api.tensor_roles(kernel)[1])


@pytest.mark.parametrize("config", gen.gemm_configs(3, seed=77), ids=gen.config_id)
def test_fuzzed_gemms_at_l7_and_l8_give_the_reference_bits(config):
    loaded = load_kernel(gen.KERNELS / "gemm_family.py", "matmul", {k: repr(v) for k, v in config.items()})
    kernel = api.lower(loaded.prim_func, "P0")
    for level, stage in (("L7", "D2"), ("L8", "D3")):
        fast, slow = both(api.lower(loaded.prim_func, stage), level, api.random_inputs(kernel, 1))
        assert api.identical(fast, slow, api.tensor_roles(kernel)[1])


def chained(program: l5.Kernel) -> l5.Kernel:
    """elementwise_add's copy group (cb3[ti, tj] <- load cb2[ti, tj], 2x4 tiles) made sequential:
    every tile loads tile (0, 0) of cb2, adds 1 and stores the sum to its own tile of cb2 and of
    cb3. Tile (0, 0) overwrites the tile the others read: in the reference's order, it gets
    (A + B)'s first tile + 1 and every later tile that + 1; all at once, every tile would get + 1."""
    loop = program.body[0]
    copy = [s for s in loop.body if isinstance(s, l5.TileGroup)][1]
    zero, own = l5.Const(0, "int32"), (l5.Var(copy.vars[0]), l5.Var(copy.vars[1]))
    body = (l5.TAssign("t0", l5.TileLoad(l5.TileRef(2, zero, zero))),
            l5.TAssign("t1", l5.TileScalar("add", "t0", 1.0)),
            l5.TStore(l5.TileRef(2, *own), "t1"), l5.TStore(l5.TileRef(3, *own), "t1"))
    body_of = tuple(replace(copy, body=body) if s is copy else s for s in loop.body)
    return replace(program, body=(replace(loop, body=body_of),))


def test_tiles_that_read_another_tiles_store_run_tile_by_tile(monkeypatch):
    loaded = load_kernel(ROOT / "examples" / "elementwise_add.py")
    kernel = api.lower(loaded.prim_func, "P0")
    program = chained(api.lower(loaded.prim_func, "C2b"))
    inputs = api.random_inputs(kernel, 0)
    seen = plans(monkeypatch)
    fast, slow = both(program, "L5", inputs)
    assert (8, False) in seen and (8, True) in seen        # the chained group tile by tile, the add on stacks
    total = (inputs["A"].astype(np.float32) + inputs["B"].astype(np.float32)).reshape(4, 64, 2, 128)
    once = total[:, :32, :, :32] + np.float32(1)           # tile (0, 0) of each 64x128 block, + 1
    tiles = [once] + [once + np.float32(1)] * 7            # the group's tiles in its order (ti, tj)
    expected = np.stack(tiles, axis=1).reshape(4, 2, 4, 32, 2, 32).transpose(0, 1, 3, 4, 2, 5).reshape(256, 256)
    np.testing.assert_array_equal(slow["C"], expected)
    np.testing.assert_array_equal(fast["C"], slow["C"])


def test_a_read_of_a_slot_not_waited_for_in_a_group_is_the_references_error():
    """The GEMM's compute waits for one page of A's two: its group reads slot 1 (rule 6)."""
    loaded = load_kernel(ROOT / "examples" / "gemm.py")
    program = api.lower(loaded.prim_func, "D3")
    waits = [0]

    def fewer(stmts):
        out = []
        for s in stmts:
            if isinstance(s, l8.For):
                s = replace(s, body=fewer(s.body))
            elif isinstance(s, l8.CbWait) and s.cb == 0 and not waits[0]:
                waits[0] += 1
                s = replace(s, pages=1)
            out.append(s)
        return tuple(out)
    program = replace(program, kernels=tuple(replace(k, body=fewer(k.body)) if k.role == "compute" else k
                                             for k in program.kernels))
    assert waits[0] == 1
    inputs = api.random_inputs(api.lower(loaded.prim_func, "P0"), 0)
    with pytest.raises(ProtocolError) as fast:
        COMPILED["L8"]().run(program, {k: v.copy() for k, v in inputs.items()})
    with pytest.raises(ProtocolError) as slow:
        pipeline.interpreter("L8")().run(program, {k: v.copy() for k, v in inputs.items()})
    assert str(fast.value) == str(slow.value) and "front slot 1" in str(slow.value)
