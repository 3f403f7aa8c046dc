#!/usr/bin/env bash
# A lost process, many times over: a data-parallel run of 2 and of 3 processes, under Open MPI and
# MPICH, one rank killed (SIGKILL) at a random moment after its second epoch's checkpoint. Each try
# records how long the job took to end, the launcher's exit code, whether its output names the lost
# rank (Open MPI: "process rank R"; MPICH: "PID P", which rank 0's "ranks at host:pid" line maps to a
# rank), whether any process was left, and whether last.ckpt loads in PyTorch.
# Usage: bash bench/soak-lost-process.sh [TRIES=20]   (needs a built Release aavae, mpich, openmpi-bin, python3-torch)
set -uo pipefail
cd "$(dirname "$0")/.."
tries=${1:-20}
aavae=src/Aavae.Cli/bin/Release/net10.0/aavae.dll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) cores"
printf '| launcher | processes | tries | ended (max s after the kill) | exit codes | lost rank named (watch line / launcher report) | processes left | last.ckpt loads |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for family in openmpi mpich; do
  for n in 2 3; do
    launch=(mpirun.mpich -np "$n"); [ "$family" = openmpi ] && launch=(mpirun.openmpi --oversubscribe -np "$n")
    named=0; launcher_named=0; left=0; loads=0; worst=0; codes=""
    for try in $(seq "$tries"); do
      run="$work/$family-$n-$try"
      "${launch[@]}" dotnet "$aavae" pretrain --preset cpu-small --width 4 --latent-dim 8 --batch-size 24 --precision 32 \
        --knn-every 0 --limit-val-batches 1 --device cpu --max-epochs 200 --limit-train-batches 10 --output "$run" > "$run.out" 2>&1 &
      job=$!
      for _ in $(seq 600); do [ -f "$run/checkpoints/epoch=0001.ckpt" ] && break; sleep 0.1; done
      sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
      mapfile -t ranks < <(pgrep -f "^dotnet $aavae pretrain .*--output $run\$")
      if [ "${#ranks[@]}" -ne "$n" ]; then
        echo "try $try: ${#ranks[@]} of $n processes running after a minute" >&2; tail -3 "$run.out" >&2
        kill "$job" 2> /dev/null; wait "$job"; codes="$codes no-start"; continue
      fi
      victim=${ranks[$((RANDOM % n))]}
      start=$(date +%s.%N)
      kill -9 "$victim"
      wait "$job"; code=$?
      took=$(echo "$(date +%s.%N) - $start" | bc)
      worst=$(echo "if ($took > $worst) $took else $worst" | bc)
      codes="$codes $code"
      rank=$(grep -o "ranks at host:pid .*" "$run.out" | head -1 | grep -oE "[0-9]+ [^ ,:]+:$victim\b" | cut -d' ' -f1)
      if [ -n "$rank" ] && [ "$(grep -c "rank [0-9]* of $n ([^)]*) has ended" "$run.out")" = 1 ] && grep -q "rank $rank of $n ([^)]*:$victim) has ended" "$run.out"; then named=$((named + 1)); fi
      if [ -n "$rank" ] && grep -qE "process rank $rank with PID|PID $victim RUNNING AT" "$run.out"; then launcher_named=$((launcher_named + 1)); fi
      sleep 2
      pgrep -f -- "--output $run\$" > /dev/null && left=$((left + 1)) && pkill -9 -f -- "--output $run\$"
      /usr/bin/python3 -c "import torch, sys; torch.load(sys.argv[1], map_location='cpu')['state_dict']" "$run/checkpoints/last.ckpt" 2>/dev/null && loads=$((loads + 1))
      rm -rf "$run"
    done
    printf '| %s | %d | %d | %.1f | %s | %d / %d | %d | %d |\n' "$family" "$n" "$tries" "$worst" "$(echo $codes | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')" "$named" "$launcher_named" "$left" "$loads"
  done
done
