"""D1 split-device-kernel: L6 -> L7

Changes:   the one program becomes three device kernels that run side by side on every core:
           reader (the ReadToCbs and GenerateToCbs), compute (the TileGroups, Releases and Prints,
           of scalars and of CBs:
           T.print runs once per core, in the kernel that holds the math, as TileLang's prints
           from its first threads) and writer (the WriteFromCbs). Each
           kernel keeps its own statements, the loops that contain one of them (with pruned
           bodies) and the lets its kept statements and loop bounds need, transitively; a loop
           updating a scalar such a let declares (a T.alloc_var carried across iterations) is
           kept with its updates by every kernel that needs the scalar. No
           kernel binds a tensor yet (D2 does). A let reading a DRAM element (an Element) is the
           reader's: it reads the element through the tensor's scratch CB (reader -> reader).
           When compute needs such a let (a loop bound read from DRAM: an `if` on data around
           tile ops, which P0 makes a loop run once or never), the scratch CB becomes reader ->
           compute and both kernels keep every let reading it, in the same loops: the reader sends
           the page it read, compute reads the same element from it (D3). When the writer needs
           one (rows written where a row count read from DRAM allows, from a start row read from
           DRAM: varlen attention), it reads the element itself, through a twin of the scratch CB,
           `<name>_w`, writer -> writer, added after the others.
Preserves: the CBs (but the writer's twins), their plans and roles, the work split, and the order of each role's
           statements; every statement is kept by exactly the one kernel of its role.
Why:       a Tensix core runs five RISC-V cores: two move data over the NoC, three drive the
           compute engine. Each gets its own program, and the only channel between them is a CB.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError
from nanott.ir import field_names, replace, walk
from nanott.languages import l6, l7
from nanott.passes._cb_uses import reads_dram
from nanott.passes._names import NameSupply
from nanott.passes._rewriter import Rewriter
from nanott.target import Target

ROLE_OF = {l6.ReadToCb: "reader", l6.GenerateToCb: "reader", l6.TileGroup: "compute", l6.Release: "compute",
           l6.Print: "compute", l6.PrintCb: "compute", l6.WriteFromCb: "writer"}


def split_device_kernel(program: l6.Kernel, target: Target) -> l7.Program:
    return SplitDeviceKernel().visit(program)


class SplitDeviceKernel(Rewriter, src=l6.LANG, dst=l7.LANG):
    def visit_Kernel(self, k: l6.Kernel) -> l7.Program:
        needs = {role: needed_lets(k.body, role) for role in l7.ROLES}
        element_lets = [s for s in walk(k.body) if isinstance(s, l6.Let) and reads_dram(s)]
        sent = {x.cb for s in element_lets if s.var in needs["compute"] for x in walk(s.value)
                if isinstance(x, l6.Element)}
        shared = {s.var for s in element_lets if any(isinstance(x, l6.Element) and x.cb in sent for x in walk(s.value))}
        needs["reader"], needs["compute"] = (needed_lets(k.body, role, shared) for role in ("reader", "compute"))
        kernels = tuple(l7.DeviceKernel(role, keep(k.body, role, needs[role]), (), loc=k.loc) for role in l7.ROLES)
        reader, compute, writer = kernels
        cbs, writer = writer_scratch(k, writer)
        kernels = (reader, compute, writer)
        if [s for s in walk(reader.body) if isinstance(s, l6.Let) and s.var in shared] != \
                [s for s in walk(compute.body) if isinstance(s, l6.Let) and s.var in shared]:
            let = next(s for s in element_lets if s.var in shared)
            raise NanottError("NT330", f"the compute kernel needs {let.var}, a value read from DRAM, in loops the "
                              "reader does not share with it", let.loc, "read the value in the loop that uses it")
        cbs = tuple(replace(cb, consumer="compute") if cb.index in sent else cb for cb in cbs)
        return l7.Program(k.name, k.params, k.work, cbs, kernels, k.attrs, loc=k.loc)


def writer_scratch(k: l6.Kernel, writer: l7.DeviceKernel) -> tuple[tuple, l7.DeviceKernel]:
    """The kernel's CBs and the writer, which reads the DRAM elements its lets need itself (a row
    written where a row count read from DRAM allows, at a start row read from DRAM): each scratch
    CB they read gets a twin `<name>_w`, writer -> writer, declared after the others, so that the
    reader's use of its own is not disturbed (both ends of a CB are one kernel's)."""
    used = sorted({x.cb for s in walk(writer.body) if isinstance(s, l6.Let) and reads_dram(s)
                   for x in walk(s.value) if isinstance(x, l6.Element)})
    if not used:
        return k.cbs, writer
    names = NameSupply({cb.name for cb in k.cbs})
    twin = {cb: len(k.cbs) + n for n, cb in enumerate(used)}
    extra = tuple(replace(k.cbs[cb], index=twin[cb], name=names.fresh(f"{k.cbs[cb].name}_w"), producer="writer",
                          consumer="writer") for cb in used)
    return (*k.cbs, *extra), replace(writer, body=tuple(retarget(s, twin) for s in writer.body))


def retarget(s, twin: dict[int, int]):
    """s with every Element reading a scratch CB in `twin` reading its twin."""
    if isinstance(s, l6.Element) and s.cb in twin:
        return replace(s, cb=twin[s.cb])
    if isinstance(s, tuple):
        return tuple(retarget(x, twin) for x in s)
    names = field_names(type(s))
    return replace(s, **{f: retarget(getattr(s, f), twin) for f in names}) if names else s


def mine(s, role: str, lets: set[str] = frozenset()) -> bool:
    """A statement of `role`, or a loop holding one or an update of a scalar in `lets` (a scalar the
    loop carries from one iteration to the next: the kernel that reads it runs the loop too)."""
    if isinstance(s, l6.For):
        return any(mine(x, role, lets) for x in s.body)
    return ROLE_OF.get(type(s)) == role or isinstance(s, l6.Let) and s.update and s.var in lets


def needed_lets(body: tuple, role: str, seeds: set[str] = frozenset()) -> set[str]:
    """The let variables the role's statements and loop bounds use (and `seeds`), directly or
    through lets, to a fixpoint: a loop kept for a scalar it updates brings its bound and the
    updates' values."""
    lets: dict[str, list] = {}
    for s in walk(body):
        if isinstance(s, l6.Let):
            lets.setdefault(s.var, []).append(s.value)
    used: set[str] = set(seeds)
    while True:
        before = set(used)

        def scan(stmts: tuple) -> None:
            for s in stmts:
                if isinstance(s, l6.For) and mine(s, role, used):
                    used.update(var_names(s.extent))
                    scan(s.body)
                elif not isinstance(s, (l6.Let, l6.For)) and mine(s, role):
                    used.update(var_names(s))

        scan(body)
        todo = [v for v in used if v in lets]
        while todo:
            for value in lets[todo.pop()]:
                for v in var_names(value) - used:
                    used.add(v)
                    if v in lets:
                        todo.append(v)
        if used == before:
            return used & set(lets)


def keep(body: tuple, role: str, lets: set[str]) -> tuple:
    out = []
    for s in body:
        if isinstance(s, l6.Let):
            if s.var in lets:
                out.append(s)
        elif isinstance(s, l6.For):
            if mine(s, role, lets) or any(isinstance(x, l6.Let) and x.var in lets for x in walk(s.body)):
                out.append(l6.For(s.var, s.extent, s.kind, s.num_stages, keep(s.body, role, lets),
                                  loc=s.loc))
        elif mine(s, role):
            out.append(s)
    return tuple(out)


def var_names(x) -> set[str]:
    return {v.name for v in walk(x) if isinstance(v, l6.Var)}
