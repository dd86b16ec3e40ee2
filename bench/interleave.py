#!/usr/bin/env python3
"""Times commands in interleaved rounds, for benchmarks on a drifting machine.

    interleave.py [--runs N] [--warmup N] [--prepare CMD] --json FILE
                  --markdown FILE NAME CMD [NAME CMD ...]

hyperfine runs every timed run of one command before the next, so on a
machine whose speed drifts over minutes (a shared VM) one side of a
comparison gets the fast minutes and the other the slow ones. Here each round
runs every command once, in a new random order, so drift hits all alike.

Each CMD is a shell command line; --prepare runs before each timed run,
untimed. The JSON is shaped like hyperfine's export (results[i].command,
.times, .median, .mean, .user, .system, in seconds), so the same readers
work; the markdown is a table like hyperfine's.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time


def run_timed(cmd):
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, after.children_user - before.children_user, after.children_system - before.children_system


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--prepare", default="")
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("pairs", nargs="+", metavar="NAME CMD")
    args = ap.parse_args()
    if len(args.pairs) % 2:
        ap.error("commands come as NAME CMD pairs")
    names, cmds = args.pairs[0::2], args.pairs[1::2]

    def prepare():
        if args.prepare:
            subprocess.run(args.prepare, shell=True, check=True)

    for cmd in cmds:
        for _ in range(args.warmup):
            prepare()
            run_timed(cmd)
    times = [[] for _ in cmds]
    users = [[] for _ in cmds]
    systems = [[] for _ in cmds]
    for n in range(args.runs):
        order = list(range(len(cmds)))
        random.shuffle(order)
        for i in order:
            prepare()
            wall, user, system = run_timed(cmds[i])
            times[i].append(wall)
            users[i].append(user)
            systems[i].append(system)
            print(f"round {n + 1}/{args.runs}: {names[i]}: {wall:.3f} s", file=sys.stderr)

    results = []
    for name, t, u, s in zip(names, times, users, systems):
        results.append({
            "command": name, "times": t, "mean": statistics.mean(t),
            "stddev": statistics.stdev(t) if len(t) > 1 else 0.0,
            "median": statistics.median(t), "min": min(t), "max": max(t),
            "user": statistics.mean(u), "system": statistics.mean(s),
        })
    with open(args.json, "w") as f:
        json.dump({"results": results}, f, indent=2)
    base = min(r["mean"] for r in results)
    with open(args.markdown, "w") as f:
        f.write("| Command | Mean [s] | Median [s] | Min [s] | Max [s] | Relative (means) |\n")
        f.write("|:---|---:|---:|---:|---:|---:|\n")
        for r in results:
            f.write(f"| `{r['command']}` | {r['mean']:.3f} ± {r['stddev']:.3f} | {r['median']:.3f} | "
                    f"{r['min']:.3f} | {r['max']:.3f} | {r['mean'] / base:.3f} |\n")


if __name__ == "__main__":
    main()
