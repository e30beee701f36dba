#!/usr/bin/env bash
# Installs @spiketrack/neurons as a newcomer would: `npm pack` the built package, install the
# tarball and tfjs from the registry into an empty project outside the monorepo, and run the
# first JavaScript code block of the package README unchanged. Workspace links cannot hide a
# missing dependency there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/spiketrack-newcomer.XXXXXX)"
trap 'rm -rf "$work"' EXIT

(cd "$root/packages/neurons" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/spiketrack-neurons-*.tgz)"
cd "$work"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --silent "$tarball" @tensorflow/tfjs@^4.22.0

# The first ```js / ```javascript block of the README, byte for byte.
awk '/^```(js|javascript)$/ { if (!done) { inblock=1; next } } /^```$/ { if (inblock) { inblock=0; done=1 } } inblock { print }' \
  "$root/packages/neurons/README.md" > example.mjs
if [ ! -s example.mjs ]; then
  echo "newcomer-check: packages/neurons/README.md has no \`\`\`js code block" >&2
  exit 1
fi
echo "--- running the README example in $work"
node example.mjs
echo "--- newcomer install OK"
