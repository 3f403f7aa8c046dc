#!/usr/bin/env bash
# The test suite, as the README's second command: installs the Debian packages the PyTorch-parity,
# ONNX-checker and MPI tests need when it can (as root or with sudo), then runs dotnet test.
# Arguments go to dotnet test: bash tests/run.sh --filter "Category!=Slow&Category!=Python&Category!=Mpi&Category!=Packaging"
# Tests whose package is still missing skip with the apt-get line they need, unless AAVAE_REQUIRE_ALL=1
# (.ci/run), where they fail instead (tests/Aavae.Tests/Requirements.cs).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# python3-torch: the reference networks (Debian's PyTorch 1.13) for parity; python3-onnx: an ONNX
# checker independent of the exporter; python3-pil: pictures written by an independent encoder;
# python3-sklearn: t-SNE's trustworthiness computed independently; chromium: a run's page opened in a real browser;
# openmpi-bin and mpich: two launchers for the data-parallel tests; iproute2: the network namespaces
# that stand for two hosts in them.
packages=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || packages+=(python3-torch)
/usr/bin/python3 -c 'import onnx' 2>/dev/null || packages+=(python3-onnx)
/usr/bin/python3 -c 'import PIL.WebPImagePlugin' 2>/dev/null || packages+=(python3-pil)
/usr/bin/python3 -c 'import sklearn.manifold' 2>/dev/null || packages+=(python3-sklearn)
command -v chromium >/dev/null || packages+=(chromium)
command -v mpirun.openmpi >/dev/null || packages+=(openmpi-bin)
command -v mpirun.mpich >/dev/null || packages+=(mpich)
command -v ip >/dev/null || packages+=(iproute2)
if [ ${#packages[@]} -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo_cmd=(sudo -n); else sudo_cmd=(none); fi
  fi
  if [ "${sudo_cmd[*]-}" = none ] || ! command -v apt-get >/dev/null; then
    echo "tests/run.sh: cannot install ${packages[*]} here (needs apt-get as root or sudo); their tests will skip (fail under AAVAE_REQUIRE_ALL=1)" >&2
  else
    echo "tests/run.sh: installing ${packages[*]}" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
  fi
fi

# NuGet restores TorchSharp and the Linux-only libtorch (~600 MB) on the first run;
# build/Debian12.targets makes libLibTorchSharp.so load against Debian 12's libstdc++.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# A backstop for a test stuck where nothing in its process can stop it (a thread spinning in a native
# kernel): the blame collector names the test, dumps nothing, and ends the test host. Tests that run
# convolutions at risk already do so in child processes with time limits of their own.
hang=()
[[ " $* " == *" --blame-hang-timeout"* ]] || hang=(--blame-hang-timeout 20m --blame-hang-dump-type none)
dotnet test Aavae.slnx -c Release "${hang[@]}" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain summary line over all test assemblies.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
