#!/usr/bin/env bash
# Installs the S3-compatible server used by griddispatch-media's S3 backend tests: moto's
# server mode, from PyPI. Idempotent: does nothing when it is already importable.
#
# The tests find it through GRIDDISPATCH_S3_SERVER_CMD (a full command, e.g.
# "python3 -m moto.server"), else `moto_server` on PATH, else `python3 -m moto.server`.
# CI sets GRIDDISPATCH_REQUIRE_S3=1 so that a missing server fails the tests instead of
# skipping them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
# moto 5 implements conditional writes (If-None-Match), which the write-once originals need.
MOTO_SPEC="${MOTO_SPEC:-moto[server]>=5.1,<6}"

if "$PYTHON" -c 'import moto, moto.server, flask' >/dev/null 2>&1; then
    echo "moto server already installed: $("$PYTHON" -c 'import moto; print(moto.__version__)')"
else
    echo "installing ${MOTO_SPEC} with ${PYTHON} -m pip"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "${MOTO_SPEC}"
    # pyenv only exposes new console scripts after a rehash.
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash || true
    fi
fi

"$PYTHON" -c 'import moto.server' >/dev/null
if command -v moto_server >/dev/null 2>&1; then
    echo "tests will use: $(command -v moto_server)"
else
    echo "moto_server not on PATH; tests will use: ${PYTHON} -m moto.server"
    echo "(or export GRIDDISPATCH_S3_SERVER_CMD=\"${PYTHON} -m moto.server\")"
fi
