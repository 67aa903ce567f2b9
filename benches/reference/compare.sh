#!/usr/bin/env bash
# Times `lopa-sim run` (the whole command: load, decode, every output file and figure)
# against the NumPy reference (markov_ref.py) on the same Markov scenario, checks that both
# give the same rounds per (k, sequence), and prints sequences per second and the ratio.
# A benchmark tool, not part of CI. Usage (from the crate root, after cargo build --release):
#   benches/reference/compare.sh [V] [L] [SEQUENCES] [DECODER] [ATTENTION] [CONFIDENCE]
# lopa-sim runs take a fraction of a second, so one shot is noisy (218x to 389x in three
# shots of the same command): each lopa-sim command is timed REPEAT times (default 5) and
# the median is used. NumPy's run, a minute or more, is timed once.
set -euo pipefail
V=${1:-32}; L=${2:-256}; SEQ=${3:-32}; DEC=${4:-d2f}; ATT=${5:-full}; CONF=${6:-prob}
PY=${PYTHON:-/usr/bin/python3}
BIN=${BIN:-target/release/lopa-sim}
REPEAT=${REPEAT:-5}
case $REPEAT in (*[!0-9]*|""|0) echo "compare.sh: REPEAT must be a whole number >= 1, not '$REPEAT'" >&2; exit 2;; esac
W=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "keeping $W" || trap 'rm -rf "$W"' EXIT
"$PY" - "$V" "$W" <<'PYEOF'
import sys, numpy as np
v, w = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(11)
t = np.zeros((v, v))
for x in range(v):
    if x == 0:
        t[0, 0] = 1.0
        continue
    row = rng.dirichlet(np.full(v - 1, 0.3))
    if rng.random() < 0.7:
        row = 0.1 * row
        row[rng.integers(v - 1)] += 0.9
    t[x, 1:] = 0.998 * row
    t[x, 0] = 0.002
np.savetxt(f"{w}/chain.csv", t, delimiter=",", fmt="%.17g")
prompts = [[int(a) for a in rng.integers(1, v, size=4)] for _ in range(16)]
open(f"{w}/prompts.txt", "w").write(repr(prompts))
PYEOF
PROMPTS=$(cat "$W/prompts.txt")
cat > "$W/bench.toml" <<TOML
name = "numpy-compare"
seed = 1
sequences = $SEQ
gen_length = $L
[model]
kind = "markov"
transitions = "chain.csv"
eos_token = 0
attention = "$ATT"
prompts = $PROMPTS
[decoder]
kind = "$DEC"
block_size = 32
fill_threshold = 0.9
confidence = "$CONF"
[search]
kind = "lopa"
[sweep]
"search.branches" = [0, 2, 4, 8, 16]
TOML
cat > "$W/bench.json" <<JSON
{"transitions": "$W/chain.csv", "gen_length": $L, "block_size": 32, "sequences": $SEQ,
 "add_threshold": 0.1, "activate_threshold": 0.95, "fill_threshold": 0.9,
 "attention": "$ATT", "confidence": "$CONF", "eos_token": 0, "decoder": "$DEC",
 "branches": [0, 2, 4, 8, 16], "prompts": $PROMPTS}
JSON
N=$((SEQ * 5))
# On a shared virtual machine the hypervisor can take CPU time away ("steal", the 8th
# field of /proc/stat's cpu line): session 14 saw a 256-sequence run take 0.25 s with 9% of
# the machine's time stolen and 0.53 s with 53%. A run on two threads loses more to it than
# NumPy's on one, so the steal share of each side is printed beside the ratio.
# Prints "busy steal" jiffies of all CPUs so far (0 0 where /proc/stat is missing).
cpu_jiffies() {
  awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9, $9; f = 1} END {if (!f) print 0, 0}' /proc/stat 2>/dev/null || echo 0 0
}
# Appends the steal share of the command's time to $W/steal.NAME, then prints its wall time.
timed() {
  local name=$1 a b j0 s0 j1 s1; shift
  read -r j0 s0 < <(cpu_jiffies); a=$(date +%s.%N)
  "$@"
  b=$(date +%s.%N); read -r j1 s1 < <(cpu_jiffies)
  echo "$((j1 - j0)) $((s1 - s0))" >> "$W/steal.$name"
  echo "$b - $a" | bc -l
}
# The median wall time in seconds of REPEAT runs of the command given.
median_time() {
  for _ in $(seq "$REPEAT"); do
    timed "$@"
  done | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# The steal share, in percent, of the busy time of the runs recorded under NAME.
steal_share() {
  awk '{b += $1; s += $2} END {printf "%.0f", (b > 0 ? 100 * s / b : 0)}' "$W/steal.$1"
}
ours=$(median_time ours "$BIN" run "$W/bench.toml" -q --out "$W/out" --force)
run_ref() { "$PY" "$(dirname "$0")/markov_ref.py" "$W/bench.json" > "$W/ref.csv"; }
theirs=$(timed numpy run_ref)
# runs.csv: config,seq,search.branches,rounds,tokens,...
tail -n +2 "$W/out/runs.csv" | cut -d, -f3,2,4,5 | awk -F, '{print $2","$1","$3","$4}' | sort > "$W/a"
sort "$W/ref.csv" > "$W/b"
same=$(comm -12 "$W/a" "$W/b" | wc -l)
# The same command with one sequence per configuration: what the run costs whatever its
# size (loading, writing, the figures). The NumPy reference has no such part, so the
# ratio of per-sequence costs beyond it is printed too, beside the whole-command ratio.
fixed=$(median_time fixed "$BIN" run "$W/bench.toml" -q --out "$W/out1" --force --set sequences=1)
printf 'V=%s L=%s %s %s %s: %s decodes; lopa-sim %.3f s (median of '"$REPEAT"' runs; %.1f seq/s), numpy %.3f s (%.1f seq/s), ratio %.0fx; rounds and tokens agree on %s of %s\n' \
  "$V" "$L" "$DEC" "$ATT" "$CONF" "$N" "$ours" "$(echo "$N / $ours" | bc -l)" "$theirs" "$(echo "$N / $theirs" | bc -l)" "$(echo "$theirs / $ours" | bc -l)" "$same" "$N"
echo "  CPU time stolen by the hypervisor: $(steal_share ours)% during the lopa-sim runs, $(steal_share numpy)% during NumPy's (0% on a dedicated machine)"
if [ "$SEQ" -gt 1 ]; then
  marginal=$(echo "($ours - $fixed) / ($N - 5)" | bc -l)
  printf '  one sequence per configuration: %.3f s; beyond it lopa-sim costs %.1f us per decode, numpy %.1f ms: ratio %.0fx\n' \
    "$fixed" "$(echo "$marginal * 1000000" | bc -l)" "$(echo "$theirs / $N * 1000" | bc -l)" "$(echo "($theirs / $N) / $marginal" | bc -l)"
fi
