#!/usr/bin/env bash
# The U-Net family on the ISBI 2012 example (README "The U-Net family", training table): every model with the same
# recipe and the same wall-time budget, one after the other on an otherwise idle machine. Sections 0-19 train,
# 20-24 are held back; the LAST checkpoint (not the best one, which is chosen on the held-back sections) predicts
# the held-back sections, scored by `evaluate`. The train step time is `bench --model M --config a --modes train`.
#   MINUTES (3)  budget per model      MODELS (all)  which ones      OUT (runs/family)  run folders and results
# Prints one JSON line per model to stdout and to $OUT/table.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-3}
OUT=${OUT:-runs/family}
MODELS=${MODELS:-"unet attention-unet res-unet unet++ plain-conv-unet trans-unet"}
CLI="node bin/unet-webgpu.mjs"
SPLIT="$OUT/isbi"
mkdir -p "$SPLIT"/{tr,va}/{images,masks}
for f in examples/isbi2012/images/*.png; do
  b=$(basename "$f"); i=$((10#${b//[^0-9]/}))
  d=tr; [ "$i" -ge 20 ] && d=va
  cp "$f" "$SPLIT/$d/images/$b"; cp "examples/isbi2012/labels/$b" "$SPLIT/$d/masks/$b"
done
: > "$OUT/table.jsonl"
for m in $MODELS; do
  run="$OUT/$m"; rm -rf "$run"
  extra=(); [ "$m" = unet ] && extra=(--padding same)
  $CLI train --model "$m" --images "$SPLIT/tr/images" --masks "$SPLIT/tr/masks" --val "$SPLIT/va" --mask-values 255,0 \
    --class-names cell,membrane --minutes "$MINUTES" --width 16 --depth 4 --crop 128 --batch 4 --lr 1e-3 --optimizer adam \
    --loss bce+dice --augment flips,rot90 --seed 0 --nice-main 19 --out "$run" "${extra[@]}" > "$run.train.log" 2>&1
  $CLI predict --weights "$run/latest.safetensors" --input "$SPLIT/va/images" --out "$run/pred" --tile 128 > "$run.predict.log" 2>&1
  $CLI evaluate --pred "$run/pred/masks" --masks "$SPLIT/va/masks" --json > "$run.eval.json"
  $CLI bench --model "$m" --config a --modes train --reps 5 --warmup 2 --nice-main 19 > "$run.bench.json" 2> "$run.bench.log"
  node -e '
    const fs = require("fs"); const [m, run, minutes] = process.argv.slice(1);
    const steps = +/over (\d+) steps/.exec(fs.readFileSync(run + ".train.log", "utf8"))[1];
    const ev = JSON.parse(fs.readFileSync(run + ".eval.json", "utf8")); const b = JSON.parse(fs.readFileSync(run + ".bench.json", "utf8"));
    const line = { model: m, minutes: +minutes, steps, mean: ev.mean, classes: ev.classes, params: b.params, train_step_ms: { median: b.modes.train.median_ms, min: b.modes.train.min_ms, max: b.modes.train.max_ms }, date: b.date, adapter: b.adapter };
    console.log(JSON.stringify(line));' "$m" "$run" "$MINUTES" | tee -a "$OUT/table.jsonl"
done
