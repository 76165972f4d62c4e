#!/usr/bin/env bash
# Re-vendor the field app's browser libraries at the pinned versions below, from the npm registry
# (the pattern of server/console/vendor.sh).
#
#   bash mobile-sync/app/vendor.sh          # fetch, copy into vendor/, rewrite vendor/SHA256SUMS
#   bash mobile-sync/app/vendor.sh --check  # only verify vendor/ against SHA256SUMS
#
# Only `npm pack` is used (it checks each tarball against the registry's integrity hash); no
# package is installed and nothing runs from the packages. Node and npm are needed only to run
# this script, never to build, test or run griddispatch or the app.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/vendor"

if [[ "${1:-}" == "--check" ]]; then
    cd "$vendor" && sha256sum --quiet -c SHA256SUMS && echo "vendor/ matches SHA256SUMS"
    exit 0
fi

# The runtime-only build of Vue: screens are render functions, so the page runs under a CSP
# without 'unsafe-eval'.
VUE=3.5.45
IDB=8.0.4
# SHA-256 where Web Crypto is missing: crypto.subtle exists only in secure contexts, and town
# intranets serve the app over plain http.
JS_SHA256=0.11.1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

unpack() {
    local name="$1" version="$2" dir="$work/${1//\//_}"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$name@$version" >/dev/null && tar -xzf ./*.tgz)
    echo "$dir/package"
}

rm -rf "$vendor"
mkdir -p "$vendor"/{vue,idb,js-sha256}

p="$(unpack vue "$VUE")"
cp "$p/dist/vue.runtime.global.prod.js" "$p/LICENSE" "$vendor/vue/"

p="$(unpack idb "$IDB")"
cp "$p/build/umd.js" "$p/LICENSE" "$vendor/idb/"

p="$(unpack js-sha256 "$JS_SHA256")"
cp "$p/build/sha256.min.js" "$p/LICENSE.txt" "$vendor/js-sha256/"

cat > "$vendor/VERSIONS" <<VERSIONS
vue $VUE
idb $IDB
js-sha256 $JS_SHA256
VERSIONS

(cd "$vendor" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
echo "vendored into $vendor:"
cat "$vendor/VERSIONS"
