#!/usr/bin/env bash
# Build overhead of a Model item, measured in one run (issue targets: no-op build <= 1.15x, design-time build <= 1.5x).
#   bash tests/ModelSdk.Benchmarks/build-overhead.sh [RUNS]
# Packs the SDK into a private feed, then builds two copies of the TinyStories sample against it:
#   model: the sample as a user writes it (Sdk="ModelSdk.Sdk", a Model item, Stories15M.Load());
#   pkgref: the same with ModelSdk as package references instead of an MSBuild SDK (no SDK resolver at evaluation);
#   plain: the same console app without the Model item (Microsoft.NET.Sdk + ModelSdk.Runtime, LanguageModel.Load of a file).
# Reports the fastest and the median of RUNS (default 7) alternating runs of each; the ratios compare the fastest runs,
# the ones least disturbed by other work on a shared machine:
#   no-op build:       `dotnet build --no-restore` right after a full build;
#   design-time build: `dotnet msbuild -t:Compile -p:DesignTimeBuild=true` with the model never compiled (obj/ emptied each time).
set -euo pipefail
runs=${1:-7}
repo=$(cd "$(dirname "$0")/../.." && pwd)
models=$repo/../shared/models
[ -f "$models/stories15M.bin" ] || models=$repo/samples/TinyStories/models
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 NUGET_PACKAGES=$work/packages
version=0.1.0-bench.$(date -u +%Y%m%d%H%M%S)

dotnet pack "$repo/sdk/ModelSdk.Sdk/ModelSdk.Sdk.csproj" -c Release -o "$work/feed" -p:ModelSdkVersion=$version -v:q -nologo >"$work/pack.log" 2>&1 || { tail -20 "$work/pack.log"; exit 1; }

for app in model pkgref plain; do
  dir=$work/$app
  mkdir -p "$dir/models"
  ln -s "$models/stories15M.bin" "$dir/models/stories15M.bin"
  ln -s "$models/tokenizer.model" "$dir/models/tokenizer.model"
  cp "$repo/samples/TinyStories/CommandLine.cs" "$dir/"
  cat > "$dir/nuget.config" <<XML
<configuration><packageSources><clear /><add key="feed" value="$work/feed" /></packageSources></configuration>
XML
  echo "{ \"msbuild-sdks\": { \"ModelSdk.Sdk\": \"$version\" } }" > "$dir/global.json"
  echo "<Project><PropertyGroup><ModelSdkCacheDirectory>$work/cache</ModelSdkCacheDirectory></PropertyGroup></Project>" > "$dir/Directory.Build.props"
  echo "<Project />" > "$dir/Directory.Build.targets"
done
cp "$repo/samples/TinyStories/Program.cs" "$work/model/"
cp "$repo/samples/TinyStories/Program.cs" "$work/pkgref/"
sed 's/Stories15M.Load()/LanguageModel.Load(Path.Combine(AppContext.BaseDirectory, "stories15M.msdk"))/; s/^using TinyStories;/using ModelSdk;\nusing ModelSdk.Runtime;\nusing TinyStories;/' \
  "$repo/samples/TinyStories/Program.cs" > "$work/plain/Program.cs"
cat > "$work/model/App.csproj" <<XML
<Project Sdk="ModelSdk.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><Model Include="models/stories15M.bin" Tokenizer="models/tokenizer.model" ClassName="Stories15M" /></ItemGroup>
</Project>
XML
cat > "$work/pkgref/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="ModelSdk.Sdk" Version="$version" />
    <PackageReference Include="ModelSdk.Runtime" Version="$version" />
    <Model Include="models/stories15M.bin" Tokenizer="models/tokenizer.model" ClassName="Stories15M" />
  </ItemGroup>
</Project>
XML
cat > "$work/plain/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><PackageReference Include="ModelSdk.Runtime" Version="$version" /></ItemGroup>
</Project>
XML

seconds() { local start=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" | tail -20 >&2; exit 1; }; echo "$(date +%s.%N) - $start" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
fastest() { printf '%s\n' "$@" | sort -g | head -1; }

for app in model pkgref plain; do (cd "$work/$app" && dotnet build -c Release -v:q -nologo >"$work/$app.log" 2>&1) || { tail -20 "$work/$app.log"; exit 1; }; done
declare -A noop design
for i in $(seq "$runs"); do
  for app in model pkgref plain; do
    noop[$app]+=" $(cd "$work/$app" && seconds dotnet build -c Release --no-restore -v:q -nologo)"
  done
done
for i in $(seq "$runs"); do
  for app in model pkgref plain; do
    rm -rf "$work/$app/obj/Release"
    design[$app]+=" $(cd "$work/$app" && seconds dotnet msbuild -t:Compile -p:DesignTimeBuild=true -p:Configuration=Release -v:q -nologo)"
  done
  [ ! -e "$work/model/obj/Release/net10.0/modelsdk/Stories15M.msdk" ] && [ ! -e "$work/pkgref/obj/Release/net10.0/modelsdk/Stories15M.msdk" ] || { echo "a design-time build compiled the model" >&2; exit 1; }
done

row() { # name, model times, plain times, target
  local fm=$(fastest $2) fp=$(fastest $3)
  printf '| %s | %.2f (median %.2f) | %.2f (median %.2f) | %.2fx | %s |\n' "$1" "$fm" "$(median $2)" "$fp" "$(median $3)" "$(echo "$fm / $fp" | bc -l)" "$4"
}
echo "# Build overhead of a Model item ($runs runs each, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| build | with Model item (s) | plain app (s) | ratio | target |"
echo "|---|---:|---:|---:|---:|"
row 'no-op `dotnet build`, Sdk="ModelSdk.Sdk"' "${noop[model]}" "${noop[plain]}" '<= 1.15x'
row 'no-op `dotnet build`, PackageReference' "${noop[pkgref]}" "${noop[plain]}" '<= 1.15x'
row 'design-time, never compiled, Sdk="ModelSdk.Sdk"' "${design[model]}" "${design[plain]}" '<= 1.5x'
row 'design-time, never compiled, PackageReference' "${design[pkgref]}" "${design[plain]}" '<= 1.5x'
