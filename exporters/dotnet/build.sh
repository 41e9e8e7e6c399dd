#!/usr/bin/env bash
# Builds the C# exporter with Mono's mcs (C# 7.2), its NUnit tests and the test console
# program, and optionally runs the tests:
#   exporters/dotnet/build.sh [OUT_DIR]          build into OUT_DIR (default exporters/dotnet/build)
#   exporters/dotnet/build.sh [OUT_DIR] --test   build, then run the NUnit tests with nunit-console
# Needs Debian's mono-devel, nunit-console and libnunit-cil-dev (scripts/ensure-system-deps.sh).
# Warnings fail the build: what compiles here must compile warning-free.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/build}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# libnunit-cil-dev puts NUnit 2.x under /usr/lib/cli/nunit.framework-<version>/.
nunit_framework="$(compgen -G '/usr/lib/cli/nunit.framework-2*/nunit.framework.dll' | sort -V | tail -n 1 || true)"

for tool in mcs mono nunit-console; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt-get install mono-devel nunit-console libnunit-cil-dev)" >&2; exit 2; }
done
[ -n "$nunit_framework" ] || { echo "build.sh: nunit.framework.dll is missing (apt-get install libnunit-cil-dev)" >&2; exit 2; }

mcs_flags=(-langversion:7.2 -warn:4 -warnaserror+ -nologo -debug- -optimize+)

mcs "${mcs_flags[@]}" -target:library -r:System.Net.Http \
    -doc:"$out/Fillbook.Exporter.xml" -nowarn:1591,1573 \
    -out:"$out/Fillbook.Exporter.dll" "$here"/src/Fillbook.Exporter/*.cs

mcs "${mcs_flags[@]}" -target:library -r:System.Net.Http -r:"$out/Fillbook.Exporter.dll" \
    -r:"$nunit_framework" \
    -out:"$out/Fillbook.Exporter.Tests.dll" "$here"/tests/Fillbook.Exporter.Tests/*.cs

mcs "${mcs_flags[@]}" -target:exe -r:"$out/Fillbook.Exporter.dll" \
    -out:"$out/ExportRun.exe" "$here"/tools/ExportRun/*.cs

cp "$nunit_framework" "$out/"

if [ "${2:-}" = "--test" ]; then
  cd "$out"
  nunit-console -nologo -labels -xml="$out/TestResult.xml" "$out/Fillbook.Exporter.Tests.dll"
fi
