"""What the benchmark modules share: errors, statistics, Markdown tables,
version strings and the description of the machine."""

import datetime
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    pass


def log(message):
    """Progress, on stderr (stdout carries the tables)."""
    print(message, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values)


def percentile(values, p):
    """The nearest-rank `p`th percentile of `values` (0 < p <= 100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def pair_ratios(a, b):
    """Median, lowest and highest of the ratios a[i] / b[i] of paired runs."""
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return median(ratios), min(ratios), max(ratios)


def table(header, rows, left=1):
    """A Markdown table: the first `left` columns left-aligned, the others right."""
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(["---"] * left + ["---:"] * (len(header) - left)) + " |",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def version(cmd):
    """The last line `cmd` prints, or "?" when it fails."""
    try:
        p = subprocess.run(cmd, check=False, capture_output=True, text=True)
    except OSError:
        return "?"
    out = (p.stdout.strip() or p.stderr.strip()).splitlines()
    return out[-1] if p.returncode == 0 and out else "?"


def package_version(python, name):
    code = f"from importlib.metadata import version; print(version({name!r}))"
    return version([python, "-c", code])


def python_version(python):
    return version([python, "-c", "import platform; print(platform.python_version())"])


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    """Today's date and the machine, for the line under a table."""
    return f"{datetime.date.today().isoformat()}, {os.cpu_count()} CPUs ({cpu_model()})"


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"
