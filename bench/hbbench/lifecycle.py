"""Start-up and shutdown.

start-up, both: both nodes launched together -> the group fully started
  (benchsvc::last) on whichever node takes it; lone: alpha alone -> group
  started (initdead must pass first). Times count from just before lab.sh
  launches the daemons (the same launcher overhead for both implementations).
shutdown: SIGTERM to the main daemon of the node holding the group -> the
  peer has started the whole group, and -> every process of that node is
  gone; the hand-over proper is the owner's last stop script -> the peer's
  first start script (what remains once the scripts' own time is taken out). The stopped node is restarted and joins; the next run stops the
  other node (auto_failback off keeps the group where it is).
"""

import os
import threading
import time

from . import config
from .lab import BenchError, Pair, alive, wait_until, wait_uptime
from .stats import summary_ms


def _start_both(pair):
    t = threading.Thread(target=pair.start, args=(2,))
    t0 = time.time()
    t.start()
    pair.start(1)
    t.join()
    return t0


def _start_one(pair):
    t0 = time.time()
    pair.start(1)
    return t0


# Longer than any start-up seen (Heartbeat's both-start takes ~12 s).
GROUP_TIMEOUT_S = 60


def startup(impl, runs, outdir):
    cfg = "dt1s"
    conf = config.make(outdir, cfg)
    pair = Pair(f"su-{impl[0]}", impl, conf, config.initdead_s(cfg))
    both, lone = [], []
    try:
        pair.create()
        for _ in range(runs):
            for kind, hosts, out in (("both", (1, 2), both), ("lone", (1,), lone)):
                # a node that never starts the group is a result too (seen
                # once with the real one under load: its ip-request got lost)
                try:
                    t0 = _start_both(pair) if kind == "both" else _start_one(pair)
                    _, first, last = pair.wait_group(hosts, t0, GROUP_TIMEOUT_S)
                    out.append({"first": first - t0, "group": last - t0})
                except BenchError as e:
                    out.append({"failed": str(e)})
                pair.stop_all()
    finally:
        pair.destroy(keep_logs_in=os.path.join(outdir, "logs"))
    init = config.initdead_s(cfg)
    return {
        "config": cfg,
        "initdead_s": init,
        "both": both,
        "lone": lone,
        "both_to_first_script_ms": summary_ms([r.get("first") for r in both]),
        "both_to_group_ms": summary_ms([r.get("group") for r in both]),
        "lone_to_group_ms": summary_ms([r.get("group") for r in lone]),
        "lone_beyond_initdead_ms": summary_ms([r["first"] - init for r in lone if "first" in r]),
        "failed_runs": sum(1 for r in both + lone if "failed" in r),
    }


def shutdown(impl, runs, outdir, settle):
    cfg = "dt1s"
    conf = config.make(outdir, cfg)
    pair = Pair(f"sd-{impl[0]}", impl, conf, config.initdead_s(cfg))
    samples, failed = [], []
    try:
        pair.create()
        owner = pair.start_pair()
        time.sleep(settle)
        while len(samples) < runs and len(failed) <= 5:
            peer = 3 - owner
            wait_uptime(pair, owner, 0.2)
            pair.check_owner(owner)
            t0, pids = pair.sigterm(owner)
            res = {}

            def done():
                if "exit" not in res and not any(alive(p) for p in pids):
                    res["exit"] = time.time() - t0
                if "group" not in res:
                    last = pair.started(peer, t0, "last")
                    if last:
                        res["group"] = last - t0
                        res["first"] = pair.started(peer, t0, "first") - t0
                return "exit" in res and "group" in res

            if not wait_until(done, 60, step=0.005):
                # the peer never took over (or the node never exited):
                # counted, then a fresh pair
                failed.append({k: v for k, v in res.items()})
                pair.stop_all()
                owner = pair.start_pair()
                time.sleep(settle)
                continue
            stops = [ts for ts, what, _ in pair.events(owner, t0) if what == "stop"]
            if stops:
                # the hand-over proper: the owner's last stop script (the
                # group's first resource) -> the peer's first start script
                res["first_stop"] = min(stops) - t0
                res["handover"] = res["first"] - (max(stops) - t0)
            samples.append(res)
            owner = pair.rejoin(owner, peer)
            time.sleep(settle)
    finally:
        pair.destroy(keep_logs_in=os.path.join(outdir, "logs"))
    return {
        "config": cfg,
        "runs": samples,
        "no_takeover": len(failed),
        "setup_retries": pair.setup_retries,
        "term_to_peer_first_script_ms": summary_ms([r["first"] for r in samples]),
        "term_to_peer_group_ms": summary_ms([r["group"] for r in samples]),
        "term_to_exit_ms": summary_ms([r["exit"] for r in samples]),
        "term_to_first_stop_script_ms": summary_ms([r.get("first_stop") for r in samples]),
        "handover_ms": summary_ms([r.get("handover") for r in samples]),
    }
