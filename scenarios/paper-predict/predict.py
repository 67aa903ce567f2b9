#!/usr/bin/env python3
"""Prints the paper-predict table: each calibrated world's D2F baselines (the calibration
targets) and its LoPA predictions beside the published values (LoPA paper, arXiv 2512.16229:
Tables 1, 3 and 7, D2F-Dream-Instruct). Every number is tpf_steps at the world file's
sequence count, pooled over its worlds; the range is the lowest and highest world alone. Usage: predict.py [--sequences N] [--worlds DIR] [BENCHMARK ...]"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("LOPA_SIM", os.path.join(ROOT, "target", "release", "lopa-sim"))
LOW = ["decoder.add_threshold=0.1", "decoder.activate_threshold=0.7", "decoder.fill_threshold=0.7"]


def lopa(k):
    return ["search.kind=lopa", f"search.branches={k}"]


# benchmark -> rows of (what, --set overrides, published TPF, is it a calibration target)
ROWS = {
    "gsm8k": [
        ("D2F standard", [], 3.1, True),
        ("D2F lowered", LOW, 4.01, True),
        ("LoPA k=14 standard", lopa(14), 10.1, False),
        ("LoPA k=7 lowered (BP8)", lopa(7) + LOW, 11.42, False),
        ("LoPA k=3 lowered (BP4)", lopa(3) + LOW, 9.30, False),
    ],
    "mbpp": [
        ("D2F standard", [], 2.3, True),
        ("D2F lowered", LOW, 3.13, True),
        ("LoPA k=7 standard", lopa(7), 5.4, False),
        ("LoPA k=7 lowered (BP8)", lopa(7) + LOW, 9.52, False),
        ("LoPA k=3 lowered (BP4)", lopa(3) + LOW, 8.64, False),
    ],
    "math": [
        ("D2F standard", [], 2.6, True),
        ("LoPA k=7 standard", lopa(7), 8.0, False),
    ],
    "humaneval": [
        ("D2F standard", [], 2.5, True),
        ("LoPA k=7 standard", lopa(7), 6.3, False),
    ],
}


def run(world, sets, sequences):
    with tempfile.TemporaryDirectory() as out:
        cmd = [BIN, "run", world, "--out", out, "-q"]
        if sequences:
            cmd += ["--set", f"sequences={sequences}"]
        for s in sets:
            cmd += ["--set", s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"lopa-sim failed: {' '.join(cmd)}\n{r.stderr}")
        with open(os.path.join(out, "summary.csv")) as f:
            row = next(csv.DictReader(f))
        # tpf_steps of each world alone, from the decodes: sum(tokens) / sum(rounds + 1).
        per = {}
        with open(os.path.join(out, "runs.csv")) as f:
            for r in csv.DictReader(f):
                t, n = per.get(r["world"], (0, 0))
                per[r["world"]] = (t + int(r["tokens"]), n + int(r["rounds"]) + 1)
        worlds = [t / n for t, n in per.values()]
        return float(row["tpf_steps"]), min(worlds), max(worlds), float(row["distinct2"] or "nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sequences", type=int)
    ap.add_argument("--worlds", default=os.path.join(HERE, "worlds"), help="folder of world files")
    ap.add_argument("benchmarks", nargs="*", default=list(ROWS))
    a = ap.parse_args()
    print("| benchmark | configuration | simulated tpf_steps | range over worlds | published | error | distinct2 |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for b in a.benchmarks:
        world = os.path.join(a.worlds, f"{b}.toml")
        for what, sets, paper, target in ROWS[b]:
            got, lo, hi, d2 = run(world, sets, a.sequences)
            err = got / paper - 1
            if not target:
                worst = max(worst, abs(err))
            label = what + (" (calibration target)" if target else "")
            print(f"| {b} | {label} | {got:.2f} | {lo:.2f}-{hi:.2f} | {paper} | {100 * err:+.1f}% | {d2:.2f} |", flush=True)
    print(f"\nworst prediction error: {100 * worst:.1f}%")


if __name__ == "__main__":
    main()
