#!/usr/bin/env bash
# A lopa-sim sweep on a Slurm cluster: one job array with one shard per array task, then a
# merge job that Slurm starts once every shard has succeeded (--dependency=afterok). Slurm
# does the scheduling, requeues and accounting; lopa-sim only splits the work items
# (`run --shard I/N`) and combines the shard folders (`merge`).
#
# Submit from the login node, in the folder the scenario paths are relative to:
#
#   scenarios/slurm-array.sh SCENARIO.toml SHARDS OUT [sbatch options...]
#
#   LOPA_SIM=target/release/lopa-sim scenarios/slurm-array.sh \
#       scenarios/paper-gsm8k.toml 16 results/gsm8k --time=01:00:00 --cpus-per-task=8
#
# Shard I writes OUT-shards/I/ (its journal and shard.json) and logs to OUT-shards/I.log;
# the merge writes OUT/, byte-identical to `lopa-sim run SCENARIO --out OUT`. Every shard
# runs with --resume, so a requeued or resubmitted task continues where it stopped. To
# finish a failed sweep, resubmit the same command: finished shards only rewrite their
# shard.json.
#
# Environment: LOPA_SIM, the binary (default `lopa-sim` on PATH); LOPA_SIM_ARGS, extra
# arguments for every shard's `run`, e.g. "--set sequences=4096 --case 'GSM8K/*'" (split
# on spaces; quotes are not interpreted). The sbatch options go to both jobs.
set -euo pipefail

stage=${LOPA_STAGE:-submit}
LOPA_SIM=${LOPA_SIM:-lopa-sim}

case "$stage" in
shard)
  # One array task: shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT.
  scenario=$1 out=$2
  count=${SLURM_ARRAY_TASK_COUNT:-${SLURM_ARRAY_TASK_MAX:?not inside a Slurm job array}}
  read -r -a extra <<<"${LOPA_SIM_ARGS:-}"
  jobs=()
  if [[ -n "${SLURM_CPUS_PER_TASK:-}" ]]; then jobs=(--jobs "$SLURM_CPUS_PER_TASK"); fi
  exec "$LOPA_SIM" ${jobs[@]+"${jobs[@]}"} --quiet run "$scenario" \
    --shard "$SLURM_ARRAY_TASK_ID/$count" --out "$out-shards/$SLURM_ARRAY_TASK_ID" \
    --resume ${extra[@]+"${extra[@]}"}
  ;;
merge)
  scenario=$1 out=$2 shards=$3
  dirs=()
  for ((i = 1; i <= shards; i++)); do dirs+=("$out-shards/$i"); done
  exec "$LOPA_SIM" --quiet merge "${dirs[@]}" --out "$out"
  ;;
submit)
  if [[ $# -lt 3 ]]; then
    echo "usage: $0 SCENARIO.toml SHARDS OUT [sbatch options...]" >&2
    exit 2
  fi
  scenario=$1 shards=$2 out=$3
  shift 3
  if ! [[ "$shards" =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: SHARDS must be a positive integer, got '$shards'" >&2
    exit 2
  fi
  if [[ ! -f "$scenario" ]]; then
    echo "$0: no scenario file '$scenario'" >&2
    exit 2
  fi
  # The jobs may start on nodes with another PATH: pin the binary now.
  if ! LOPA_SIM=$(command -v "$LOPA_SIM"); then
    echo "$0: cannot find the lopa-sim binary (set LOPA_SIM=path/to/lopa-sim)" >&2
    exit 2
  fi
  case "$LOPA_SIM" in /*) ;; *) LOPA_SIM=$PWD/$LOPA_SIM ;; esac
  export LOPA_SIM LOPA_SIM_ARGS=${LOPA_SIM_ARGS:-}
  mkdir -p "$out-shards"
  name=lopa-$(basename "$scenario" .toml)
  array=$(LOPA_STAGE=shard sbatch --parsable --job-name="$name" --array="1-$shards" \
    --output="$out-shards/%a.log" --export=ALL "$@" "$0" "$scenario" "$out")
  array=${array%%;*}
  merge=$(LOPA_STAGE=merge sbatch --parsable --job-name="$name-merge" \
    --dependency="afterok:$array" --output="$out-shards/merge.log" --export=ALL "$@" \
    "$0" "$scenario" "$out" "$shards")
  merge=${merge%%;*}
  echo "submitted $shards shards as job array $array and the merge as job $merge;"
  echo "results in $out (shards in $out-shards; watch with: squeue -j $array,$merge)"
  ;;
*)
  echo "$0: unknown LOPA_STAGE '$stage' (shard, merge or submit)" >&2
  exit 2
  ;;
esac
