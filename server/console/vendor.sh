#!/usr/bin/env bash
# Re-vendor the console's browser libraries at the pinned versions below, from the npm registry.
#
#   bash server/console/vendor.sh          # fetch, copy into vendor/, rewrite vendor/SHA256SUMS
#   bash server/console/vendor.sh --check  # only verify vendor/ against SHA256SUMS
#
# Only `npm pack` is used (it checks each tarball against the registry's integrity hash); no
# package is installed and nothing runs from the packages. Node and npm are needed only to run
# this script, never to build, test or run griddispatch. To upgrade a library, change its version
# here, run the script, look at the console in a browser and commit vendor/ with SHA256SUMS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/vendor"

if [[ "${1:-}" == "--check" ]]; then
    cd "$vendor" && sha256sum --quiet -c SHA256SUMS && echo "vendor/ matches SHA256SUMS"
    exit 0
fi

VUE=3.5.45
ELEMENT_PLUS=2.14.8
ICONS_VUE=2.3.2
LEAFLET=1.9.4
MARKERCLUSTER=1.5.3
ECHARTS=6.1.0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# unpack NAME VERSION: npm pack into $work/NAME/package
unpack() {
    local name="$1" version="$2" dir="$work/${1//\//_}"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$name@$version" >/dev/null && tar -xzf ./*.tgz)
    echo "$dir/package"
}

rm -rf "$vendor"
mkdir -p "$vendor"/{vue,element-plus,icons-vue,leaflet/images,markercluster,echarts}

p="$(unpack vue "$VUE")"
cp "$p/dist/vue.global.prod.js" "$p/LICENSE" "$vendor/vue/"

p="$(unpack element-plus "$ELEMENT_PLUS")"
cp "$p/dist/index.full.min.js" "$p/dist/index.css" "$p/LICENSE" "$vendor/element-plus/"
cp "$p/dist/locale/zh-cn.min.js" "$vendor/element-plus/"

p="$(unpack @element-plus/icons-vue "$ICONS_VUE")"
cp "$p/dist/index.iife.min.js" "$p/LICENSE" "$vendor/icons-vue/"

p="$(unpack leaflet "$LEAFLET")"
cp "$p/dist/leaflet.js" "$p/dist/leaflet.css" "$p/LICENSE" "$vendor/leaflet/"
cp "$p"/dist/images/*.png "$vendor/leaflet/images/"

p="$(unpack leaflet.markercluster "$MARKERCLUSTER")"
cp "$p/dist/leaflet.markercluster.js" "$p/dist/MarkerCluster.css" \
   "$p/dist/MarkerCluster.Default.css" "$vendor/markercluster/"

p="$(unpack echarts "$ECHARTS")"
cp "$p/dist/echarts.min.js" "$p/LICENSE" "$p/NOTICE" "$vendor/echarts/"
# leaflet.markercluster ships no licence file; its package.json says MIT.

cat > "$vendor/VERSIONS" <<VERSIONS
vue $VUE
element-plus $ELEMENT_PLUS
@element-plus/icons-vue $ICONS_VUE
leaflet $LEAFLET
leaflet.markercluster $MARKERCLUSTER
echarts $ECHARTS
VERSIONS

(cd "$vendor" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
echo "vendored into $vendor:"
cat "$vendor/VERSIONS"
