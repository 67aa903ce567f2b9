#!/usr/bin/env python3
"""Fits a paper-predict world's knobs to D2F baselines only, by running lopa-sim.

Usage: fit.py WORLD.toml --param KEY=LO,HI [--param ...] --target NAME=TPF [--target ...]
             [--sequences N] [--write]

Each target NAME is a threshold setting: `std` (the world file as written) or `low` (tau_add
0.1, tau_act = tau_conf = 0.70, the lowered D2F thresholds of the LoPA paper's Tables 3, 4
and 7). The statistic is tpf_steps = sum(tokens) / (sum(rounds) + sequences), the count of
the published Dream code. The fit minimises the sum of squared log errors, first on a
coarse grid, then by Nelder-Mead from the best grid point; it is deterministic. No LoPA
number is ever a target: the script refuses search.kind other than "none".
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("LOPA_SIM", os.path.join(ROOT, "target", "release", "lopa-sim"))
LOW = ["decoder.add_threshold=0.1", "decoder.activate_threshold=0.7", "decoder.fill_threshold=0.7"]


def tpf_steps(world, sets, sequences):
    with tempfile.TemporaryDirectory() as out:
        cmd = [BIN, "run", world, "--out", out, "-q", "--set", f"sequences={sequences}"]
        for s in sets:
            cmd += ["--set", s]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"lopa-sim failed: {' '.join(cmd)}\n{r.stderr}")
        with open(os.path.join(out, "summary.csv")) as f:
            rows = list(csv.DictReader(f))
        if "tpf_steps" in rows[0]:
            return float(rows[0]["tpf_steps"])
        with open(os.path.join(out, "runs.csv")) as f:
            runs = list(csv.DictReader(f))
        tokens = sum(int(r["tokens"]) for r in runs)
        rounds = sum(int(r["rounds"]) for r in runs)
        return tokens / (rounds + len(runs))


def nelder_mead(f, x0, steps, iters=25, tol=1e-4):
    n = len(x0)
    pts = [list(x0)] + [[x0[j] + (steps[j] if j == i else 0) for j in range(n)] for i in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = sorted(range(n + 1), key=lambda i: vals[i])
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        if vals[-1] - vals[0] < tol:
            break
        c = [sum(p[j] for p in pts[:-1]) / n for j in range(n)]
        xr = [c[j] + (c[j] - pts[-1][j]) for j in range(n)]
        fr = f(xr)
        if fr < vals[0]:
            xe = [c[j] + 2 * (c[j] - pts[-1][j]) for j in range(n)]
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = [c[j] + 0.5 * (pts[-1][j] - c[j]) for j in range(n)]
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                for i in range(1, n + 1):
                    pts[i] = [pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]) for j in range(n)]
                    vals[i] = f(pts[i])
    best = min(range(n + 1), key=lambda i: vals[i])
    return pts[best], vals[best]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("world")
    ap.add_argument("--param", action="append", required=True)
    ap.add_argument("--target", action="append", required=True)
    ap.add_argument("--sequences", type=int, default=64)
    ap.add_argument("--grid", type=int, default=4)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    text = open(a.world).read()
    if not re.search(r'^kind = "none"', text, re.M):
        sys.exit(f"{a.world}: calibrate at search.kind = \"none\" (D2F baselines only)")
    params = []
    for p in a.param:
        key, rng = p.split("=")
        lo, hi = map(float, rng.split(","))
        params.append((key, lo, hi))
    targets = []
    for t in a.target:
        name, x = t.split("=")
        targets.append((name, float(x)))

    cache = {}

    def evaluate(x):
        x = tuple(round(min(max(v, lo), hi), 4) for v, (_, lo, hi) in zip(x, params))
        if x not in cache:
            sets = [f"{k}={v}" for (k, _, _), v in zip(params, x)]
            got = [tpf_steps(a.world, sets + (LOW if n == "low" else []), a.sequences) for n, _ in targets]
            err = sum(math.log(g / t) ** 2 for g, (_, t) in zip(got, targets))
            cache[x] = (err, got)
            print("  " + " ".join(f"{k}={v}" for (k, _, _), v in zip(params, x)) + "  ->  " +
                  " ".join(f"{n} {g:.3f} (target {t})" for g, (n, t) in zip(got, targets)) +
                  f"  residual {err:.5f}", flush=True)
        return cache[x][0]

    # Coarse grid, then Nelder-Mead from its best point.
    g = a.grid
    axes = [[lo + (hi - lo) * i / (g - 1) for i in range(g)] for _, lo, hi in params]
    grid = [[]]
    for ax in axes:
        grid = [p + [v] for p in grid for v in ax]
    best = min(grid, key=evaluate)
    steps = [(hi - lo) / (2 * (g - 1)) for _, lo, hi in params]
    x, err = nelder_mead(evaluate, best, steps)
    x = tuple(round(min(max(v, lo), hi), 4) for v, (_, lo, hi) in zip(x, params))
    err, got = cache[x]
    print("fit: " + " ".join(f"{k} = {v}" for (k, _, _), v in zip(params, x)))
    worst = 0.0
    for g_, (n, t) in zip(got, targets):
        rel = g_ / t - 1
        worst = max(worst, abs(rel))
        print(f"  {n}: tpf_steps {g_:.3f}, target {t}, error {100 * rel:+.1f}%")
    if a.write:
        for (k, _, _), v in zip(params, x):
            short = k.split(".", 1)[1]
            text, n = re.subn(rf"^{short} = [^#\n]*?(\s*#.*)?$", lambda m: f"{short} = {v}" + (m.group(1) or ""), text, count=1, flags=re.M)
            if n != 1:
                sys.exit(f"{a.world}: no line `{short} = ...` to rewrite")
        tmp = a.world + ".tmp"
        open(tmp, "w").write(text)
        os.replace(tmp, a.world)
        print(f"wrote {a.world}")
    if worst > 0.03:
        sys.exit(f"fit misses a target by {100 * worst:.1f}% (> 3%)")


if __name__ == "__main__":
    main()
