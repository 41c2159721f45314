"""Warp specialization (nanott/language/warp_specialize.py): roles and barriers read in program order.

The claim: a kernel written with `T.ws` roles, `T.tma_copy` and barriers lowers to the L0 of the same
kernel without them (the barriers allow program order, and D1 and the CBs synchronise what they
did), with the roles and barriers recorded as Attrs. Numerics of examples/gemm_warp_specialize.py
against NumPy at every level are tests/test_numerics.py's; here, the L0 equality and the misuses.
"""
from __future__ import annotations

import textwrap

import pytest

import nanott
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

HEAD = """
import nanott.language as T

@T.prim_func
def k(A: T.Tensor((64, 128), "bfloat16"), B: T.Tensor((128, 64), "bfloat16"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1, threads=256) as (bx, by):
        A_s = T.alloc_shared((64, 32), "bfloat16")
        B_s = T.alloc_shared((32, 64), "bfloat16")
        C_l = T.alloc_fragment((64, 64), "float")
"""
ROLES = """
        ready = T.alloc_barrier(arrive_count=128)
        done = T.alloc_barrier(arrive_count=128)
        with T.ws(0):
            T.clear(C_l)
        for ko in T.Pipelined(4, num_stages=2):
            with T.ws(1):
                T.barrier_wait(done, (ko + 1) % 2)
                T.tma_copy(A[0, ko * 32], A_s, barrier=ready)
                T.tma_copy(B[ko * 32, 0], B_s, barrier=ready)
                T.barrier_arrive(ready)
            with T.ws(0):
                T.barrier_wait(ready, ko % 2)
                T.gemm(A_s, B_s, C_l)
                T.barrier_arrive(done)
        with T.ws(0):
            T.copy(C_l, C[0, 0])
"""
PLAIN = """
        T.clear(C_l)
        for ko in T.Pipelined(4, num_stages=2):
            T.copy(A[0, ko * 32], A_s)
            T.copy(B[ko * 32, 0], B_s)
            T.gemm(A_s, B_s, C_l)
        T.copy(C_l, C[0, 0])
"""


def l0(tmp_path, body: str, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(HEAD) + textwrap.indent(textwrap.dedent(body), " " * 8))
    return nanott.lower(load_kernel(path).prim_func, "P0")


def test_roles_and_barriers_lower_to_the_program_order_kernel(tmp_path):
    ws, plain = l0(tmp_path, ROLES, "ws"), l0(tmp_path, PLAIN, "plain")
    body = lambda k: [line.split("#")[0] for line in str(k).splitlines()[2:]]  # noqa: E731  (past the grid line)
    assert body(ws) == body(plain)
    attrs = {(a.key, a.value) for a in ws.attrs}
    assert {("ws.role", "0"), ("ws.role", "1"), ("barrier0.arrive_count", "128"),
            ("barrier1.arrive_count", "128")} <= attrs
    assert not any(a.key.startswith(("ws", "barrier")) for a in plain.attrs)


def test_a_wait_on_a_barrier_nobody_arrives_on_is_NT329(tmp_path):
    body = ROLES.replace("                T.barrier_arrive(done)\n", "")
    with pytest.raises(NanottError) as err:
        l0(tmp_path, body, "never")
    assert err.value.code == "NT329" and "T.barrier_wait on done," in err.value.message


def test_a_wait_on_something_else_than_a_barrier_is_NT104(tmp_path):
    body = ROLES.replace("T.barrier_wait(ready, ko % 2)", "T.barrier_wait(A_s, ko % 2)")
    with pytest.raises(NanottError) as err:
        l0(tmp_path, body, "notbarrier")
    assert err.value.code == "NT104" and "takes a barrier" in err.value.message


def test_a_consumer_written_before_its_producer_is_NT329(tmp_path):
    """Swapped role blocks are right on the GPU (the barrier orders them) and wrong in program order."""
    producer = ROLES[ROLES.index("            with T.ws(1):"):ROLES.index("            with T.ws(0):\n                T.barrier_wait(ready")]
    body = ROLES.replace(producer, "").replace("                T.barrier_arrive(done)\n",
                                                 "                T.barrier_arrive(done)\n" + producer)
    with pytest.raises(NanottError) as err:
        l0(tmp_path, body, "swapped")
    assert err.value.code == "NT329" and "later in program order" in err.value.message
