#!/usr/bin/env bash
# Compares the CSV outputs (runs, summary, rounds, trace) of two builds on 13 scenario
# variants, for changes meant to leave every result unchanged (speed work). Prints one DIFF
# line per differing file and ALL SAME when there is none. A benchmark tool, not part of CI.
# Usage (from the crate root):
#   benches/reference/regress.sh BASE_BIN NEW_BIN [BENCH_TOML]
# BENCH_TOML is the Markov scenario of compare.sh (run `KEEP=1 benches/reference/compare.sh`
# and pass the bench.toml of the folder it keeps); without it those five variants are skipped.
set -uo pipefail
BASE=${1:?usage: regress.sh BASE_BIN NEW_BIN [BENCH_TOML]}
NEW=${2:?usage: regress.sh BASE_BIN NEW_BIN [BENCH_TOML]}
BENCH=${3:-}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
ok=1
run() { # name args...
  local n=$1; shift
  "$BASE" run "$@" -q --out "$OUT/b-$n" --force --jobs 2 2>/dev/null
  "$NEW" run "$@" -q --out "$OUT/n-$n" --force --jobs 2 2>/dev/null
  for f in runs.csv summary.csv rounds.csv trace.csv; do
    [ -f "$OUT/b-$n/$f" ] || continue
    cmp -s "$OUT/b-$n/$f" "$OUT/n-$n/$f" || { echo "DIFF $n $f"; ok=0; }
  done
}
if [ -n "$BENCH" ]; then
  run cmp "$BENCH" --set sequences=96
  run cmpsemi "$BENCH" --set sequences=48 --set 'decoder.kind="threshold"'
  run cmpent "$BENCH" --set sequences=48 --set 'decoder.confidence="neg_entropy"' --set 'search.spawn_completion="needs_forward"'
  run noise "$BENCH" --set sequences=48 --set model.logit_noise=0.5 --set model.temperature=1.2
  run bc "$BENCH" --set sequences=48 --set 'model.attention="block_causal"'
fi
run quick scenarios/quickstart.toml
run gsm scenarios/paper-gsm8k.toml --set sequences=64
run t1 scenarios/paper-table1.toml --set sequences=8
run pred scenarios/paper-predict/worlds/mbpp.toml --set sequences=16 --set 'search.kind="lopa"' --set search.branches=7
run tfo scenarios/tfo-study.toml --set sequences=8
run fast scenarios/fast-dllm-llada.toml --set sequences=8
run pnoise scenarios/paper-predict/worlds/gsm8k.toml --set sequences=8 --set model.logit_noise=0.5
[ $ok = 1 ] && echo ALL SAME
