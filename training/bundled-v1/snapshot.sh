#!/usr/bin/env bash
# Copies a training run's latest checkpoint into the repository, compacted:
#   bash training/bundled-v1/snapshot.sh [OUT_DIR] [FROM_STEP [BASE]]     (default .tmp/bundled-v1)
# - training/bundled-v1/state.safetensors   the trainer state (weights F16, moments BF16), for train.sh
# - training/bundled-v1/{run.json,metrics.jsonl,eval.jsonl}
# - packages/spiketrack/weights/spiketrack-synthetic-v1.safetensors   the bundled weights (F32, PyTorch
#   layout; not F16: rounding the weights moved synthetic-v1's AUC by ~1 point through the spiking
#   thresholds): the latest weights; with FROM_STEP, the mean of the snapshots that train.sh keeps
#   (--keep-every 250) from FROM_STEP to the checkpoint's step (spiketrack average: stochastic
#   weight averaging); with BASE, an earlier average (e.g. the committed bundled weights, whose
#   metadata lists the steps they average) is extended by those snapshots
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/.tmp/bundled-v1}"
from="${2:-}"
base="${3:-}"
last=""
cli="$root/packages/spiketrack/dist/cli.js"
node "$here/compact.mjs" "$out/state.safetensors" "$here/state.safetensors" --moments bf16
# the checkpoint's step, from the state's safetensors header (the logs may run a few steps past it)
step=$(node -e 'const b=require("fs").readFileSync(process.argv[1]);const n=Number(b.readBigUInt64LE(0));const h=JSON.parse(b.subarray(8,8+n).toString());console.log(h.__metadata__["spiketrack.trainer.step"])' "$here/state.safetensors")
weights="$root/packages/spiketrack/weights/spiketrack-synthetic-v1.safetensors"
mkdir -p "$(dirname "$weights")"
if [ -n "$from" ]; then
  snaps=()
  if [ -n "$base" ]; then
    # a copy: the base may be the file this writes
    cp "$base" "$out/average-base.safetensors"
    snaps+=("$out/average-base.safetensors")
  fi
  for ((s = from; s <= step; s += 250)); do
    f="$out/snapshots/model-$s.safetensors"
    [ -f "$f" ] || { echo "snapshot.sh: $f is missing (train.sh keeps one every 250 steps)" >&2; exit 2; }
    snaps+=("$f")
    last=$s
  done
  node "$cli" average --dtype f32 --out "$weights" "${snaps[@]}"
else
  cp "$out/model.safetensors" "$weights"
fi
cp "$out/run.json" "$here/"
for f in metrics.jsonl eval.jsonl; do [ -f "$out/$f" ] && cp "$out/$f" "$here/"; done
echo "snapshot of step $step${from:+ (bundled weights: the mean of steps $from..$last, every 250)}"
