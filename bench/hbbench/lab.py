"""Two-node namespace labs for the benchmark, driving tests/harness/lab.sh.

A Pair is one lab (hosts h1 = alpha, h2 = bravo) running one implementation
("ours" = target/release/heartbeat, "real" = Debian's Heartbeat 3.0.6) with
one configuration directory. Everything the benchmark times is read from
files the lab hosts write (bench.events from the benchsvc resource script,
ha-log) or taken with time.time() right before a signal is sent: all on
CLOCK_REALTIME of this one machine.
"""

import os
import random
import re
import shutil
import signal
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_SH = os.path.join(REPO, "tests/harness/lab.sh")
OURS_BIN = os.path.join(REPO, "target/release/heartbeat")
NODES = ("alpha", "bravo")
SETTLED = "Initial resource acquisition complete"


class BenchError(Exception):
    """A measurement could not be taken (timeout, daemon failed to start)."""


def alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X", "")


def wait_until(cond, timeout, step=0.002):
    """Poll cond() every `step` s; its first truthy value, or None on timeout."""
    end = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() >= end:
            return None
        time.sleep(step)


class Pair:
    def __init__(self, tag, impl, conf, initdead_s):
        assert impl in ("ours", "real")
        self.impl = impl
        self.conf = conf
        self.prefix = f"bench-{tag}-{os.getpid()}-"
        self.dir = f"/tmp/hbrs-lab-{self.prefix.rstrip('-')}"
        self.main_pid = {}  # host -> our daemon's pid (real: master pid)
        self.started_at = {}  # host -> time its daemon was launched
        self.setup_retries = 0
        self.initdead_s = initdead_s
        self.up = False

    # --- lab.sh ----------------------------------------------------------------------
    def _sh(self, *args, check=True):
        env = dict(os.environ, LAB_DIR=self.dir, LAB_OWNER_PID=str(os.getpid()), LAB_QUIET="1")
        p = subprocess.run(["bash", LAB_SH, *args], env=env, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise BenchError(f"lab.sh {' '.join(args)} failed: {p.stderr.strip()[-2000:]}")
        return p.stdout.strip()

    def host(self, i):
        return f"{self.prefix}h{i}"

    def path(self, i, rel):
        """Outside path of a host file: rel is relative to its hosts/hI dir (log/ha-log)."""
        return os.path.join(self.dir, "hosts", f"h{i}", rel)

    def create(self):
        self._sh("up", self.prefix, "2")
        self.up = True

    def destroy(self, keep_logs_in=None):
        if not self.up:
            return
        if keep_logs_in:
            for i in (1, 2):
                dst = os.path.join(keep_logs_in, f"{self.prefix.rstrip('-')}-h{i}")
                shutil.copytree(self.path(i, "log"), dst, dirs_exist_ok=True)
        self._sh("down", self.prefix, "--purge", check=False)
        self.up = False

    # --- daemons ---------------------------------------------------------------------
    def start(self, i):
        """Starts node i; returns its main pid (ours: the daemon, real: the master)."""
        node = NODES[i - 1]
        self.started_at[i] = time.time()
        if self.impl == "ours":
            out = self._sh("run", self.host(i), "--node", node, "--conf", self.conf, "--", OURS_BIN, "-f")
        else:
            out = self._sh("real", self.host(i), self.conf, node)
        try:
            pid = int(out.splitlines()[-1])
        except (ValueError, IndexError):
            raise BenchError(f"no pid from lab.sh for {self.impl} on h{i}: {out!r}")
        self.main_pid[i] = pid
        return pid

    def pids(self, i):
        return [int(p) for p in self._sh("pids", self.host(i)).split()]

    def sigkill(self, i):
        """SIGKILL every process of host i at once; returns the time of the kill."""
        pids = self.pids(i)
        t0 = time.time()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return t0

    def crash_cleanup(self, i):
        """After sigkill: "reboot" host i (its address and /run go)."""
        self._sh("kill", self.host(i), "--crash")
        self.main_pid.pop(i, None)

    def sigterm(self, i):
        """SIGTERM the main daemon of host i; returns (time sent, pids to watch)."""
        pids = self.pids(i)
        main = self.main_pid[i]
        t0 = time.time()
        os.kill(main, signal.SIGTERM)
        return t0, pids

    def stop_all(self):
        for i in (1, 2):
            self._sh("kill", self.host(i), "--crash", check=False)
        self.main_pid.clear()

    def drop(self, i, percent):
        self._sh("drop", self.host(i), str(percent))

    # --- observation -----------------------------------------------------------------
    def events(self, i, since=0.0):
        """[(ts, what, instance)] from host i's bench.events with ts > since."""
        try:
            with open(self.path(i, "log/bench.events")) as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            w = line.split()
            if len(w) >= 3:
                try:
                    ts = float(w[0])
                except ValueError:
                    continue
                if ts > since:
                    out.append((ts, w[1], w[2]))
        return out

    def started(self, i, since, inst):
        """Time host i started benchsvc instance inst after `since`, or None."""
        for ts, what, name in self.events(i, since):
            if what == "start" and name == f"benchsvc-{inst}":
                return ts
        return None

    def wait_group(self, hosts, since, timeout):
        """Waits until one of hosts started the whole group after since; returns
        (host, first script time, group started time)."""

        def done():
            for i in hosts:
                last = self.started(i, since, "last")
                if last:
                    return i, self.started(i, since, "first"), last
            return None

        # The times come from the scripts' own stamps, so polling slowly costs
        # no precision and leaves the CPUs to the daemons and their scripts.
        r = wait_until(done, timeout, step=0.02)
        if not r:
            raise BenchError(f"{self.impl}: no host of {hosts} started the group within {timeout} s")
        return r

    def log_size(self, i):
        try:
            return os.path.getsize(self.path(i, "log/ha-log"))
        except OSError:
            return 0

    def log_since(self, i, offset):
        try:
            with open(self.path(i, "log/ha-log"), "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, i, offset, needle, timeout):
        if not wait_until(lambda: needle in self.log_since(i, offset), timeout, step=0.02):
            raise BenchError(f"{self.impl} h{i}: no {needle!r} in the log within {timeout} s")

    def wait_settled(self, i, offset, timeout=60):
        """Node i (started when its log had `offset` bytes) joined and took part in
        the resource hand-over."""
        self.wait_log(i, offset, SETTLED, timeout)

    def rejoin(self, i, owner):
        """Restart node i and wait until it joined; returns who owns the group:
        `owner`, or alpha when node i never settled and the pair was rebuilt
        (counted in self.setup_retries)."""
        off = self.log_size(i)
        self.start(i)
        try:
            self.wait_settled(i, off)
            return owner
        except BenchError:
            self.setup_retries += 1
            self.stop_all()
            return self.start_pair()

    def start_pair(self, attempts=4):
        """alpha alone until it runs the group, then bravo, until it joined:
        with a short initdead, two nodes launched together may both take the
        group (seen with Heartbeat at initdead 200 ms). A lone Heartbeat 3.0.6
        sometimes never takes its group (its FIFO reader logs "NV failure
        (msgfromsteam)": the ip-request got mangled); then everything is
        restarted, counted in self.setup_retries. Returns the owner (1)."""
        for attempt in range(attempts):
            off = {i: self.log_size(i) for i in (1, 2)}
            t0 = time.time()
            self.start(1)
            try:
                self.wait_group((1,), t0, self.initdead_s + 20)
            except BenchError:
                if attempt == attempts - 1:
                    raise
                self.setup_retries += 1
                self.stop_all()
                continue
            self.start(2)
            self.wait_settled(2, off[2])
            self.check_owner(1)
            return 1
        raise BenchError("unreachable")

    def runs_group(self, i):
        return os.path.exists(self.path(i, "run/benchsvc/benchsvc-first.state"))

    def check_owner(self, owner):
        """The group runs on owner and only there."""
        holders = [i for i in (1, 2) if self.runs_group(i)]
        if holders != [owner]:
            raise BenchError(f"{self.impl}: expected the group on h{owner} only, it runs on {holders}")

    def count_log(self, i, offset, pattern):
        return len(re.findall(pattern, self.log_since(i, offset)))


# Both implementations advertise deadtime + 2 s in their first 5 s: a node
# killed earlier is declared dead 2 s late. Victims must be older than this.
MIN_UPTIME_S = 6.0


def wait_uptime(pair, i, keepalive_s):
    """Sleeps until node i has been up long enough to be a fair victim."""
    time.sleep(max(0.0, pair.started_at.get(i, 0) + MIN_UPTIME_S + 2 * keepalive_s - time.time()))


def random_phase(keepalive_s):
    """Sleep a random fraction of a keepalive: kills land at random heartbeat phases."""
    time.sleep(random.uniform(0, keepalive_s))
