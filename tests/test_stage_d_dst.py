"""Stages D4 insert-compute-init and D5 insert-dst-management, the init model they share with F1,
and the L9 simulator (InterpL9 with sim/dst.py), on programs built by hand: the GEMM and
elementwise L6 kernels of test_stage_d_split.py lowered by D1..D3, and variants of them.
The builders here are shared with test_stage_ef.py.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from test_stage_d_split import binop, c, cb, eltwise_l6, gemm_l6, lower_d, persistent, tensor, v, work

from nanott.diagnostics import NanottError
from nanott.ir import CheckError, Loc, replace, walk
from nanott.languages import l6, l8, l9
from nanott.languages.l8_interp import InterpL8
from nanott.languages.l9_interp import InterpL9
from nanott.sim.engine import State, loop_entry, need, through
from nanott.passes.d4_insert_compute_init import insert_compute_init
from nanott.passes._d5_dst_slots import dst_slots
from nanott.passes.d5_insert_dst_management import insert_dst_management
from nanott.sim.dst import DstFile
from nanott.sim.errors import ProtocolError
from nanott.target import DEFAULT_TARGET, TILE

pytestmark = [pytest.mark.D4, pytest.mark.D5]
T = DEFAULT_TARGET


# ----- programs -----
def sum3_l6(M=64, N=128, b=64, dtype="bfloat16", cores=2, loads=3):
    """Y = X0 + X1 + ... over `loads` inputs, all loaded before the first add: `loads` temporaries
    live at once (r = loads)."""
    t = b // TILE
    ij = (v("i"), v("j"))
    at = (binop("*", v("by"), c(t)), binop("*", v("bx"), c(t)))
    body = [l6.TAssign(f"x{n}", l6.TileLoad(l6.TileRef(n, *ij))) for n in range(loads)]
    acc = "x0"
    for n in range(1, loads):
        body.append(l6.TAssign(f"s{n}", l6.TileBinaryTemps("add", acc, f"x{n}")))
        acc = f"s{n}"
    body.append(l6.TStore(l6.TileRef(loads, *ij), acc))
    effects = tuple(l6.CbEffect(n, "take") for n in range(loads)) + (l6.CbEffect(loads, "give"),)
    group = l6.TileGroup(("i", "j"), (t, t), tuple(body), effects)
    reads = tuple(l6.ReadToCb(l6.TileSlice(f"X{n}", *at, t, t), n) for n in range(loads))
    kbody = (persistent(N // b, (*reads, group, l6.WriteFromCb(loads, l6.TileSlice("Y", *at, t, t)))),)
    cbs = tuple(cb(n, f"X{n}_s", (b, b), dtype, 2, "reader", "compute") for n in range(loads)) + (
        cb(loads, "Y_s", (b, b), dtype, 2, "compute", "writer"),)
    params = tuple(tensor(f"X{n}", (M, N), dtype) for n in range(loads)) + (tensor("Y", (M, N), dtype),)
    return l6.Kernel("sum", params, work((M // b) * (N // b), cores), cbs, kbody, ())


def to_l8(k: l6.Kernel) -> l8.Program:
    p = insert_compute_init(lower_d(k), T)
    l8.LANG.check(p, after="D4 insert-compute-init")
    return p


def to_l9(k: l6.Kernel) -> l9.Program:
    p = insert_dst_management(to_l8(k), T)
    l9.LANG.check(p, after="D5 insert-dst-management")
    return p


def edit(body: tuple, fn) -> tuple:
    """Every statement s, deep first, replaced by the statements fn(s) returns."""
    out = []
    for s in body:
        if isinstance(getattr(s, "body", None), tuple):
            s = replace(s, body=edit(s.body, fn))
        out.extend(fn(s))
    return tuple(out)


def edit_kernel(p, role: str, fn):
    return replace(p, kernels=tuple(replace(k, body=edit(k.body, fn)) if k.role == role else k
                                    for k in p.kernels))


def compute_body(p) -> tuple:
    return p.kernel("compute").body


def inits(body) -> list[str]:
    return [x.head() for x in walk(body) if isinstance(x, l8.Init)]


def groups(p) -> list:
    return [x for x in walk(compute_body(p)) if isinstance(x, l8.TileGroup)]


def inputs(k, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    dt = {"float32": np.float32, "bfloat16": ml_dtypes.bfloat16}
    return {t.name: rng.uniform(-1, 1, t.shape).astype(dt[t.dtype]) for t in k.params}


def run(interp, p, arrays) -> dict[str, np.ndarray]:
    copies = {n: a.copy() for n, a in arrays.items()}
    interp.run(p, copies)
    return copies


# ----- the init model -----
def test_needs_of_l8_ops_and_l9_calls_agree():
    fmts = {0: "Float16_b", 1: "Float16_b", 2: "Float32"}
    ref = l8.TileRef(0, c(0), c(0))
    pairs = [(l8.TAssign("t", l8.TileLoad(ref)), l9.CopyTile(0, c(0), c(0)), "copy_tile_init(cb0)"),
             (l8.TAssign("t", l8.TileBinary("sub", ref, replace(ref, cb=1))),
              l9.BinaryTiles("sub", 0, 1, c(0), c(0), c(0)), "sub_tiles_init(cb0, cb1)"),
             (l8.TAssign("t", l8.TileMatmul(ref, replace(ref, cb=1), "t")),
              l9.MatmulTiles(0, 1, c(0), c(0), c(0)), "mm_init_short(cb0, cb1)"),
             (l8.TAssign("t", l8.TileBinaryTemps("mul", "a", "b")), l9.SfpuBinary("mul", c(0), c(1), c(0)),
              "mul_binary_tile_init()"),
             (l8.TAssign("t", l8.TileScalar("rsub", "t", 1.0)), l9.SfpuScalar("rsub", c(0), 1.0),
              "binop_with_scalar_tile_init()"),
             (l8.TAssign("t", l8.TileFill(0.0)), l9.FillTile(c(0), 0.0), "fill_tile_init()"),
             (l8.TStore(replace(ref, cb=2), "t"), l9.PackTile(c(0), 2, c(0)), "pack_reconfig_data_format(cb2)")]
    for op8, op9, init in pairs:
        assert need(op8, fmts) == need(op9, fmts) and need(op8, fmts).init.head() == init
    assert need(l8.TStore(replace(ref, cb=2), "t"), fmts).value == "Float32"
    assert need(l8.CbPop(0, 1), fmts) is None


def test_a_loop_head_joins_its_entry_with_its_body_exit_to_a_fixpoint():
    fmts = {0: "Float16_b", 1: "Float16_b"}
    copy, add = l8.Init("copy_tile_init", (0,)), l8.Init("add_tiles_init", (0, 1))
    before = State().after(l8.Init("compute_kernel_hw_startup", (0, 1)), fmts).after(copy, fmts)
    assert loop_entry(before, lambda h: h) == before                       # nothing changes it
    assert loop_entry(before, lambda h: h.after(copy, fmts)) == before     # re-sets the same value
    head = loop_entry(before, lambda h: h.after(add, fmts))
    assert head.fpu is None and head.started and head.pack == "Float16_b"
    loop = l8.For("k", c(2), "serial", 0, (add,))
    assert through((loop,), before, fmts).fpu == ("add_tiles_init", (0, 1), ())   # 2 trips: body exit


# ----- D4 -----
def test_d4_one_op_kind_gets_its_init_hoisted_out_of_every_loop():
    body = compute_body(to_l8(eltwise_l6()))
    assert [s.head() for s in body[:3]] == ["compute_kernel_hw_startup(cb0, cb1, cb2)",
                                           "add_tiles_init(cb0, cb1)", "binop_with_scalar_tile_init()"]
    assert isinstance(body[3], l8.For) and len(body) == 4
    assert inits(body[3].body) == []                       # nothing inside the persistent loop


def test_d4_alternating_ops_get_re_inits_inside_the_loop():
    p = to_l8(gemm_l6())
    zero, step, out = groups(p)
    assert inits(compute_body(p)[:3]) == ["compute_kernel_hw_startup(cb2, cb2)", "fill_tile_init()",
                                          "reconfig_data_format_srcb(cb0)"]   # matmul's in0, hoisted
    # the K step reloads the accumulator (copy) and multiplies (matmul): both re-init per tile,
    # the matmul's init once before its K loop, not per K step; each also points srcA at its own
    # CB's format (Float32 partials, bf16 B: in1 is matmul's srcA), which a short init does not
    assert [type(s).__name__ for s in step.body] == ["Init", "Init", "TAssign", "Init", "Init", "TFor", "TStore"]
    assert [step.body[i].head() for i in (0, 1, 3, 4)] == [
        "copy_tile_init(cb2)", "reconfig_data_format_srca(cb2)", "mm_init_short(cb0, cb1)",
        "reconfig_data_format_srca(cb1)"]
    assert inits(step.body[5].body) == []
    assert inits(zero.body) == [] and inits(out.body) == []
    # the copy into the output block is one op kind: its init sits before the group
    loop = compute_body(p)[3]
    assert inits(loop.body[-5:-3]) == ["copy_tile_init(cb2)", "reconfig_data_format_srca(cb2)"]
    assert loop.body[-3] == out


def test_d4_loop_fixpoint_re_inits_what_the_loop_body_itself_changes():
    """copy before the loop, then copy and add alternating inside it: without the fixpoint the
    loop's first copy would look initialised by the copy before the loop."""
    p = lower_d(eltwise_l6())
    ij = (v("i"), v("j"))
    copy = l8.TileGroup(("i", "j"), (2, 2), (l8.TAssign("t0", l8.TileLoad(l8.TileRef(0, *ij))),
                                              l8.TStore(l8.TileRef(2, *ij), "t0")))
    add = l8.TileGroup(("i", "j"), (2, 2), (l8.TAssign("t0", l8.TileBinary("add", l8.TileRef(0, *ij),
                                                                            l8.TileRef(1, *ij))),
                                             l8.TStore(l8.TileRef(2, *ij), "t0")))
    p = replace(p, kernels=tuple(replace(k, body=(copy, l8.For("n", c(3), "serial", 0, (copy, add))))
                                 if k.role == "compute" else k for k in p.kernels))
    body = compute_body(insert_compute_init(p, T))
    assert [s.head() for s in body[:2]] == ["compute_kernel_hw_startup(cb0, cb2)", "copy_tile_init(cb0)"]
    assert [s.head() for s in body[3].body] == [
        "copy_tile_init(cb0)", copy.head(), "add_tiles_init(cb0, cb1)", add.head()]


def test_d4_hw_startup_configures_the_packer_for_its_output():
    k = sum3_l6(loads=2)
    k = replace(k, cbs=(*k.cbs[:2], cb(2, "Y_s", (64, 64), "float32", 2, "compute", "writer")),
                params=(*k.params[:2], tensor("Y", (64, 128), "float32")))
    body = compute_body(to_l8(k))
    assert body[0].head() == "compute_kernel_hw_startup(cb0, cb1, cb2)"
    assert "pack_reconfig_data_format(cb2)" not in inits(body)


def gemm_bf16_out(cores=64):
    """The GEMM with a float32 accumulator and a bfloat16 output block: packs alternate formats."""
    k = gemm_l6(cores=cores)
    return replace(k, cbs=(*k.cbs[:3], cb(3, "C_out", (64, 64), "bfloat16", 2, "compute", "writer")),
                   params=(*k.params[:2], tensor("C", (256, 256), "bfloat16")))


def test_d4_pack_format_changes_get_pack_reconfig():
    p = to_l8(gemm_bf16_out())
    loop = compute_body(p)[3]
    zero, out = loop.body[2], loop.body[-3]
    assert loop.body[1].head() == "pack_reconfig_data_format(cb2)"       # Float32 again, each block
    assert isinstance(zero, l8.TileGroup) and isinstance(out, l8.TileGroup)
    assert inits(loop.body[-6:-3]) == ["copy_tile_init(cb2)", "reconfig_data_format_srca(cb2)",
                                       "pack_reconfig_data_format(cb3)"]
    assert inits(compute_body(to_l8(gemm_l6()))).count("pack_reconfig_data_format(cb3)") == 0


def test_d4_leaves_reader_and_writer_alone():
    before, after = lower_d(gemm_l6()), to_l8(gemm_l6())
    assert before.kernel("reader") == after.kernel("reader") and before.kernel("writer") == after.kernel("writer")
    assert to_l8(gemm_l6()) == to_l8(gemm_l6())


# ----- D5: slots, batches, structure -----
def test_d5_three_live_temporaries_in_a_dst_of_8_run_in_batches_of_2():
    p = to_l9(sum3_l6())
    assert p.compute == l9.ComputeConfig(False, 8, "HiFi4") and p.args is None
    loop = compute_body(p)[-1].body                      # inside the persistent loop
    batch = next(s for s in loop if isinstance(s, l9.For))
    assert (batch.var, batch.extent) == ("sb0", c(2))    # 4 tiles / 2 per batch
    kinds = [type(s).__name__ for s in batch.body]
    assert kinds == ["RegsAcquire", "Init", "For", "Init", "For", "Init", "For", "For", "For",
                     "RegsCommit", "RegsWait", "For", "RegsRelease"]   # add_binary_tile_init: hoisted
    assert inits(compute_body(p)[:2]) == ["compute_kernel_hw_startup(cb0, cb1, cb3)", "add_binary_tile_init()"]
    j = batch.body[2]
    jv = j.var                                           # a fresh name (D3 took j0..j3)
    assert j.extent == c(2) and jv not in ("i", "j", "sb0")
    copies = [s.body[-1] for s in batch.body if isinstance(s, l9.For) and isinstance(s.body[-1], l9.CopyTile)]
    assert [str(x.dst) for x in copies] == [f"({jv} * 3)", f"(({jv} * 3) + 1)", f"(({jv} * 3) + 2)"]
    assert [f"{s.var} = {s.value}" for s in j.body[:2]] == [f"i = (((sb0 * 2) + {jv}) // 2)",
                                                           f"j = (((sb0 * 2) + {jv}) % 2)"]
    sfpu = [s.body[-1] for s in batch.body if isinstance(s, l9.For) and isinstance(s.body[-1], l9.SfpuBinary)]
    assert [x.head() for x in sfpu] == [
        f"add_binary_tile dst[({jv} * 3)], dst[(({jv} * 3) + 1)] -> dst[({jv} * 3)]",
        f"add_binary_tile dst[({jv} * 3)], dst[(({jv} * 3) + 2)] -> dst[({jv} * 3)]"]
    pack = batch.body[-2].body[-1]
    assert pack.head() == f"pack_tile dst[({jv} * 3)] -> cb3.back[((i * 2) + j)]"


def test_d5_gemm_of_16_tiles_with_fp32_accumulation_interchanges_the_k_loop():
    p = to_l9(gemm_l6(bm=128, bn=128, bk=64))
    assert p.compute == l9.ComputeConfig(True, 4, "HiFi4")
    kstep = next(s for s in walk(compute_body(p)) if isinstance(s, l9.For) and s.var == "kt")
    batch = next(s for s in kstep.body if isinstance(s, l9.For))
    assert batch.extent == c(4)                                         # 16 tiles in batches of 4
    assert [type(s).__name__ for s in batch.body] == [
        "RegsAcquire", "Init", "Init", "For", "Init", "Init", "For", "RegsCommit", "RegsWait", "For", "RegsRelease"]
    kloop = batch.body[6]
    assert (kloop.var, kloop.extent) == ("k", c(2))                     # K outside ...
    inner = kloop.body[0]
    assert inner.extent == c(4) and isinstance(inner.body[-1], l9.MatmulTiles)   # ... the batch inside
    mm = inner.body[-1]
    assert (str(mm.a_index), str(mm.b_index), str(mm.dst)) == ("((i * 2) + k)", "((k * 4) + j)", mm.dst.name)
    assert [f"{s.var} = {s.value}" for s in inner.body[:2]] == [
        f"i = (((sb1 * 4) + {mm.dst.name}) // 4)", f"j = (((sb1 * 4) + {mm.dst.name}) % 4)"]


def test_d5_one_tile_batches_need_no_inner_loop_and_one_batch_no_outer_loop():
    p = to_l9(gemm_l6(bm=32, bn=32, bk=32, M=64, N=64, K=64))
    kstep = next(s for s in walk(compute_body(p)) if isinstance(s, l9.For) and s.var == "kt")
    assert [type(s).__name__ for s in kstep.body[4:15]] == [
        "Let", "Let", "RegsAcquire", "Init", "Init", "CopyTile", "Init", "Init", "For", "RegsCommit", "RegsWait"]
    assert kstep.body[4].value == c(0) and kstep.body[9].dst == c(0)


def test_d5_too_many_live_temporaries_is_nt203():
    p = to_l8(sum3_l6(loads=5, dtype="float32"))
    at = Loc("k.py", 7, 4)
    p = edit_kernel(p, "compute", lambda s: [replace(s, loc=at)] if isinstance(s, l8.TileGroup) else [s])
    with pytest.raises(NanottError) as e:
        insert_dst_management(p, T)
    assert e.value.code == "NT203" and e.value.loc == at
    assert e.value.message == "the tile program at line 7 needs 5 DST tiles; the DST holds 4 (fp32 accumulation)"
    assert e.value.hint
    to_l9(sum3_l6(loads=5, dtype="bfloat16"))           # a 16-bit DST holds 8: fine


def test_d5_slots_are_reused_once_a_temporary_dies():
    ij = (v("i"), v("j"))
    body = (l8.TAssign("a", l8.TileLoad(l8.TileRef(0, *ij))),
            l8.TAssign("b", l8.TileScalar("mul", "a", 2.0)),          # in place: a dies here
            l8.TAssign("c", l8.TileLoad(l8.TileRef(1, *ij))),
            l8.TAssign("d", l8.TileBinaryTemps("add", "b", "c")),     # both die: lowest free slot
            l8.TAssign("e", l8.TileLoad(l8.TileRef(1, *ij))),
            l8.TStore(l8.TileRef(2, *ij), "d"), l8.TStore(l8.TileRef(2, *ij), "e"))
    assert dst_slots(body) == {"a": 0, "b": 0, "c": 1, "d": 0, "e": 1}
    acc = (l8.TAssign("acc", l8.TileFill(0.0)),
           l8.TFor("k", 2, (l8.TAssign("x", l8.TileLoad(l8.TileRef(0, *ij))),
                            l8.TAssign("acc", l8.TileBinaryTemps("add", "acc", "x")))),
           l8.TStore(l8.TileRef(2, *ij), "acc"))
    assert dst_slots(acc) == {"acc": 0, "x": 1}           # acc lives through the loop


def with_group_body(body) -> l8.Program:
    p = to_l8(eltwise_l6())
    return edit_kernel(p, "compute", lambda s: [replace(s, body=body)] if isinstance(s, l8.TileGroup) else [s])


def test_d5_rejects_what_the_dst_cannot_do():
    ij = (v("i"), v("j"))
    load, store = l8.TAssign("a", l8.TileLoad(l8.TileRef(0, *ij))), l8.TStore(l8.TileRef(2, *ij), "b")
    live = (load, l8.TAssign("b", l8.TileScalar("mul", "a", 2.0)), l8.TStore(l8.TileRef(2, *ij), "a"), store)
    with pytest.raises(CheckError, match="in-place"):
        insert_dst_management(with_group_body(live), T)
    mm = (load, l8.TAssign("b", l8.TileMatmul(l8.TileRef(0, *ij), l8.TileRef(1, *ij), "a")), store)
    with pytest.raises(CheckError, match="in-place"):
        insert_dst_management(with_group_body(mm), T)
    early = (load, l8.TStore(l8.TileRef(2, *ij), "a"), l8.TAssign("b", l8.TileLoad(l8.TileRef(1, *ij))), store)
    with pytest.raises(CheckError, match="stores before"):
        insert_dst_management(with_group_body(early), T)


def test_d5_prints_metalium_calls():
    from nanott.printing import render
    text = render(to_l9(gemm_l6()))
    for line in ("compute config: fp32_dest_acc_en=true, DST 4 tiles, HiFi4", "tile_regs_acquire",
                 "copy_tile cb2[((i * 2) + j)] -> dst[", "matmul_tiles cb0[(i + k)], cb1[((k * 2) + j)]",
                 "tile_regs_commit", "tile_regs_wait", "pack_tile dst[", "tile_regs_release"):
        assert line in text


# ----- the DST file -----
def test_dst_file_handshake_and_zeroing():
    d = DstFile(4)
    d.step("tile_regs_acquire")
    d.write(3, np.ones((TILE, TILE), np.float32))
    with pytest.raises(ProtocolError, match="DST index 4"):
        d.write(4, np.ones((TILE, TILE)))
    with pytest.raises(ProtocolError, match="tile_regs_wait while the DST is math"):
        d.step("tile_regs_wait")
    d.step("tile_regs_commit")
    with pytest.raises(ProtocolError, match="writes the DST while it is committed"):
        d.write(0, np.zeros((TILE, TILE)))
    d.step("tile_regs_wait")
    assert d.pack(3).sum() == TILE * TILE
    d.step("tile_regs_release")
    d.step("tile_regs_acquire")
    assert d.read(3).sum() == 0                           # release zeroed the section


# ----- InterpL9: numerics -----
# several blocks per core where the init placement across persistent-loop iterations matters
PROGRAMS = {"eltwise": lambda: eltwise_l6(cores=3), "gemm": gemm_l6, "sum3": sum3_l6,
            "gemm_bf16_out": lambda: gemm_bf16_out(cores=4),
            "gemm16": lambda: gemm_l6(bm=128, bn=128, bk=64), "gemm1": lambda: gemm_l6(bm=32, bn=32, M=64, N=64, K=64)}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_interp_l9_is_bit_identical_to_l8_and_matches_numpy(name):
    k = PROGRAMS[name]()
    arrays = inputs(k)
    out8 = run(InterpL8(), to_l8(k), arrays)
    out9 = run(InterpL9(), to_l9(k), arrays)
    f32 = {n: a.astype(np.float32) for n, a in arrays.items()}
    expected = {"eltwise": lambda: (f32["X"] + f32["Z"]) * np.float32(2) - np.float32(0.5),
                "sum3": lambda: f32["X0"] + f32["X1"] + f32["X2"]}.get(name, lambda: f32["A"] @ f32["B"])()
    out = k.params[-1].name
    assert np.array_equal(out8[out], out9[out])                         # bit for bit
    np.testing.assert_allclose(out9[out].astype(np.float32), expected, rtol=2**-6, atol=2**-6)


def test_interp_l9_any_interleaving_gives_the_same_bits():
    k = gemm_l6()
    arrays = inputs(k, seed=3)
    first = run(InterpL9(), to_l9(k), arrays)["C"]
    assert np.array_equal(first, run(InterpL9(seed=7), to_l9(k), arrays)["C"])


# ----- InterpL9: protocol faults -----
def fault(p) -> ProtocolError:
    with pytest.raises(ProtocolError) as e:
        InterpL9().run(p, inputs(PROGRAMS["eltwise"]()))
    return e.value


def test_interp_l9_pack_without_wait():
    p = edit_kernel(to_l9(eltwise_l6()), "compute", lambda s: [] if isinstance(s, l9.RegsWait) else [s])
    p = edit_kernel(p, "compute", lambda s: [replace(s, loc=Loc("k.py", 42))] if isinstance(s, l9.PackTile) else [s])
    e = fault(p)
    assert e.rule == "5.3.2" and "pack_tile reads the DST while it is committed" in str(e)
    assert "k.py:42" in str(e) and e.role == "compute"


def test_interp_l9_missing_init():
    p = edit_kernel(to_l9(eltwise_l6()), "compute",
                    lambda s: [] if isinstance(s, l9.Init) and s.op == "binop_with_scalar_tile_init" else [s])
    e = fault(p)
    assert e.rule == "5.3.6" and "without binop_with_scalar_tile_init()" in str(e)


def test_interp_l9_op_before_hw_startup():
    p = edit_kernel(to_l9(eltwise_l6()), "compute",
                    lambda s: [] if isinstance(s, l9.Init) and s.op == "compute_kernel_hw_startup" else [s])
    assert "before compute_kernel_hw_startup" in str(fault(p))


def test_interp_l9_dst_overflow():
    p = edit_kernel(to_l9(eltwise_l6()), "compute",
                    lambda s: [replace(s, dst=c(9))] if isinstance(s, l9.SfpuScalar) else [s])
    e = fault(p)
    assert e.rule == "4.3" and "DST index 9; the DST holds 8 tiles" in str(e)


def test_interp_l9_second_acquire_and_math_outside_acquire():
    p = edit_kernel(to_l9(eltwise_l6()), "compute",
                    lambda s: [s, s] if isinstance(s, l9.RegsAcquire) else [s])
    assert "tile_regs_acquire while the DST is math" in str(fault(p))
    p = edit_kernel(to_l9(eltwise_l6()), "compute",
                    lambda s: [] if isinstance(s, (l9.RegsAcquire, l9.RegsCommit)) else [s])
    e = fault(p)
    assert e.rule == "5.3.1" and "a math op writes the DST while it is idle" in str(e)


def test_interp_l9_kernel_ending_mid_handshake():
    k = eltwise_l6(M=64, N=64)                            # one block, one batch of 4 tiles
    p = edit_kernel(to_l9(k), "compute", lambda s: [] if isinstance(s, l9.RegsRelease) else [s])
    with pytest.raises(ProtocolError, match="ends with the DST packing"):
        InterpL9().run(p, inputs(k))
