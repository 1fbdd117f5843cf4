"""False failovers under stress: a steady pair at keepalive 20 ms / deadtime
100 ms for `duration` s while host h1 drops 5 % of its eth0 packets in each
direction (nftables `numgen random mod 100 < 5 drop`, lab.sh drop: this
kernel has no netem) and stress-ng saturates the last CPU core. Every
"node X: is dead" line is a false failover (nobody was killed); link-dead
and late-heartbeat lines and any group start in the window are counted too.
The pairs of both implementations run at the same time in two labs.
"""

import os
import subprocess
import threading
import time

from . import config
from .lab import Pair

CFG = "dt100ms"


class Stressed:
    def __init__(self, impl, outdir):
        self.impl = impl
        self.outdir = outdir
        self.pair = Pair(f"st-{impl[0]}", impl, config.make(outdir, CFG), config.initdead_s(CFG))
        self.offs = {}
        self.error = None

    def setup(self, settle):
        try:
            p = self.pair
            p.create()
            p.start_pair()
            time.sleep(settle)
        except Exception as e:  # reported by the caller
            self.error = e

    def begin(self, loss):
        self.t0 = time.time()
        self.offs = {i: self.pair.log_size(i) for i in (1, 2)}
        if loss:
            self.pair.drop(1, loss)

    def finish(self):
        p = self.pair
        t1 = time.time()
        res = {"seconds": t1 - self.t0, "nodes": {}, "setup_retries": p.setup_retries}
        for i in (1, 2):
            res["nodes"][i] = {
                "node_dead": p.count_log(i, self.offs[i], r"node \S+: is dead"),
                "link_dead": p.count_log(i, self.offs[i], r"Link \S+ dead"),
                "late_heartbeats": p.count_log(i, self.offs[i], r"Late heartbeat"),
                "group_starts": sum(1 for _, w, n in p.events(i, self.t0)
                                    if w == "start" and n == "benchsvc-first"),
            }
        for k in ("node_dead", "link_dead", "late_heartbeats", "group_starts"):
            res[k] = sum(n[k] for n in res["nodes"].values())
        return res

    def close(self):
        self.pair.destroy(keep_logs_in=os.path.join(self.outdir, "logs"))


def run(impls, outdir, duration, loss, cpu_load, settle):
    labs = [Stressed(impl, outdir) for impl in impls]
    stress = None
    try:
        threads = [threading.Thread(target=s.setup, args=(settle,)) for s in labs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for s in labs:
            if s.error:
                raise s.error
        ncpu = os.cpu_count() or 1
        if cpu_load:
            cmd = ["stress-ng", "--cpu", "1", "--timeout", f"{int(duration) + 5}s", "--quiet"]
            if ncpu > 1:
                cmd[1:1] = ["--taskset", str(ncpu - 1)]
            stress = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for s in labs:
            s.begin(loss)
        time.sleep(duration)
        results = {}
        for s in labs:
            r = s.finish()
            r.update({"config": CFG, "loss_percent": loss, "cpu_load": bool(cpu_load),
                      "stress_cpu": (ncpu - 1) if cpu_load and ncpu > 1 else None})
            results[s.impl] = r
        return results
    finally:
        if stress:
            stress.terminate()
            stress.wait()
        for s in labs:
            s.close()

