"""How busy the rest of the machine was while we measured.

Reads /proc/stat (all CPUs' busy time) and our own CPU time before and after a
block; the difference is what other processes used.  Linux only; elsewhere the
meter reports None and the checks fall back on os.getloadavg().
"""
import os
import time

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def ncpu():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _busy_s():
    """Seconds of CPU all processes have used since boot, or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    v = [int(x) for x in fields]
    # user nice system idle iowait irq softirq steal ...
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / _TICK


def _own_s():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Meter:
    """with Meter() as m: ...  then m.others = the fraction of the machine
    (0..1, all CPUs) that other processes used during the block."""

    def __enter__(self):
        self.wall0, self.busy0, self.own0 = time.perf_counter(), _busy_s(), _own_s()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall0
        busy1 = _busy_s()
        self.others = None
        if self.busy0 is not None and busy1 is not None and wall > 0.05:
            other = (busy1 - self.busy0) - (_own_s() - self.own0)
            self.others = max(0.0, min(1.0, other / (wall * ncpu())))
        return False


def loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3
