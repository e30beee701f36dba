#!/usr/bin/env bash
# Copies a training run's latest checkpoint into the repository, compacted:
#   bash training/bundled-v1/snapshot.sh [OUT_DIR]      (default .tmp/bundled-v1)
# - training/bundled-v1/state.safetensors   the trainer state (weights F16, moments BF16), for train.sh
# - training/bundled-v1/{run.json,metrics.jsonl,eval.jsonl}
# - packages/spiketrack/weights/spiketrack-synthetic-v1.safetensors   the bundled weights (F16, PyTorch layout)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/.tmp/bundled-v1}"
node "$here/compact.mjs" "$out/state.safetensors" "$here/state.safetensors" --moments bf16
mkdir -p "$root/packages/spiketrack/weights"
node "$here/compact.mjs" "$out/model.safetensors" "$root/packages/spiketrack/weights/spiketrack-synthetic-v1.safetensors"
cp "$out/run.json" "$here/"
for f in metrics.jsonl eval.jsonl; do [ -f "$out/$f" ] && cp "$out/$f" "$here/"; done
# the checkpoint's step, from the state's safetensors header (the logs may run a few steps past it)
node -e 'const b=require("fs").readFileSync(process.argv[1]);const n=Number(b.readBigUInt64LE(0));const h=JSON.parse(b.subarray(8,8+n).toString());console.log("snapshot of step "+h.__metadata__["spiketrack.trainer.step"])' "$here/state.safetensors"
