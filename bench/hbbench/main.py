"""bench/run: heartbeat-rs next to the real Heartbeat 3.0.6, same labs, same
configurations, same method. See BENCHMARKS.md for what is measured."""

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import threading
import time

from . import failover, footprint, lifecycle, report, scriptfloor, stress, svg
from .lab import BenchError

IMPLS = ("ours", "real")
PHASES = ("startup", "shutdown", "failover", "footprint", "stress")

FULL = dict(startup_runs=3, shutdown_runs=5, failover_runs=20, settle=2.0,
            mem_at=60, cpu_from=20, cpu_to=80, stress_s=600, stress_cpu=True)
SMOKE = dict(startup_runs=1, shutdown_runs=1, failover_runs=1, settle=0.5,
             mem_at=6, cpu_from=3, cpu_to=9, stress_s=10, stress_cpu=False)


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": cpu,
        "heartbeat_rs_commit": sh(["git", "-C", repo, "rev-parse", "--short", "HEAD"]),
        "heartbeat_package": sh(["dpkg-query", "-W", "-f", "${Version}", "heartbeat"]),
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


class Log:
    def __init__(self):
        self.t0 = time.time()
        self.lock = threading.Lock()

    def __call__(self, msg):
        with self.lock:
            print(f"[{time.time() - self.t0:6.0f} s] {msg}", flush=True)


def run_all(fns):
    """[fn() for fn in fns], all at once in threads; re-raises the first error."""
    out, errs = [None] * len(fns), []

    def one(k):
        try:
            out[k] = fns[k]()
        except Exception as e:  # re-raised below
            errs.append(e)

    ts = [threading.Thread(target=one, args=(k,)) for k in range(len(fns))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="1 run each, short durations, no CPU load (< 2 min)")
    ap.add_argument("--out", help="output directory (default /tmp/hbrs-bench-DATE)")
    ap.add_argument("--only", help="comma-separated phases: " + ",".join(PHASES))
    ap.add_argument("--runs", type=int, help="failover runs per configuration and implementation")
    ap.add_argument("--impl", choices=IMPLS, help="measure only this implementation (development)")
    ap.add_argument("--stress-seconds", type=int, help="duration of the stress phase")
    args = ap.parse_args(argv)
    p = dict(SMOKE if args.smoke else FULL)
    if args.runs:
        p["failover_runs"] = args.runs
    if args.stress_seconds:
        p["stress_s"] = args.stress_seconds
    phases = args.only.split(",") if args.only else list(PHASES)
    bad = [x for x in phases if x not in PHASES]
    if bad:
        ap.error(f"unknown phase(s) {bad}; known: {', '.join(PHASES)}")
    out = os.path.abspath(args.out or time.strftime("/tmp/hbrs-bench-%Y%m%d-%H%M%S"))
    for old in ("logs", "conf"):  # from an earlier run into the same directory
        shutil.rmtree(os.path.join(out, old), ignore_errors=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    log = Log()
    res = {"command": "bench/run " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
           "mode": "smoke" if args.smoke else "full", "params": p, "machine": machine()}
    log(f"output in {out}; {res['machine']}")

    def save():
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        with open(os.path.join(out, "results.md"), "w") as f:
            f.write(report.markdown(res))

    # (phase, key, impl, function) for every measurement
    jobs = []
    impls = (args.impl,) if args.impl else IMPLS
    for impl in impls:
        if "startup" in phases:
            jobs.append(("startup", None, impl, lambda i=impl: lifecycle.startup(i, p["startup_runs"], out)))
        if "shutdown" in phases:
            jobs.append(("shutdown", None, impl,
                         lambda i=impl: lifecycle.shutdown(i, p["shutdown_runs"], out, p["settle"])))
        for cfg in ("dt1s", "dt100ms") if "failover" in phases else ():
            jobs.append(("failover", cfg, impl,
                         lambda i=impl, c=cfg: failover.run(i, c, p["failover_runs"], out, p["settle"])))
        for cfg in ("ka100ms", "ka1s") if "footprint" in phases else ():
            jobs.append(("footprint", cfg, impl, lambda i=impl, c=cfg: footprint.measure(
                i, c, out, p["mem_at"], p["cpu_from"], p["cpu_to"])))

    def store(phase, key, impl, value):
        slot = res.setdefault(phase, {})
        if key:
            slot = slot.setdefault(key, {})
        slot[impl] = value

    errors = []

    def stress_job():
        try:
            res["stress"] = stress.run(impls, out, p["stress_s"], 5, p["stress_cpu"], p["settle"])
        except BenchError as e:
            errors.append(f"stress: {e}")
            log(f"ERROR: {errors[-1]}")

    def guarded(phase, key, impl, fn):
        """fn(), or {"error": ...}: one failed measurement does not lose the others."""
        try:
            return fn()
        except BenchError as e:
            errors.append(f"{phase} {key or ''} {impl}: {e}")
            log(f"ERROR: {errors[-1]}")
            return {"error": str(e)}

    try:
        if args.smoke:
            # The smoke run only proves the harness works: everything at once.
            errs = []

            def one(job):
                phase, key, impl, fn = job
                try:
                    v = guarded(phase, key, impl, fn) if impl else fn()
                    if impl:
                        store(phase, key, impl, v)
                    log(f"{phase} {key or ''} {impl} done")
                except Exception as e:  # re-raised below
                    errs.append(e)

            threads = [threading.Thread(target=one, args=(j,)) for j in jobs]
            if "stress" in phases:
                threads.append(threading.Thread(target=one, args=(("stress", None, None, stress_job),)))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errs:
                raise errs[0]
        else:
            for phase in PHASES:
                mine = [j for j in jobs if j[0] == phase]
                # footprint: both implementations at once, one keepalive at a
                # time (PSS splits a binary's pages between all its mappers)
                if phase == "footprint":
                    for cfg in ("ka100ms", "ka1s") if mine else ():
                        pair_jobs = [j for j in mine if j[1] == cfg]
                        log(f"footprint {cfg}: memory at {p['mem_at']} s, CPU over {p['cpu_from']}..{p['cpu_to']} s")
                        got = run_all([lambda j=j: guarded(*j) for j in pair_jobs])
                        for j, v in zip(pair_jobs, got):
                            store(phase, cfg, j[2], v)
                        save()
                    continue
                for ph, key, impl, fn in mine:
                    log(f"{ph} {key or ''} {impl}")
                    store(ph, key, impl, guarded(ph, key, impl, fn))
                    save()
                if phase == "failover" and "failover" in phases:
                    # right after the failover runs, under the same conditions
                    res["script_floor"] = scriptfloor.measure(p["failover_runs"])
                    save()
                if phase == "stress" and "stress" in phases:
                    log(f"stress: {p['stress_s']} s, 5 % loss, CPU load {'on' if p['stress_cpu'] else 'off'}")
                    stress_job()
                    save()
        if "failover" in phases and "script_floor" not in res:
            res["script_floor"] = scriptfloor.measure(p["failover_runs"])
            save()
        if "failover" in res:
            svg.plot(res["failover"], os.path.join(out, "failover.svg"))
    except BenchError as e:
        save()
        log(f"FAILED: {e}")
        return 1
    res["elapsed_s"] = time.time() - log.t0
    res["errors"] = errors
    save()
    log(f"done in {res['elapsed_s']:.0f} s")
    print(report.markdown(res))
    if errors:
        log("FAILED measurements:\n  " + "\n  ".join(errors))
        return 1
    return 0
