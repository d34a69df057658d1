#!/usr/bin/env bash
# Puts the third-party browser code the web client serves into web-client/vendor/, from the npm
# packages pinned in vendor/package-lock.json: hls.js (its light ES module build), which plays a
# session's HLS stream in browsers without HLS of their own (Android, desktop). Nothing is
# fetched at run time: forumd serves these files like the rest of the web client. Run by
# scripts/build.sh; `npm ci` runs only when the lockfile changed since the last copy.
#   FORUM_VENDOR_OPTIONAL=1  warn instead of failing when npm cannot install (offline builds:
#                            the viewer page then plays HLS only where the browser can)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=web-client/vendor
stamp=vendor/node_modules/.forum-lock-copied
if [ ! -f "$stamp" ] || ! cmp -s vendor/package-lock.json "$stamp" || \
   [ ! -f "$dest/hls.light.min.mjs" ]; then
  if ! (cd vendor && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    if [ "${FORUM_VENDOR_OPTIONAL:-}" = 1 ]; then
      echo "warning: npm could not install vendor/ (hls.js): HLS plays only where browsers play it natively" >&2
      exit 0
    fi
    echo "npm ci in vendor/ failed (set FORUM_VENDOR_OPTIONAL=1 to build without hls.js)" >&2
    exit 1
  fi
  mkdir -p "$dest"
  cp vendor/node_modules/hls.js/dist/hls.light.min.mjs "$dest/hls.light.min.mjs"
  cp vendor/node_modules/hls.js/LICENSE "$dest/hls.js-LICENSE.txt"
  cp vendor/package-lock.json "$stamp"
fi
