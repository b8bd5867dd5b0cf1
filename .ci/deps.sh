#!/usr/bin/env bash
# Installs what OneMap needs from Debian/Ubuntu packages, only what is missing.
#   .ci/deps.sh run    PostgreSQL + PostGIS + pgRouting (for `make run`)
#   .ci/deps.sh test   the same, plus the external validators the tests use
#   .ci/deps.sh bench  the same as run, plus wrk (the warm-cache load generator)
set -euo pipefail
what=${1:-run}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: not root and no sudo: install the packages listed in README.md by hand" >&2; exit 1; }
  SUDO=sudo
fi

updated=""
apt_install() {
  if [ -z "$updated" ]; then
    $SUDO apt-get update -qq
    updated=1
  fi
  echo "deps: installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing() { # prints the packages of "$@" that are not installed
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

command -v go >/dev/null || { echo "deps: Go 1.26 or newer is needed (https://go.dev/dl); it is not on PATH" >&2; exit 1; }

# The PostgreSQL server first: its major version names the extension packages.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt_install postgresql postgresql-contrib
fi
pgver=$(ls -d /usr/lib/postgresql/*/bin/postgres | sed -E 's#/usr/lib/postgresql/([0-9]+)/.*#\1#' | sort -n | tail -1)
need=$(missing "postgresql-$pgver-postgis-3" "postgresql-$pgver-pgrouting")
[ -z "$need" ] || apt_install $need

if [ "$what" = test ]; then
  # GDAL's MVT driver and Mapbox's JS decoder check our tiles independently.
  # The web map's browser tests drive Debian's Chromium (playwright-core brings
  # no browser of its own) and need a CJK font for the Chinese labels.
  need=$(missing gdal-bin chromium fonts-wqy-microhei)
  command -v node >/dev/null || need="$need nodejs"
  command -v npm >/dev/null || need="$need npm"
  [ -z "$need" ] || apt_install $need
  here=$(cd "$(dirname "$0")/.." && pwd)
  for dir in "$here/tiles/testdata/decoder" "$here/frontend"; do
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      echo "deps: npm ci in ${dir#$here/}"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
    fi
  done
fi
if [ "$what" = bench ]; then
  need=$(missing wrk)
  [ -z "$need" ] || apt_install $need
fi
exit 0
