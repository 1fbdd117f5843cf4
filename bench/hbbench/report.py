"""The markdown report: a summary table ours vs Heartbeat 3.0.6 with ratios and
targets, then the failover distributions in detail."""


def _f(v, unit="ms"):
    if v is None:
        return "–"
    if unit == "ms":
        return f"{v:.1f} ms" if abs(v) < 100 else f"{v:.0f} ms"
    if unit == "kB":
        return f"{v / 1024:.1f} MiB" if v >= 10240 else f"{v:.0f} kB"
    if unit == "s":
        return f"{v:.3f} s"
    return f"{v:g}"


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def _get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _check(ok):
    return "" if ok is None else (" ✅" if ok else " ❌")


def summary_rows(r):
    """[(measure, ours, real, ratio, target)] from the results dict."""
    rows = []

    def add(name, ours, real, unit="ms", target="", ok=None):
        rows.append((name, _f(ours, unit), _f(real, unit), _ratio(ours, real), target + _check(ok)))

    fo = r.get("failover", {})
    for cfg, label in (("dt1s", "deadtime 1 s / keepalive 200 ms"), ("dt100ms", "deadtime 100 ms / keepalive 20 ms")):
        if cfg not in fo:
            continue
        o, h = fo[cfg].get("ours", {}), fo[cfg].get("real", {})
        for stat in ("p50", "p99"):
            add(f"failover {label}: kill → first start script, {stat}",
                _get(o, "kill_to_first_script_ms", stat), _get(h, "kill_to_first_script_ms", stat))
        for stat in ("p50", "p99", "max"):
            v = _get(o, "beyond_deadtime_ms", stat)
            add(f"failover {label}: beyond deadtime (victim's last heartbeat → first start script − deadtime), {stat}",
                v, _get(h, "beyond_deadtime_ms", stat),
                target="≤ 5 ms" if stat == "p99" else "",
                ok=(v <= 5.0) if (stat == "p99" and v is not None) else None)
        for stat in ("p50", "p99"):
            add(f"failover {label}: kill → group started, {stat}",
                _get(o, "kill_to_group_ms", stat), _get(h, "kill_to_group_ms", stat))
        if o.get("no_takeover") or h.get("no_takeover"):
            rows.append((f"failover {label}: kills after which the survivor never started the group "
                         "(run repeated on a fresh pair)", str(o.get("no_takeover", "–")),
                         str(h.get("no_takeover", "–")), "–", ""))
    fl = _get(r, "script_floor", "status_then_start_stamp_ms")
    if fl and fl.get("n"):
        rows.append(("… of which the scripts alone (`benchsvc status`, then `start` until its timestamp, "
                     f"from a plain parent, {fl['n']} runs): p50 / p99",
                     f"{fl['p50']:.1f} / {fl['p99']:.1f} ms", "same scripts", "–", ""))
    su = r.get("startup", {})
    if su:
        o, h = su.get("ours", {}), su.get("real", {})
        both = _get(o, "both_to_group_ms", "p50")
        first = _get(o, "both_to_first_script_ms", "p50")
        add("start-up, both nodes together → first start script, p50", first,
            _get(h, "both_to_first_script_ms", "p50"), target="≤ 1 s", ok=None if first is None else first <= 1000)
        add("start-up, both nodes together → group started, p50", both, _get(h, "both_to_group_ms", "p50"))
        fails = f"{o.get('failed_runs', '–')} / {h.get('failed_runs', '–')}"
        if fails != "0 / 0":
            rows.append(("start-up runs in which the group never started (60 s)",
                         str(o.get("failed_runs", "–")), str(h.get("failed_runs", "–")), "–", ""))
        add(f"start-up, lone node → group started (initdead {su.get('ours', su.get('real', {})).get('initdead_s', 0):g} s), p50",
            _get(o, "lone_to_group_ms", "p50"), _get(h, "lone_to_group_ms", "p50"))
    sd = r.get("shutdown", {})
    if sd:
        o, h = sd.get("ours", {}), sd.get("real", {})
        add("shutdown: SIGTERM of the owner → its first stop script, p50",
            _get(o, "term_to_first_stop_script_ms", "p50"), _get(h, "term_to_first_stop_script_ms", "p50"))
        add("shutdown: SIGTERM of the owner → first start script on the peer, p50",
            _get(o, "term_to_peer_first_script_ms", "p50"), _get(h, "term_to_peer_first_script_ms", "p50"))
        v = _get(o, "handover_ms", "max")
        add("shutdown: hand-over (owner's last stop script → peer's first start script), max", v,
            _get(h, "handover_ms", "max"), target="≤ 100 ms", ok=None if v is None else v <= 100)
        add("shutdown: SIGTERM of the owner → group started on the peer, p50",
            _get(o, "term_to_peer_group_ms", "p50"), _get(h, "term_to_peer_group_ms", "p50"))
        if o.get("no_takeover") or h.get("no_takeover"):
            rows.append(("shutdown: SIGTERMs after which the peer never started the group (60 s)",
                         str(o.get("no_takeover", "–")), str(h.get("no_takeover", "–")), "–", ""))
        add("shutdown: SIGTERM → every process of the owner gone, p50",
            _get(o, "term_to_exit_ms", "p50"), _get(h, "term_to_exit_ms", "p50"))
    fp = r.get("footprint", {})
    for cfg, label in (("ka100ms", "keepalive 100 ms"), ("ka1s", "keepalive 1 s")):
        if cfg not in fp:
            continue
        o, h = fp[cfg].get("ours", {}), fp[cfg].get("real", {})
        for k in ("rss", "pss", "uss"):
            ok = None
            target = ""
            if k == "pss" and o.get(k) is not None and h.get(k):
                target, ok = "≤ 1/5 (0.20)", o[k] / h[k] <= 0.2
            add(f"memory per node, {label}: {k.upper()} (sum over {_f(o.get('procs'), '')} / {_f(h.get('procs'), '')} processes)",
                o.get(k), h.get(k), unit="kB", target=target, ok=ok)
        ok = None
        if o.get("cpu_s_per_60s") is not None and h.get("cpu_s_per_60s"):
            ok = o["cpu_s_per_60s"] / h["cpu_s_per_60s"] <= 0.25
        add(f"CPU per node per 60 s, {label} (incl. children)", o.get("cpu_s_per_60s"),
            h.get("cpu_s_per_60s"), unit="s", target="≤ 1/4 (0.25)", ok=ok)
    st = r.get("stress", {})
    if st:
        o, h = st.get("ours", {}), st.get("real", {})
        any_st = o or h
        cond = (f"{any_st.get('seconds', 0):.0f} s, keepalive 20 ms / deadtime 100 ms, "
                f"{any_st.get('loss_percent')} % loss"
                + (", one core saturated by stress-ng" if any_st.get("cpu_load") else ", no CPU load"))
        v = o.get("node_dead")
        rows.append((f"false failovers ('is dead'), {cond}", _f(v, ""), _f(h.get("node_dead"), ""),
                     "–", "0" + _check(None if v is None else v == 0)))
        rows.append(("… link-dead lines / late-heartbeat warnings / group starts in that window",
                     f"{o.get('link_dead', '–')} / {o.get('late_heartbeats', '–')} / {o.get('group_starts', '–')}",
                     f"{h.get('link_dead', '–')} / {h.get('late_heartbeats', '–')} / {h.get('group_starts', '–')}",
                     "–", ""))
    return rows


def header(r):
    m = r.get("machine", {})
    el = r.get("elapsed_s")
    return [
        f"- date: {m.get('date_utc', '?')}; `{r.get('command', 'bench/run')}` ({r.get('mode')} run"
        + (f", {el / 60:.1f} min" if el else "") + ")",
        f"- machine: {m.get('nproc')} CPUs ({m.get('cpu')}), kernel {m.get('kernel')}, "
        f"load average at start {' '.join(m.get('loadavg_at_start', []))}",
        f"- heartbeat-rs {m.get('heartbeat_rs_commit')} (release build); Heartbeat {m.get('heartbeat_package')} "
        "(Debian package `heartbeat`)",
        "",
    ]


def _retries(r):
    """(phase, impl, count) of pair set-ups that had to be restarted."""
    out = []

    def walk(d, path):
        if isinstance(d, dict):
            if d.get("setup_retries"):
                out.append((" ".join(path), d["setup_retries"]))
            for k, v in d.items():
                if k not in ("runs", "nodes"):
                    walk(v, path + [k])

    for phase in ("startup", "shutdown", "failover", "footprint", "stress"):
        walk(r.get(phase, {}), [phase])
    return out


def markdown(r):
    errs = [f"- **not measured**: {e}" for e in r.get("errors", [])]
    errs += [f"- pair set-up restarted {n}× in {where} (a lone node never took its group)"
             for where, n in _retries(r)]
    lines = header(r) + errs + ([""] if errs else []) + ["| measure | heartbeat-rs | Heartbeat 3.0.6 | ratio ours/HB | target |",
             "| --- | ---: | ---: | ---: | --- |"]
    for row in summary_rows(r):
        lines.append("| " + " | ".join(row) + " |")
    fo = r.get("failover", {})
    if fo:
        lines += ["", "Failover latency in detail (ms; beyond deadtime = first start script − victim's last "
                  "status heartbeat on the LAN − deadtime):", "",
                  "| config | implementation | measure | n | min | p50 | p99 | max |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for cfg in ("dt1s", "dt100ms"):
            for impl, name in (("ours", "heartbeat-rs"), ("real", "Heartbeat 3.0.6")):
                res = _get(fo, cfg, impl)
                if not res or "error" in res:
                    continue
                label = f"deadtime {res['deadtime_s'] * 1000:g} ms / keepalive {res['keepalive_s'] * 1000:g} ms"
                for key, what in (("kill_to_first_script_ms", "kill → first start script"),
                                  ("beyond_deadtime_ms", "beyond deadtime"),
                                  ("kill_to_group_ms", "kill → group started")):
                    s = res[key]
                    lines.append(f"| {label} | {name} | {what} | {s.get('n', 0)} | "
                                 + " | ".join(f"{s[k]:.1f}" if k in s else "–" for k in ("min", "p50", "p99", "max"))
                                 + " |")
    return "\n".join(lines) + "\n"
