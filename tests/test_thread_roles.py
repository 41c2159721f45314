"""Warp specialization written with the thread index (nanott/language/thread_roles.py) and fused into one
program by the barriers (nanott/language/role_fusion.py).

The claims:
- the roles of `if tx < 128: ... elif ...: ... else: ...` become one program, each role's loop fused
  into one loop whose body runs the roles' segments in the order the barriers allow; the IR records
  the roles and the schedule;
- that program computes what the GPU kernel computes: our kernel
  (tests/kernels/tilelang_style/thread_roles_attention.py: a producer and two consumers exchanging a
  block through shared memory) against an independent NumPy reference on random inputs, at every
  level and through `compile --execute`;
- a missing arrive, a wrong parity, a missing wait give NT329 naming the barrier or the buffer, the
  roles and the lines, never a hang or a wrong answer; per-thread work is NT301 with a hint.

Tolerance: O = exp(Q K^T * scale) V with P = exp(...) stored in bfloat16 shared memory before the
second product, as the kernel says. Q K^T is exact in float32 up to its additions (64 products of
bfloat16 values: about 64 * 2^-24 relative), exp is within an ulp of float32, and rounding P to
bfloat16 moves each element by at most 2^-9 of itself; so each output element is within
2^-9 * (|P| @ |V|) of the reference, plus float32 sums. The test allows twice that bound, element by
element, plus 1e-5 of the output's largest magnitude.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import nanott_cli

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

KERNEL = Path(__file__).resolve().parent / "kernels" / "tilelang_style" / "thread_roles_attention.py"
LEVELS = ("L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9")


def loaded(**sets):
    return load_kernel(KERNEL, "attention", {k: str(v) for k, v in sets.items()})


def reference(x: dict) -> tuple[np.ndarray, np.ndarray]:
    """(O, the bound on |O - O_ref|) in float64, from the inputs alone."""
    q, k, v = (x[n].astype(np.float64) for n in ("Q", "Kt", "V"))
    p = np.exp(q @ k.T * q.shape[1] ** -0.5)
    out = p @ v
    return out, 2 * 2.0 ** -9 * (np.abs(p) @ np.abs(v)) + 1e-5 * np.abs(out).max()


def test_the_roles_fuse_into_one_loop_in_the_order_the_barriers_allow():
    text = str(api.lower(loaded().prim_func, stop_after="P0"))
    assert "ws.roles=r0=tx0..127 r1=tx128..255 r2=tx256..383" in text
    # the producer's copies, then consumer 0's two segments (S, then P after the wait on p_free),
    # then consumer 1's product: each role's segment named by its first line
    assert "ws.schedule=r1@64 loop k [r2@85 r0@56 r0@60 r1@68] r1@71" in text
    body = text.split("for k in 0..4:")[1]
    order = [body.index(s) for s in ("-> K_shared", "-> V_shared", "gemm S = Q_shared @ K_shared^T",
                                      "P_shared[i, j] = exp", "gemm acc += P_shared @ V_shared")]
    assert order == sorted(order)
    assert "barrier" not in body and text.count("for k in") == 1


VARIANTS = {"blocks": {}, "threads_and_halves": {"producer": "threads", "halves": True}}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("level", ["L0", "L9"])
def test_the_fused_program_matches_numpy(level, variant):
    program = loaded(**VARIANTS[variant])
    kernel = api.lower(program.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=5)
    expected, bound = reference(inputs)
    got = api.simulate(api.lower(program.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
    err = np.abs(got["O"].astype(np.float64) - expected)
    assert (err <= bound).all(), f"{level}: max err {err.max():.3g}, bound there {bound.flat[err.argmax()]:.3g}"
    assert np.abs(expected).max() > 1.0          # the output is not trivially small


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_fused_program_matches_numpy_at_every_level(variant):
    program = loaded(**VARIANTS[variant])
    kernel = api.lower(program.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=9)
    expected, bound = reference(inputs)
    for level in LEVELS:
        got = api.simulate(api.lower(program.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
        err = np.abs(got["O"].astype(np.float64) - expected)
        assert (err <= bound).all(), f"{level}: max err {err.max():.3g}"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path):
    """`nanott compile --execute` of examples/gemm_thread_roles.py against its NumPy reference."""
    example = Path(__file__).resolve().parents[1] / "examples" / "gemm_thread_roles.py"
    out = nanott_cli("compile", str(example), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")


def test_per_thread_copies_become_block_copies_and_parts_become_buffers():
    """The producer's T.ptx_cp_async of 8 elements per thread over 128 threads and 4 row groups is the
    copy of the 64 x 64 block; the gemms on halves of Q_shared and K_shared read buffers of their own."""
    text = str(api.lower(loaded(producer="threads", halves=True).prim_func, stop_after="P0"))
    assert "copy V[(k * 64), 0 +64x64] -> V_shared[64x64]" in text
    assert "copy Kt[(k * 64), 0 +64x32] -> K_shared_0[64x32]" in text
    assert "copy Kt[(k * 64), 32 +64x32] -> K_shared_1[64x32]" in text
    assert "parts.Q_shared=Q_shared_0=[0:64, 0:32] Q_shared_1=[0:64, 32:64]" in text
    assert "gemm S = Q_shared_0 @ K_shared_0^T" in text and "gemm S += Q_shared_1 @ K_shared_1^T" in text
    assert "ptx" not in text and "tx" not in text.split("ws.roles")[1].split("\n", 1)[1]


def diagnosed(mutation: str) -> NanottError:
    with pytest.raises(NanottError) as err:
        api.lower(loaded(mutation=mutation).prim_func, stop_after="P0")
    return err.value


def test_a_missing_arrive_is_a_deadlock_naming_every_waiting_role():
    err = diagnosed("no_arrive")
    assert err.code == "NT329" and err.message.startswith("deadlock")
    assert "tx 0..127 waits on kv_ready with parity 0 at iteration 0" in err.message
    assert "tx 256..383 waits on kv_free" in err.message and err.loc.line == 51


def test_a_wrong_parity_is_a_race_naming_the_buffer_roles_and_lines():
    """Consumer 1 waits on p_ready with parity 1 first: that passes at once, so it would read the
    shared blocks before the producer wrote them."""
    err = diagnosed("parity")
    assert err.code == "NT329" and err.message.startswith("race on V_shared")
    assert "tx 128..255 reads it at line 68 (iteration 0)" in err.message
    assert "tx 256..383 writes it at line 86 (iteration 0)" in err.message


def test_a_missing_wait_is_a_race():
    err = diagnosed("no_wait")
    assert err.code == "NT329" and "race on" in err.message and "tx 128..255 reads" in err.message


def write(tmp_path, body: str) -> Path:
    path = tmp_path / "k.py"
    path.write_text(HEAD + body)
    return path


HEAD = '''
import nanott.language as T

@T.prim_func
def k(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=256) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        C_l = T.alloc_fragment((64, 64), "float32")
        ready = T.alloc_barrier(arrive_count=128)
        tx = T.get_thread_binding()
'''


def lowered(tmp_path, body: str):
    return api.lower(load_kernel(write(tmp_path, body)).prim_func, stop_after="P0")


def test_straight_roles_fuse_and_compute(tmp_path):
    body = '''
        if tx >= 128:
            T.copy(A[0, 0], A_s)
            T.barrier_arrive(ready)
        else:
            T.barrier_wait(ready, 0)
            for i, j in T.Parallel(64, 64):
                C_l[i, j] = A_s[i, j] * 2.0
            T.copy(C_l, C[0, 0])
'''
    kernel = lowered(tmp_path, body)
    assert "ws.schedule=r1@" in str(kernel) and "r0@" in str(kernel)
    a = np.random.default_rng(3).standard_normal((64, 64)).astype(np.float32)
    c = np.zeros_like(a)
    api.run(load_kernel(write(tmp_path, body)).prim_func, a, c, level="L0")
    assert np.array_equal(c, a * 2)                         # a product by 2 is exact


def test_per_thread_work_other_than_copies_is_NT301_with_a_hint(tmp_path):
    with pytest.raises(NanottError) as err:
        lowered(tmp_path, '''
        if tx < 128:
            C_l[0, tx] = 1.0
''')
    assert err.value.code == "NT301" and "`tx` in a store statement" in err.value.message
    assert "T.ptx_cp_async" in err.value.hint
    with pytest.raises(NanottError) as err:
        lowered(tmp_path, '''
        if tx >= 128:
            T.copy(A[(tx - 128) // 2, 0], A_s)
''')
    assert err.value.code == "NT301" and "`tx` in a copy statement" in err.value.message
    with pytest.raises(NanottError) as err:
        lowered(tmp_path, '''
        T.copy(A[tx + 1, 0], A_s)
''')
    assert err.value.code == "NT301" and "outside a role" in err.value.message
    assert "branches on tx" in err.value.hint


PRODUCER = '''
        if tx >= 128:
            for r in T.serial(4):
                T.ptx_cp_async(T.access_ptr(A_s[r * 16 + (tx - 128) // 8, (tx - 128) % 8 * COLS], "w", 8),
                               T.access_ptr(A[r * 16 + (tx - 128) // 8, (tx - 128) % 8 * 8], "r", 8), 8)
            T.barrier_arrive(ready)
        else:
            T.barrier_wait(ready, 0)
            T.copy(A_s, C[0, 0])
'''


def test_per_thread_copies_gather_into_one_block_copy(tmp_path):
    kernel = lowered(tmp_path, PRODUCER.replace("COLS", "8"))
    assert "copy A[64x64] -> A_s[64x64]" in str(kernel)
    a = np.random.default_rng(4).standard_normal((64, 64)).astype(np.float32)
    c = np.zeros_like(a)
    api.run(load_kernel(write(tmp_path, PRODUCER.replace("COLS", "8"))).prim_func, a, c, level="L9")
    assert np.array_equal(c, a)                              # a copy is exact


def test_per_thread_copies_that_are_not_one_box_are_NT301(tmp_path):
    with pytest.raises(NanottError) as err:                  # 8 elements every 4 columns: overlaps
        lowered(tmp_path, PRODUCER.replace("COLS", "4"))
    assert err.value.code == "NT301" and "not one box" in err.value.message
    with pytest.raises(NanottError) as err:                  # starting at column 8: past A_s's 64
        lowered(tmp_path, PRODUCER.replace("COLS", "8 + 8"))
    assert err.value.code == "NT301" and "outside its shape 64x64" in err.value.message


def test_a_fragment_two_roles_use_is_NT301(tmp_path):
    with pytest.raises(NanottError) as err:
        lowered(tmp_path, '''
        if tx < 128:
            T.fill(C_l, 1.0)
            T.barrier_arrive(ready)
        else:
            T.barrier_wait(ready, 0)
            T.copy(C_l, C[0, 0])
''')
    assert err.value.code == "NT301" and "fragment C_l" in err.value.message


def test_more_arrivals_than_the_arrive_count_is_NT329(tmp_path):
    """A role of 192 threads arrives on a barrier of 128: the phase would complete early."""
    with pytest.raises(NanottError) as err:
        lowered(tmp_path, '''
        if tx < 64:
            T.barrier_wait(ready, 0)
            T.copy(A_s, C[0, 0])
        else:
            T.copy(A[0, 0], A_s)
            T.barrier_arrive(ready)
''')
    assert err.value.code == "NT329" and "192 threads arrive on ready in phase 0, whose arrive_count is 128" \
        in err.value.message


def test_an_object_that_answers_every_attribute_is_neither_a_barrier_nor_tx(tmp_path):
    """TileLang's TensorCoreIntrinEmitter answers any attribute (its per-thread methods are NT301 when
    called): binding it in the kernel body must not ask it for `label_as`, nor use it as `tx`."""
    path = tmp_path / "helper.py"
    path.write_text('''
import nanott.language as T


class Helper:
    def __getattr__(self, name):
        raise AssertionError(f"asked for {name}")


@T.prim_func
def k(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        helper = Helper()
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        T.copy(A_s, C[0, 0])
''')
    assert "copy A_s[64x64] -> C[64x64]" in str(api.lower(load_kernel(path).prim_func, stop_after="P0"))
