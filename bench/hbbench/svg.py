"""A dependency-free SVG plot of the failover latency distributions: one panel
per configuration, an empirical CDF per implementation and measure (kill ->
first start script, kill -> whole group started), the deadtime as a line."""

import math

W, H = 460, 330  # one panel
ML, MR, MT, MB = 58, 14, 44, 74
COLORS = {"ours": "#1f6fb4", "real": "#d9622b"}
LABEL = {"ours": "heartbeat-rs", "real": "Heartbeat 3.0.6"}


def _nice_step(span, target=6):
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _panel(x0, title, deadtime_ms, series):
    """series: [(impl, measure, [ms...])]; returns svg elements."""
    allv = [v for _, _, vs in series for v in vs] + [deadtime_ms]
    lo = 0.0
    hi = max(allv) * 1.05
    step = _nice_step(hi - lo)
    hi = math.ceil(hi / step) * step
    pw, ph = W - ML - MR, H - MT - MB

    def sx(v):
        return x0 + ML + (v - lo) / (hi - lo) * pw

    def sy(f):
        return MT + (1 - f) * ph

    el = [f'<text x="{x0 + W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">{_esc(title)}</text>']
    el.append(f'<rect x="{x0 + ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    t = lo
    while t <= hi + 1e-9:
        x = sx(t)
        el.append(f'<line x1="{x:.1f}" y1="{MT}" x2="{x:.1f}" y2="{MT + ph}" stroke="#ddd"/>')
        el.append(f'<text x="{x:.1f}" y="{MT + ph + 16}" text-anchor="middle" font-size="11">{t:g}</text>')
        t += step
    for f in (0, 0.25, 0.5, 0.75, 1.0):
        y = sy(f)
        el.append(f'<line x1="{x0 + ML}" y1="{y:.1f}" x2="{x0 + ML + pw}" y2="{y:.1f}" stroke="#eee"/>')
        el.append(f'<text x="{x0 + ML - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{f:g}</text>')
    el.append(f'<text x="{x0 + ML + pw / 2}" y="{MT + ph + 34}" text-anchor="middle" font-size="12">ms after SIGKILL of the owner</text>')
    el.append(f'<text x="{x0 + 16}" y="{MT + ph / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 {x0 + 16} {MT + ph / 2})">fraction of runs</text>')
    xd = sx(deadtime_ms)
    el.append(f'<line x1="{xd:.1f}" y1="{MT}" x2="{xd:.1f}" y2="{MT + ph}" stroke="#888" stroke-dasharray="2,3"/>')
    el.append(f'<text x="{xd + 3:.1f}" y="{MT + 12}" font-size="10" fill="#666">deadtime</text>')
    for impl, measure, vs in series:
        xs = sorted(vs)
        if not xs:
            continue
        n = len(xs)
        pts = [(sx(xs[0]), sy(0))]
        for k, v in enumerate(xs):
            pts.append((sx(v), sy(k / n)))
            pts.append((sx(v), sy((k + 1) / n)))
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6,3"' if measure == "group" else ""
        el.append(f'<polyline points="{d}" fill="none" stroke="{COLORS[impl]}" stroke-width="1.8"{dash}/>')
        for v in xs:
            el.append(f'<circle cx="{sx(v):.1f}" cy="{MT + ph + (4 if measure == "first" else 8)}" r="1.6" fill="{COLORS[impl]}"/>')
    # legend: one row per implementation
    for r, impl in enumerate(("ours", "real")):
        ly = H - 24 + r * 15
        lx = x0 + ML
        for measure, name in (("first", "first start script"), ("group", "group started")):
            dash = ' stroke-dasharray="6,3"' if measure == "group" else ""
            el.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{COLORS[impl]}" stroke-width="1.8"{dash}/>')
            el.append(f'<text x="{lx + 22}" y="{ly}" font-size="10">{LABEL[impl]}: {name}</text>')
            lx += 195
    return el


def plot(failover, path):
    """failover: {cfg: {impl: result}} as bench writes it."""
    cfgs = [c for c in ("dt1s", "dt100ms")
            if any("runs" in v for v in failover.get(c, {}).values())]
    el = []
    for k, cfg in enumerate(cfgs):
        res = {impl: v for impl, v in failover[cfg].items() if "runs" in v}
        if not res:
            continue
        any_res = next(iter(res.values()))
        dead_ms = any_res["deadtime_s"] * 1000
        ka_ms = any_res["keepalive_s"] * 1000
        n = len(any_res["runs"])
        series = []
        for impl in ("ours", "real"):
            if impl in res:
                runs = res[impl]["runs"]
                series.append((impl, "first", [r["to_first"] * 1000 for r in runs]))
                series.append((impl, "group", [r["to_group"] * 1000 for r in runs]))
        title = f"deadtime {dead_ms:g} ms, keepalive {ka_ms:g} ms ({n} runs each)"
        el += _panel(k * W, title, dead_ms, series)
    width = W * max(1, len(cfgs))
    body = "\n".join(el)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H}" '
           f'viewBox="0 0 {width} {H}" font-family="sans-serif">\n'
           f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n')
    with open(path, "w") as f:
        f.write(svg)
