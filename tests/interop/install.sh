#!/usr/bin/env bash
# Installs the real clients used by the interop tests: the tus clients of tests/tests/interop.rs,
# tuspy (PyPI) and tus-js-client (npm, pinned by package-lock.json into tests/interop/node_modules),
# and the Open311 GeoReport v2 client `georeport` (PyPI) of tests/tests/open311_client.rs.
# Idempotent: each part is skipped when the pinned version is already there.
#
# CI (.ci/run) runs this and sets GRIDDISPATCH_REQUIRE_INTEROP=1 so that a missing client fails
# the interop tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
TUSPY_VERSION="1.1.0"

if [ "$("$PYTHON" -c 'from importlib.metadata import version; print(version("tuspy"))' 2>/dev/null)" = "$TUSPY_VERSION" ]; then
    echo "tuspy ${TUSPY_VERSION} already installed"
else
    echo "installing tuspy==${TUSPY_VERSION} with ${PYTHON} -m pip"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "tuspy==${TUSPY_VERSION}"
fi
"$PYTHON" -c 'import tusclient.client, requests'

GEOREPORT_VERSION="0.3.1"
if [ "$("$PYTHON" -c 'from importlib.metadata import version; print(version("georeport"))' 2>/dev/null)" = "$GEOREPORT_VERSION" ]; then
    echo "georeport ${GEOREPORT_VERSION} already installed"
else
    echo "installing georeport==${GEOREPORT_VERSION} with ${PYTHON} -m pip"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "georeport==${GEOREPORT_VERSION}"
fi
"$PYTHON" -c 'import georeport, xmltodict'

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm are needed for the tus-js-client tests (node >= 18)" >&2
    exit 1
fi
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.package-lock.json.ci 2>/dev/null; then
    echo "tus-js-client already installed ($(node -p 'require("tus-js-client/package.json").version'))"
else
    echo "installing tus-js-client with npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.package-lock.json.ci
fi
node -e 'require("tus-js-client")'
echo "tus-js-client $(node -p 'require("tus-js-client/package.json").version'), tuspy ${TUSPY_VERSION}, georeport ${GEOREPORT_VERSION}: ready"
