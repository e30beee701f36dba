#!/usr/bin/env bash
# Trains the bundled model (spiketrack-synthetic-v1) on the synthetic generator, or resumes it.
#   bash training/bundled-v1/train.sh [OUT_DIR] [extra spiketrack-train options]
# OUT_DIR defaults to .tmp/bundled-v1. When OUT_DIR holds no run yet, it starts from the
# checkpoint committed beside this script (state.safetensors: weights F16, AdamW moments BF16),
# so a new machine continues where the last one stopped; without one it starts from scratch.
# Everything is deterministic by the seed: step k always sees the same samples.
# The learning rate was 5e-4 up to step 1900, 2e-4 up to step 7750, 2e-5 up to step 8250, 2e-4 up to
# step 9250, 2e-5 up to step 9500, 2e-4 up to step 12250, 2e-5 up to step 12750,
# 2e-4 up to step 15500, 2e-5 up to step 16000, 2e-4 up to step 19000, 2e-5 up to step 19500 and 2e-4 after,
# with the ×0.1 drop of --lr-drop-epoch moved from epoch 24 to 100 at step 23800 and --steps raised from
# 30000 to 60000 then (run.json's "amendments"; --amend lets a resumed run take the schedule given here,
# so these defaults are the schedule now in force). From step 4800 the BatchNorms train in
# eval mode with
# fixed running statistics (--norm-stats running): with batch statistics the model's boxes came out
# ~15 % too large when tracking (packages/spiketrack README, "Training as it tracks").
# WORKERS (default 2) threads share each batch of 8 (spiketrack train --workers): from step 1250 on
# the run used 2; the batch-statistic BatchNorms normalize each thread's part over its own samples.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/.tmp/bundled-v1}"
shift || true
cli="$root/packages/spiketrack/dist/cli.js"
[ -f "$cli" ] || (cd "$root" && npx turbo run build --filter=spiketrack...)

resume=()
if [ -f "$out/state.safetensors" ]; then
  resume=(--resume --amend)
elif [ -f "$here/state.safetensors" ]; then
  mkdir -p "$out"
  cp "$here/state.safetensors" "$here/run.json" "$out/"
  for f in metrics.jsonl eval.jsonl; do [ -f "$here/$f" ] && cp "$here/$f" "$out/"; done
  resume=(--resume --amend)
fi

exec node "$cli" train \
  --config '{"base":"tiny_256_t1","resolution":128,"templates":1,"dims":[16,32,64,96],"decoderChannel":64,"backboneNorm":"batch"}' \
  --batch 8 --lr 2e-4 --encoder-lr-scale 1 --norm-stats running --steps 60000 --steps-per-epoch 1000 --lr-drop-epoch 100 --seed 1 \
  --checkpoint-every 50 --keep-every 250 --eval-every 250 --eval-sequences 6 --eval-frames 40 \
  --workers "${WORKERS:-2}" --out "$out" --backend wasm "${resume[@]}" "$@"
