#!/usr/bin/env bash
# The long fuzzing campaign, outside CI: SharpFuzz instruments Aavae.Core (and the picture and pickle
# libraries it reads with), Debian's afl++ mutates each reader's seed for MINUTES minutes.
#   tests/Aavae.Fuzz/campaign.sh [MINUTES] [READER ...]     (readers: see ReaderTargets.cs; default all)
# Findings land in artifacts/fuzz/findings/READER/default/{crashes,hangs}; replay one with
#   dotnet artifacts/fuzz/bin/Aavae.Fuzz.dll replay READER FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
shift || true
out=artifacts/fuzz
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq afl++ >/dev/null
fi
[ -x "$out/tools/sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$out/tools" >/dev/null

# bin: as built, for seeds and replays; afl: instrumented, which runs only under afl-fuzz (it writes to afl's shared memory).
rm -rf "$out/bin" "$out/afl" "$out/seeds"
dotnet publish tests/Aavae.Fuzz -c Release -o "$out/bin" >/dev/null
dotnet "$out/bin/Aavae.Fuzz.dll" seeds "$out/seeds"
cp -r "$out/bin" "$out/afl"
for dll in Aavae.Core.dll Aavae.Embedding.dll Razorvine.Pickle.dll; do "$out/tools/sharpfuzz" "$out/afl/$dll" >/dev/null; done

readers=("$@")
[ ${#readers[@]} -gt 0 ] || readers=($(ls "$out/seeds"))
# afl++ on a machine it does not own: no CPU governor or core-dump settings to ask for, no screen.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
# dotnet itself is not instrumented: the instrumented Aavae.Core is, which afl cannot see from outside.
export AFL_SKIP_BIN_CHECK=1
printf '%-16s %10s %8s %8s %8s\n' reader executions paths crashes hangs
for reader in "${readers[@]}"; do
  rm -rf "$out/findings/$reader"; mkdir -p "$out/findings"
  afl-fuzz -i "$out/seeds/$reader" -o "$out/findings/$reader" -t 5000 -m none -V $((minutes * 60)) \
    -- "$(command -v dotnet)" "$out/afl/Aavae.Fuzz.dll" run "$reader" >"$out/findings.$reader.log" 2>&1 || true
  stats="$out/findings/$reader/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k {print $2}' "$stats"; }
  if [ -f "$stats" ]; then
    printf '%-16s %10s %8s %8s %8s\n' "$reader" "$(get execs_done)" "$(get corpus_count)" "$(get saved_crashes)" "$(get saved_hangs)"
  else
    printf '%-16s did not start: see %s\n' "$reader" "$out/findings.$reader.log"
  fi
done
