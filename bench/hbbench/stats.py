"""Summary statistics of samples (seconds in, milliseconds out)."""


def percentile(sorted_xs, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_xs:
        return None
    pos = (len(sorted_xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def summary_ms(samples_s):
    """{n, min, p50, p99, max, mean} in ms of a list of seconds (None dropped)."""
    xs = sorted(x * 1000.0 for x in samples_s if x is not None)
    if not xs:
        return {"n": 0}
    return {
        "n": len(xs),
        "min": xs[0],
        "p50": percentile(xs, 0.5),
        "p99": percentile(xs, 0.99),
        "max": xs[-1],
        "mean": sum(xs) / len(xs),
    }
