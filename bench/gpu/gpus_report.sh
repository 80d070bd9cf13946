#!/usr/bin/env bash
# gpus_report.sh OUT_DIR — on a machine with an NVIDIA GPU: runs the bundle's `tessera gpus` and
# `tessera gpus verify` next to `nvidia-smi mig -lgip` / `-lgipp`, and writes each output to OUT_DIR.
# Only reads GPU state. Uses build/release/bundle/tessera if present, else unpacks the tarball given
# in TESSERA_BUNDLE, else builds the bundle.
set -uo pipefail
out=${1:?usage: gpus_report.sh OUT_DIR}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$root/build/release/bundle/tessera
if [ ! -x "$bundle/bin/tessera" ] && [ -n "${TESSERA_BUNDLE:-}" ]; then
  tar xzf "$TESSERA_BUNDLE" -C "$out" && bundle=$out/tessera
fi
if [ ! -x "$bundle/bin/tessera" ]; then
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset bundle) >"$out/build.log" 2>&1
fi
run() {  # run NAME COMMAND...: output to NAME.txt, exit code recorded
  "${@:2}" >"$out/$1.txt" 2>&1
  echo "$1: exit $?" | tee -a "$out/exit_codes.txt"
}
run nvidia-smi nvidia-smi
run lgip nvidia-smi mig -lgip
run lgipp nvidia-smi mig -lgipp
run tessera_gpus "$bundle/bin/tessera" gpus
run tessera_gpus_json "$bundle/bin/tessera" gpus --json
run tessera_verify "$bundle/bin/tessera" gpus verify
run tessera_verify_json "$bundle/bin/tessera" gpus verify --json
echo "outputs in $out"
