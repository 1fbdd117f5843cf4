"""Failover latency: SIGKILL every process of the node holding the group, time
until the survivor runs the group's first start script (benchsvc::first) and
has started the whole group (benchsvc::last, after the IPaddr2 address).

No full restart per run: with auto_failback off the survivor keeps the group,
the killed node is "rebooted" and restarted, and once it has joined (its log
says the initial resource hand-over is complete) plus a settle time, the next
run kills the other node, the one that was up all along. The part beyond
deadtime is counted from the victim's last packet on the LAN (tcpdump on the
lab bridge): that is where the survivor's deadtime starts. A kill after which the survivor starts nothing is counted
(no_takeover), the pair restarted, and the run repeated.
"""

import os
import subprocess
import time

from . import config
from .lab import BenchError, Pair, random_phase, wait_uptime
from .stats import summary_ms

ADDR = {1: "198.18.0.1.", 2: "198.18.0.2."}
# A survivor that started nothing this long after deadtime never will.
TAKEOVER_TIMEOUT_S = 15
# Kills without a takeover tolerated per configuration (each costs a restart).
MAX_FAILED = 5


class Capture:
    """tcpdump of the heartbeat port on the lab bridge: (time, source host) of
    every status heartbeat."""

    def __init__(self, pair, path):
        self.path = path
        self.out = open(path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", pair.prefix + "sw", "tcpdump", "-i", "br0", "-n", "-tt", "-l", "-A",
             "udp port 694"],
            stdout=self.out, stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        # Only status heartbeats restart a peer's deadtime (not ACKs or
        # retransmissions): keep the packets whose payload says t=status.
        packets = []
        cur = None
        with open(self.path, errors="replace") as f:
            for line in f:
                w = line.split()
                header = len(w) >= 3 and w[1] == "IP" and w[0].replace(".", "").isdigit()
                if header:
                    cur = None
                    for host, addr in ADDR.items():
                        if w[2].startswith(addr):
                            cur = [float(w[0]), host, False]
                            packets.append(cur)
                elif cur is not None and "t=status" in line:
                    cur[2] = True
        packets = [(ts, host) for ts, host, status in packets if status]
        os.unlink(self.path)
        return packets


def last_before(packets, host, t):
    best = None
    for ts, h in packets:
        if h == host and ts < t:
            best = ts
    return best


def run(impl, cfg, runs, outdir, settle):
    conf = config.make(outdir, cfg)
    ka, dead = config.keepalive_s(cfg), config.deadtime_s(cfg)
    pair = Pair(f"fo{cfg[2:]}-{impl[0]}", impl, conf, config.initdead_s(cfg))
    samples = []
    try:
        pair.create()
        cap = Capture(pair, os.path.join(outdir, f"capture-{cfg}-{impl}.txt"))
        owner = pair.start_pair()
        time.sleep(settle)
        failed = []
        while len(samples) < runs and len(failed) <= MAX_FAILED:
            victim, survivor = owner, 3 - owner
            wait_uptime(pair, victim, ka)
            pair.check_owner(victim)
            random_phase(ka)
            t_kill = pair.sigkill(victim)
            try:
                _, first, last = pair.wait_group((survivor,), t_kill, dead + TAKEOVER_TIMEOUT_S)
            except BenchError:
                # Seen with Heartbeat 3.0.6: "node X: is dead", then its FIFO
                # reader logs "NV failure (msgfromsteam)" and nothing starts.
                failed.append({"victim": victim, "kill": t_kill})
                pair.stop_all()
                owner = pair.start_pair()
                time.sleep(settle)
                continue
            samples.append({"run": len(samples) + 1, "victim": victim, "kill": t_kill,
                            "first": first, "last": last})
            pair.crash_cleanup(victim)
            owner = pair.rejoin(victim, survivor)
            time.sleep(settle)
        packets = cap.stop()
    finally:
        pair.destroy(keep_logs_in=os.path.join(outdir, "logs"))
    for s in samples:
        lp = last_before(packets, s["victim"], s["kill"])
        s["last_packet"] = lp
        s["to_first"] = s["first"] - s["kill"]
        s["to_group"] = s["last"] - s["kill"]
        s["beyond_deadtime"] = (s["first"] - lp - dead) if lp else None
    if len(samples) < runs:
        raise BenchError(f"failover {cfg} {impl}: only {len(samples)} of {runs} runs, "
                         f"{len(failed)} kills without a takeover")
    return {
        "config": cfg,
        "keepalive_s": ka,
        "deadtime_s": dead,
        "runs": samples,
        "no_takeover": len(failed),
        "no_takeover_runs": failed,
        "setup_retries": pair.setup_retries,
        "kill_to_first_script_ms": summary_ms([s["to_first"] for s in samples]),
        "kill_to_group_ms": summary_ms([s["to_group"] for s in samples]),
        "beyond_deadtime_ms": summary_ms([s["beyond_deadtime"] for s in samples]),
    }
