#!/usr/bin/env bash
# make docs-assets: fetch the docs pages' scripts and stylesheets from the
# npm registry (npm pack, no install) into core/openapi/assets, where Go's
# embed picks them up. Only the minimal dist files are kept, with each
# package's licence and a VERSIONS file naming what was fetched.
#   SWAGGER_UI_VERSION, REDOC_VERSION: the exact versions (Makefile pins them).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SWAGGER_UI_VERSION:?set SWAGGER_UI_VERSION}" "${REDOC_VERSION:?set REDOC_VERSION}"
out=core/openapi/assets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$SWAGGER_UI_VERSION" "redoc@$REDOC_VERSION" >/dev/null)
mkdir -p "$tmp/swagger" "$tmp/redoc"
tar xzf "$tmp/swagger-ui-dist-$SWAGGER_UI_VERSION.tgz" -C "$tmp/swagger"
tar xzf "$tmp/redoc-$REDOC_VERSION.tgz" -C "$tmp/redoc"
rm -rf "$out/swagger-ui" "$out/redoc"
mkdir -p "$out/swagger-ui" "$out/redoc"
s=$tmp/swagger/package
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
	cp "$s/$f" "$out/swagger-ui/$f"
done
r=$tmp/redoc/package
cp "$r/bundles/redoc.standalone.js" "$r/bundles/redoc.standalone.js.LICENSE.txt" "$r/LICENSE" "$out/redoc/"
# The bundles end with a sourceMappingURL to a .map file we do not ship:
# drop that comment, so that no browser asks the app for a missing file.
sed -i '/^\/\/# sourceMappingURL=/d' "$out/swagger-ui/swagger-ui-bundle.js" "$out/swagger-ui/swagger-ui.css" "$out/redoc/redoc.standalone.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$out/swagger-ui/swagger-ui.css"
printf 'swagger-ui-dist %s\nredoc %s\n' "$SWAGGER_UI_VERSION" "$REDOC_VERSION" >"$out/VERSIONS"
echo "docs-assets: swagger-ui-dist $SWAGGER_UI_VERSION, redoc $REDOC_VERSION -> $out"
