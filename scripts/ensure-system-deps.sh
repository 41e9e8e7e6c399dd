#!/usr/bin/env bash
# Installs the system packages the test suites need (Debian): a PostgreSQL server,
# Node.js and npm (the dashboard build), Chromium (the browser tests), Mono with NUnit 2
# (the C# exporter in exporters/dotnet).
# `ensure-system-deps.sh node` installs only Node.js and npm (what `make run` needs).
# Runs as root in CI; elsewhere it says what to install instead of failing obscurely.
set -euo pipefail

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; }

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${1:-}" != node ]; then
  have_postgres || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v mcs >/dev/null || missing+=(mono-devel)
  command -v nunit-console >/dev/null || missing+=(nunit-console)
  [ -f /usr/lib/pkgconfig/nunit.pc ] || missing+=(libnunit-cil-dev)
fi

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need these Debian packages: ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
