#!/usr/bin/env bash
# run_all.sh OUTDIR — every GPU figure of tessera in one run of about ten minutes on a machine with an
# NVIDIA GPU (made for an H100 SXM5 without MIG), most important first; results and logs in OUTDIR,
# a summary in OUTDIR/summary.txt. See docs/gpu.md.
#
#   0. tessera: build/release/bin/tessera if built; else the bundle (TESSERA_BUNDLE=tarball, or
#      build/release/tessera-*.tar.gz, the -gpu one with cuBLAS/cuDNN from the machine); else it
#      builds (cmake --preset release, all targets).
#   a. identity: nvidia-smi -L, tessera gpus, tessera gpus verify (read-only)
#   b. GPU outputs against the CPU reference: tessera check-engine (small and full size), then the
#      *cuda*_test programs where the build tree is there
#   c. tessera profiles measure on the bundled H100 SM-partition configurations (quick subset;
#      TESSERA_GPU_FULL=1 for all 352), compared with data/profiles/h100-sm-partitions.csv on an
#      H100, and with PyTorch + CUDA graphs (bench/gpu/torch_baseline.py) where torch is installed
#   d. two models on disjoint green-context partitions against each alone (profiles measure
#      --concurrent)
#   e. tessera serve --backend cuda + tessera load against tessera simulate (calibration.*.yaml)
#
# Only reads GPU state: never changes MIG mode, clocks or power, never resets the GPU. Each step has
# a time limit; a failed step is logged and the next one runs.
set -uo pipefail
out=${1:?usage: run_all.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
summary=$out/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
step() {  # step NAME LIMIT_S COMMAND...: output to NAME.log, exit code and time in the summary
  local name=$1 limit=$2 start=$SECONDS
  shift 2
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  note "$name: exit $rc ($((SECONDS - start)) s)$([ $rc = 124 ] && echo ", stopped at its ${limit} s limit")"
  return $rc
}

# --- 0. the tessera binary ------------------------------------------------------------------------
build=$root/build/release
tessera=$build/bin/tessera
if [ ! -x "$tessera" ]; then
  bundle=${TESSERA_BUNDLE:-$(ls "$build"/tessera-*-linux-x86_64*.tar.gz 2>/dev/null | head -1)}
  if [ -n "$bundle" ] && [ -f "$bundle" ]; then
    tar xzf "$bundle" -C "$out" && tessera=$out/tessera/bin/tessera
    note "using the bundle $bundle"
  else
    note "building tessera (cmake --preset release) ..."
    (cd "$root" && cmake --preset release && cmake --build --preset release -j"$(nproc)") \
      >"$out/build.log" 2>&1 || note "build failed: see build.log"
  fi
fi
# The GPU-machine bundle (cmake --build --preset release --target bundle-gpu) leaves out cuBLAS and
# cuDNN: take them from the CUDA toolkit or PyTorch's nvidia-* wheels.
if [ -x "$tessera" ] && ldd "$tessera" 2>/dev/null | grep -q "not found"; then
  extra=$(python3 -c 'import glob, site
print(":".join(sorted(glob.glob(site.getsitepackages()[0] + "/nvidia/*/lib"))))' 2>/dev/null)
  export LD_LIBRARY_PATH=${extra}${extra:+:}/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  note "libraries from LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  ldd "$tessera" | grep "not found" | tee -a "$summary"
fi
[ -x "$tessera" ] || { note "no tessera binary: stopping"; exit 1; }
note "tessera: $tessera ($("$tessera" --version 2>&1))"

# --- a. identity ----------------------------------------------------------------------------------
if ! step nvidia-smi 30 nvidia-smi -L; then
  note "nvidia-smi found no NVIDIA GPU or driver: nothing to measure here"
  exit 1
fi
step tessera-gpus 30 "$tessera" gpus
step tessera-gpus-verify 30 "$tessera" gpus verify
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
mig=$(nvidia-smi --query-gpu=mig.mode.current --format=csv,noheader 2>/dev/null | head -1)
note "GPU 0: ${gpu_name:-none} (MIG ${mig:-unknown})"
is_h100=0
[[ "$gpu_name" == *"H100 80GB HBM3"* ]] && is_h100=1
if [[ "$mig" == Enabled ]]; then
  note "MIG is enabled: green contexts need a GPU without MIG; steps c-e measure nothing useful here"
fi

# --- b. GPU outputs against the CPU reference -----------------------------------------------------
# tessera check-engine: every model, small, then three at full size (the CPU side takes a while).
step check-engine 120 "$tessera" check-engine
tee -a "$summary" <"$out/check-engine.log"
step check-engine-full 400 "$tessera" check-engine --full-size --models resnet50,bert_base,gpt2
tee -a "$summary" <"$out/check-engine-full.log"
# The test programs whose names hold "cuda" (cuda_engine_test: GPU outputs against the CPU
# reference; runtime_cuda_test: green contexts, backend, profiler), run directly: ctest names tests
# by their GoogleTest names.
tests=$(find "$build" -name '*cuda*_test' -type f -perm -u+x 2>/dev/null | sort)
if [ -n "$tests" ]; then
  for t in $tests; do
    name=$(basename "$t")
    TESSERA_DATA_DIR=$root/data step "$name" 300 "$t"
    grep -E "^\[  (PASSED|FAILED|SKIPPED) +\]" "$out/$name.log" | grep -v "^\[  SKIPPED \] .*\..*(" \
      | tee -a "$summary"
  done
else
  note "cuda tests: skipped (a bundle has no tests; build the tree to check GPU against CPU)"
fi

# --- c. profiles: tessera vs bundled H100 table (and PyTorch) -------------------------------------
bundled=$root/data/profiles/h100-sm-partitions.csv
quick=--quick
limit=150
[ "${TESSERA_GPU_FULL:-0}" = 1 ] && quick= && limit=600
python3 "$here/make_list.py" "$bundled" "$out/configs.csv" $quick >>"$summary"
measured=$out/measured.csv
rm -f "$measured"
for model in resnet50 mobilenet_v2 vgg16 bert_base gpt2; do
  { head -1 "$out/configs.csv"; grep ",$model," "$out/configs.csv"; } >"$out/configs-$model.csv"
  step "measure-$model" $limit "$tessera" profiles measure --list "$out/configs-$model.csv" \
    --warmup 5 --repeats 30 -o "$out/measured-$model.csv"
  [ -f "$out/measured-$model.csv" ] || continue
  if [ -f "$measured" ]; then tail -n +2 "$out/measured-$model.csv" >>"$measured"
  else cp "$out/measured-$model.csv" "$measured"; fi
done
if [ -f "$measured" ] && [ $is_h100 = 1 ]; then
  python3 "$here/compare_profiles.py" "$measured" "$bundled" --label bundled \
    >"$out/compare-bundled.txt" 2>&1
  grep -A8 "geometric mean" "$out/compare-bundled.txt" | tee -a "$summary"
elif [ -f "$measured" ]; then
  note "not an H100 SXM5: the bundled H100 table is not a fair reference; see measured.csv"
fi
if python3 -c "import torch" 2>/dev/null; then
  step torch-baseline 240 python3 "$here/torch_baseline.py" "$out/configs.csv" "$out/torch.csv"
  if [ -f "$out/torch.csv" ] && [ -f "$measured" ]; then
    python3 "$here/compare_profiles.py" "$measured" "$out/torch.csv" --label torch \
      >"$out/compare-torch.txt" 2>&1
    grep -A8 "geometric mean" "$out/compare-torch.txt" | tee -a "$summary"
  fi
else
  note "torch-baseline: skipped (python3 cannot import torch)"
fi

# --- d. two models on disjoint green-context partitions -------------------------------------------
step concurrent 120 "$tessera" profiles measure --concurrent --models resnet50,bert_base \
  --partitions sm:64,sm:64 --batches 8,32 --warmup 5 --repeats 30 -o "$out/concurrent.csv"
[ -f "$out/concurrent.csv" ] && cat "$out/concurrent.csv" | tee -a "$summary"

# --- e. serve --backend cuda + load against simulate ----------------------------------------------
plan=$here/calibration.plan.yaml
workload=$here/calibration.workload.yaml
profiles=$measured
[ -f "$profiles" ] || profiles=$bundled
port=${TESSERA_GPU_PORT:-18431}
duration=${TESSERA_GPU_DURATION:-60}
"$tessera" serve --plan "$plan" --profiles "$profiles" --backend cuda --port "$port" \
  >"$out/serve.log" 2>&1 &
serve_pid=$!
ready=0
for _ in $(seq 1 180); do  # graph capture takes a while: up to 3 minutes
  kill -0 "$serve_pid" 2>/dev/null || break
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ready=1; break; fi
  sleep 1
done
if [ $ready = 1 ]; then
  start=$SECONDS
  timeout --kill-after=10 $((duration + 60)) "$tessera" load --workload "$workload" \
    --target "http://127.0.0.1:$port" --duration "$duration" --json >"$out/load.json" \
    2>"$out/load.log"
  note "load: exit $? ($((SECONDS - start)) s)"
else
  note "serve did not start listening on port $port: see serve.log"
fi
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null
start=$SECONDS
timeout 120 "$tessera" simulate --plan "$plan" --workload "$workload" --profiles "$profiles" \
  --duration "$duration" --json >"$out/simulate.json" 2>"$out/simulate.log"
note "simulate: exit $? ($((SECONDS - start)) s)"
if [ $ready = 1 ]; then
  python3 "$here/calibrate.py" "$out/load.json" "$out/simulate.json" >"$out/calibration.txt" 2>&1
  tee -a "$summary" <"$out/calibration.txt"
fi
note "done in $SECONDS s; results and logs in $out"
