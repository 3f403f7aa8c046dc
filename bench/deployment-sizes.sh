#!/usr/bin/env bash
# Size on disk of the two ways to ship a trained encoder in a .NET program: the ClassifyFolder sample on
# Aavae.Core (libtorch) and the EmbedOnnx sample on Aavae.Onnx (ONNX Runtime), each packed from these
# sources into a local feed and published framework-dependent for this machine's runtime identifier.
#   bench/deployment-sizes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Outside the repository, so its build settings do not reach the samples (a user's project has none of them).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version="0.0.0-deployment.$(date +%s)"
rid=$(dotnet --info | awk '/^ *RID:/ {print $2; exit}')
for project in Aavae.Embedding Aavae.Onnx Aavae.Core; do
  dotnet pack "src/$project" -c Release -o "$work/feed" "-p:Version=$version" >/dev/null
done
printf '| program | package | published for %s | of which native libraries |\n| --- | --- | --- | --- |\n' "$rid"
for sample in ClassifyFolder:Aavae.Core EmbedOnnx:Aavae.Onnx; do
  name=${sample%%:*}
  package=${sample##*:}
  cp -r "samples/$name" "$work/$name"
  sed -i "s|Include=\"$package\" Version=\"[^\"]*\"|Include=\"$package\" Version=\"$version\"|" "$work/$name/$name.csproj"
  printf '<configuration><packageSources><add key="deployment" value="%s" /></packageSources></configuration>\n' "$work/feed" >"$work/$name/nuget.config"
  dotnet publish "$work/$name" -c Release -r "$rid" --self-contained false -o "$work/$name/publish" >/dev/null
  total=$(du -sb "$work/$name/publish" | cut -f1)
  native=$(find "$work/$name/publish" -name '*.so*' -o -name '*.dylib' -o -name '*.dll' -path '*native*' | xargs -r du -cb | tail -1 | cut -f1)
  printf '| samples/%s | %s | %d MB | %d MB |\n' "$name" "$package" $((total / 1000000)) $((${native:-0} / 1000000))
done
