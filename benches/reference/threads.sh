#!/usr/bin/env bash
# Times `lopa-sim run` at one and two threads, interleaved so that drifts of the machine hit
# both alike, and prints the medians and the ratio. A benchmark tool, not part of CI.
# Usage (from the crate root, after cargo build --release):
#   benches/reference/threads.sh [ROUNDS] [SEQUENCES] [SCENARIO]
set -euo pipefail
ROUNDS=${1:-6}; SEQ=${2:-256}; SCEN=${3:-scenarios/paper-gsm8k.toml}
BIN=${BIN:-target/release/lopa-sim}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
for _ in $(seq "$ROUNDS"); do
  for j in 1 2; do
    /usr/bin/time -f "$j %e %U %S" -o "$W/t" \
      "$BIN" run "$SCEN" --set sequences="$SEQ" --out "$W/out$j" --force -q --jobs "$j" 2>/dev/null
    cat "$W/t" >> "$W/times"
  done
done
python3 - "$W/times" <<'PY'
import statistics as st, sys
d = {}
for line in open(sys.argv[1]):
    j, wall, user, sys_ = line.split()
    d.setdefault(j, []).append((float(wall), float(user) + float(sys_)))
for j in sorted(d):
    w = [x[0] for x in d[j]]; c = [x[1] for x in d[j]]
    print(f"jobs {j}: wall median {st.median(w):.3f} s (min {min(w):.3f}), cpu median {st.median(c):.3f} s")
print(f"ratio of median walls: {st.median(x[0] for x in d['1']) / st.median(x[0] for x in d['2']):.2f}x")
PY
