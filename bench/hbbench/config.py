"""The benchmark's ha.cf variants (one base: bench/conf) and their timings.

Every variant is valid for Heartbeat 3.0.6 (checked with the real binary:
it starts and logs no ERROR; initdead below 10 s only earns a WARN) and for
ours (`heartbeat --check`).
"""

import os
import shutil
import threading

BASE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conf")

# name: (keepalive, warntime, deadtime, initdead) as ha.cf writes them
TIMINGS = {
    "dt1s": ("200ms", "500ms", "1", "2"),
    # initdead 2 s, not 200 ms: a Heartbeat starting next to a running peer
    # does not hear it within 200 ms, declares it dead and takes the group too
    "dt100ms": ("20ms", "50ms", "100ms", "2"),
    "ka100ms": ("100ms", "500ms", "1", "2"),
    "ka1s": ("1", "3", "5", "10"),
}


def seconds(v):
    """Heartbeat time syntax (plain seconds, or N ms) in seconds."""
    if v.endswith("ms"):
        return float(v[:-2]) / 1000.0
    return float(v)


def keepalive_s(name):
    return seconds(TIMINGS[name][0])


def deadtime_s(name):
    return seconds(TIMINGS[name][2])


def initdead_s(name):
    return seconds(TIMINGS[name][3])


def ha_cf(name):
    ka, warn, dead, init = TIMINGS[name]
    return f"""# heartbeat-rs benchmark: {name}
logfile         /var/log/ha-log
logfacility     none
keepalive       {ka}
warntime        {warn}
deadtime        {dead}
initdead        {init}
udpport         694
bcast           eth0
auto_failback   off
node            alpha
node            bravo
crm             off
"""


_made = threading.Lock()


def make(outdir, name):
    """The configuration directory for variant `name` below outdir (written
    once per run; labs running at the same time share it)."""
    d = os.path.join(outdir, "conf", name)
    with _made:
        if not os.path.isfile(os.path.join(d, "ha.cf")):
            if os.path.isdir(d):
                shutil.rmtree(d)
            shutil.copytree(BASE, d)
            with open(os.path.join(d, "ha.cf"), "w") as f:
                f.write(ha_cf(name))
            os.chmod(os.path.join(d, "authkeys"), 0o600)
    return d
