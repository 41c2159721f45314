"""What `nanott run --stats` prints and `--trace` writes, from a finished CycleModel.

Stats: the modelled duration in cycles and microseconds; achieved TFLOPS; the ideal-cycles
roofline of Tenstorrent's GEMM_FLOPS report (every matmul tile at 16 cycles per fidelity phase,
spread evenly over the target's whole grid) and the utilisation against it; three floors
(compute: the busiest core's busiest compute engine; DRAM: all DRAM bytes at the aggregate
bandwidth; NoC: the busiest NIU) and which one binds; then per core and engine the busy cycles,
the stalls on each CB, and the bytes moved.

Trace: Chrome's trace-event format (also read by Perfetto, ui.perfetto.dev): one process per core,
one thread per engine, one complete ("X") event per statement, timestamps in microseconds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nanott.sim import machine as m
from nanott.sim.cycles import DST, ENGINES, NOC, SEM, CycleModel


@dataclass(frozen=True)
class Figures:
    """The headline numbers of one modelled run."""
    duration: float           # cycles
    seconds: float
    flops: int
    tflops: float
    ideal: float              # cycles: matmul tiles x cycles per tile / grid cores
    utilisation: float        # ideal / duration
    floors: dict              # name -> cycles
    bound: str


def figures(model: CycleModel) -> Figures:
    t = model.target
    duration = model.duration()
    seconds = duration / (t.clock_ghz * 1e9)
    flops, tiles = model.total("flops"), model.total("matmul_tiles")
    ideal = tiles * m.MATMUL_TILE_CYCLES_PER_PHASE * model.phases / t.num_cores
    cores = model.cores.values()
    floors = {
        "compute": max((max(c.busy[e] for e in ("unpack", "math", "pack")) for c in cores), default=0.0),
        "DRAM": model.dram_floor(),
        "NoC": max((n.busy for c in cores for n in c.nics.values()), default=0.0),
    }
    bound = max(floors, key=floors.get)
    return Figures(duration, seconds, flops, flops / seconds / 1e12 if seconds else 0.0, ideal,
                   ideal / duration if duration else 0.0, floors, bound)


def stats_text(model: CycleModel | list[CycleModel], max_cores: int = 8) -> str:
    """The --stats report (the first `max_cores` cores in full, then a line for the rest); of each
    launch in turn, and their total, for a program of several."""
    if isinstance(model, list):
        total = sum(x.duration() for x in model)
        return "".join(f"launch {i}:\n" + stats_text(x, max_cores) for i, x in enumerate(model)) + \
            f"launches      {len(model)}, one after another: {total:,.0f} cycles in all\n"
    f, t = figures(model), model.target
    out = [f"modelled on {t.name}: {sum(c.weight for c in model.cores.values())} of {t.num_cores} cores "
           f"at {t.clock_ghz:g} GHz, "
           f"math fidelity {model.why or model.fidelity}",
           f"duration      {f.duration:,.0f} cycles = {f.seconds * 1e6:,.2f} us",
           f"work          {f.flops:,.0f} FLOP -> {f.tflops:,.3f} TFLOPS",
           f"ideal cycles  {f.ideal:,.0f} (matmul tiles x {m.MATMUL_TILE_CYCLES_PER_PHASE * model.phases}"
           f" cycles / {t.num_cores} cores) -> utilisation {100 * f.utilisation:.1f}%",
           "floors        " + ", ".join(f"{k} {v:,.0f}" for k, v in f.floors.items())
           + f" cycles -> bound: {f.bound}" + _slack(f),
           "", "core      " + "".join(f"{e:>10}" for e in ENGINES) + "    end   (busy cycles)"]
    items = sorted(model.cores.items())
    for key, c in items[:max_cores]:
        out.append(f"{_core(key):<10}" + "".join(f"{c.busy[e]:>10,.0f}" for e in ENGINES)
                   + f"  {max(c.clock.values()):>9,.0f}" + _group(c))
    if len(items) > max_cores:
        out.append(f"... and {len(items) - max_cores} more")
    out += ["", "stalls (cycles an engine waited, summed over cores):"]
    stalls: dict = {}
    for c in model.cores.values():
        for k, v in c.stalls.items():
            stalls[k] = stalls.get(k, 0.0) + v * c.weight
    for (engine, cb), v in sorted(stalls.items(), key=lambda kv: -kv[1]):
        what = {DST: "the DST handshake", NOC: "a NoC barrier", SEM: "a semaphore"}.get(cb, f"cb{cb}")
        out.append(f"  {engine:<7} on {what:<18} {v:>14,.0f}")
    read, written = model.total("bytes_read"), model.total("bytes_written")
    out += ["", f"bytes         {read:,.0f} read from DRAM, {written:,.0f} written"]
    if model.dropped:
        out.append(f"(the trace kept the first {len(model.events):,} events; {model.dropped:,} more ran)")
    return "\n".join(out) + "\n"


def _slack(f: Figures) -> str:
    """How far the timeline is above the binding floor: latency and synchronisation not hidden."""
    worst = f.floors[f.bound]
    ratio = f.duration / worst if worst else 0.0
    return f" (the timeline is {ratio:.1f}x that floor: latency and waits not overlapped)" if ratio > 1.25 else ""


def _group(c) -> str:
    return f"  and {c.weight - 1} more cores in lockstep" if c.weight > 1 else ""


def _core(key: tuple) -> str:
    return "(" + ",".join(str(k) for k in key) + ")"


def write_trace(model: CycleModel | list[CycleModel], path: Path) -> int:
    """Write the Chrome trace; returns the number of events. Several models (the launches of one
    program) follow one another: each launch starts when the one before it ends."""
    models = model if isinstance(model, list) else [model]
    tids = {e: i for i, e in enumerate(ENGINES)}
    events, offset, first = [], 0.0, 0
    for n, model in enumerate(models):
        us = 1.0 / (model.target.clock_ghz * 1e3)          # microseconds per cycle
        pids = {key: first + i for i, key in enumerate(sorted(model.cores))}
        first += len(pids)
        for key, pid in pids.items():
            name = (f"launch {n} " if len(models) > 1 else "") + f"core {_core(key)}" \
                + _group(model.cores[key]).replace("  and", " and")
            events.append({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": name}})
            events += [{"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": e}}
                       for e, tid in tids.items()]
        for key, engine, name, start, cycles in model.events or ():
            events.append({"ph": "X", "name": name, "pid": pids[key], "tid": tids[engine],
                           "ts": round((offset + start) * us, 4), "dur": round(cycles * us, 4)})
        offset += model.duration()
    path.write_text(json.dumps({"traceEvents": events, "displayTimeUnit": "ns"}))
    return len(events)
