#!/usr/bin/env python3
"""Renders benchmark results into BENCHMARKS.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.

  python3 tools/bench_report.py native            # criterion results from target/criterion
  python3 tools/bench_report.py SECTION FILE.md   # a table another benchmark script wrote
Each section records the machine it ran on, so figures from different machines are not mixed up.
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGETS = {"validate_wizard/valid": 20.0, "validate_wizard/invalid": 20.0}


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} "
            f"{platform.release()}, {rustc}; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")


def native_table():
    base = os.path.join(ROOT, "target", "criterion")
    rows = []
    for dirpath, _, files in os.walk(base):
        if "estimates.json" in files and dirpath.endswith(os.path.join("new")):
            bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
            est = json.load(open(os.path.join(dirpath, "estimates.json")))
            name = bench["full_id"]
            median_us = est["median"]["point_estimate"] / 1000
            lo = est["median"]["confidence_interval"]["lower_bound"] / 1000
            hi = est["median"]["confidence_interval"]["upper_bound"] / 1000
            budget = BUDGETS.get(name)
            verdict = "" if budget is None else (f"≤ {budget:g} µs: " + ("met" if median_us <= budget else "**missed**"))
            rows.append(f"| {name} | {median_us:.2f} µs | {lo:.2f}–{hi:.2f} µs | {verdict} |")
    rows.sort()
    return "\n".join(["| benchmark | median | 95% CI of median | budget |", "|---|---|---|---|"] + rows)


def main():
    if sys.argv[1] == "--machine":  # for other reports (tools/soak.py)
        print(machine())
        return
    section = sys.argv[1]
    table = native_table() if section == "native" else open(sys.argv[2]).read().strip()
    block = f"<!-- {section}:begin -->\nMachine: {machine()}\n\n{table}\n<!-- {section}:end -->"
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read()
    pattern = re.compile(rf"<!-- {re.escape(section)}:begin -->.*?<!-- {re.escape(section)}:end -->", re.S)
    if not pattern.search(text):
        sys.exit(f"BENCHMARKS.md has no {section} section")
    text = pattern.sub(lambda _: block, text)
    open(path, "w").write(text)
    print(block)


main()
