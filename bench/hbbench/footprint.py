"""Footprint of a steady two-node cluster: memory (RSS, PSS, USS summed over
every process of a node, from /proc/PID/smaps_rollup) `mem_at` seconds after
start, and CPU seconds used per 60 s over the window [cpu_from, cpu_to].

CPU per process = user + system time of the process (on-CPU nanoseconds from
/proc/PID/schedstat: every daemon here is single-threaded) plus its reaped
children (cutime + cstime from /proc/PID/stat, clock ticks); the tick-based
utime+stime+cutime+cstime figure is reported too.
"""

import os
import time

from . import config
from .lab import Pair

HZ = os.sysconf("SC_CLK_TCK")


def _mem(pid):
    vals = {"rss": 0, "pss": 0, "uss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                w = line.split()
                if w[0] == "Rss:":
                    vals["rss"] = int(w[1])
                elif w[0] == "Pss:":
                    vals["pss"] = int(w[1])
                elif w[0] in ("Private_Clean:", "Private_Dirty:"):
                    vals["uss"] += int(w[1])
    except (OSError, IndexError, ValueError):
        return None
    return vals


def _cpu(pid):
    """(schedstat ns, own ticks, children ticks) or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(") ", 1)[1].split()
        with open(f"/proc/{pid}/schedstat") as f:
            ns = int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    # fields after the command: state=0 ... utime=11 stime=12 cutime=13 cstime=14
    return ns, int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def _cpu_snapshot(pair, i):
    out = {}
    for p in pair.pids(i):
        c = _cpu(p)
        if c:
            out[p] = c
    return out


def _cpu_delta(a, b):
    """CPU seconds between snapshots a and b (processes new in b count fully)."""
    precise = ticks = 0.0
    for pid, (ns, own, kids) in b.items():
        ns0, own0, kids0 = a.get(pid, (0, 0, 0))
        precise += (ns - ns0) / 1e9 + (kids - kids0) / HZ
        ticks += (own - own0 + kids - kids0) / HZ
    return precise, ticks


def measure(impl, cfg, outdir, mem_at, cpu_from, cpu_to):
    conf = config.make(outdir, cfg)
    pair = Pair(f"fp{cfg[2:]}-{impl[0]}", impl, conf, config.initdead_s(cfg))
    res = {"config": cfg, "keepalive_s": config.keepalive_s(cfg), "nodes": {}}
    try:
        pair.create()
        pair.start_pair()
        t0 = time.time()  # the pair is up: alpha runs the group, bravo joined
        snaps = {}
        for at, what in sorted([(cpu_from, "cpu0"), (mem_at, "mem"), (cpu_to, "cpu1")]):
            time.sleep(max(0.0, t0 + at - time.time()))
            for i in (1, 2):
                if what == "mem":
                    procs = [m for m in (_mem(p) for p in pair.pids(i)) if m]
                    snaps[(i, what)] = {
                        "procs": len(procs),
                        **{k: sum(m[k] for m in procs) for k in ("rss", "pss", "uss")},
                    }
                else:
                    snaps[(i, what)] = (time.time(), _cpu_snapshot(pair, i))
        for i in (1, 2):
            (ta, a), (tb, b) = snaps[(i, "cpu0")], snaps[(i, "cpu1")]
            precise, ticks = _cpu_delta(a, b)
            per60 = 60.0 / (tb - ta)
            res["nodes"][i] = {
                **snaps[(i, "mem")],
                "cpu_s_per_60s": precise * per60,
                "cpu_ticks_s_per_60s": ticks * per60,
                "cpu_window_s": tb - ta,
            }
    finally:
        pair.destroy(keep_logs_in=os.path.join(outdir, "logs"))
    res["setup_retries"] = pair.setup_retries
    nodes = res["nodes"].values()
    for k in ("rss", "pss", "uss", "procs", "cpu_s_per_60s", "cpu_ticks_s_per_60s"):
        res[k] = sum(n[k] for n in nodes) / len(nodes)
    return res
