"""The floor under "beyond deadtime": what the resource scripts alone take.

Both implementations run ResourceManager's rule before the first start
script: `benchsvc first status` (is it running here already?), then
`benchsvc first start`, whose timestamp is the "first start script" moment.
Here a plain parent (no heartbeat) runs the same two commands back to back,
as a heartbeat would right after declaring the peer dead; the time from the
fork of `status` to the start script's timestamp is the part of "beyond
deadtime" that no daemon can avoid.
"""

import os
import shutil
import subprocess
import tempfile
import time

from . import config
from .stats import summary_ms


def measure(runs):
    tmp = tempfile.mkdtemp(prefix="hbrs-bench-floor-")
    try:
        src = os.path.join(config.BASE, "resource.d", "benchsvc")
        with open(src) as f:
            text = f.read()
        text = text.replace("/var/log/bench.events", f"{tmp}/events").replace("/run/benchsvc", f"{tmp}/run")
        script = os.path.join(tmp, "benchsvc")
        with open(script, "w") as f:
            f.write(text)
        os.chmod(script, 0o755)
        total = []
        for _ in range(runs):
            shutil.rmtree(f"{tmp}/run", ignore_errors=True)
            try:
                os.unlink(f"{tmp}/events")
            except FileNotFoundError:
                pass
            t0 = time.time()
            subprocess.run([script, "first", "status"], stdout=subprocess.DEVNULL, check=False)
            subprocess.run([script, "first", "start"], stdout=subprocess.DEVNULL, check=False)
            with open(f"{tmp}/events") as f:
                total.append(float(f.read().split()[0]) - t0)
            time.sleep(0.02)
        return {"runs": runs, "status_then_start_stamp_ms": summary_ms(total)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
