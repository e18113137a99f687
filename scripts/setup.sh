#!/usr/bin/env bash
# Installs what building and testing palaute needs, idempotently: Debian
# packages, the wasm32 target, the wasm-bindgen CLI at the exact version in
# Cargo.lock, and the npm packages of package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
GECKODRIVER_VERSION=0.37.1

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v brotli >/dev/null || need_apt+=(brotli)
command -v gzip >/dev/null || need_apt+=(gzip)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v clickhouse-server >/dev/null || need_apt+=(clickhouse-server)
# The end-to-end tests' other engines (tests/e2e/engine-*.test.mjs):
# Firefox ESR, WebKitGTK's WebDriver (with its MiniBrowser) and the X
# server it needs.
command -v firefox-esr >/dev/null || need_apt+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || need_apt+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || need_apt+=(xvfb)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# rust-src: the release wasm module builds its own std (scripts/build-client.sh).
for component in clippy rustfmt rust-src; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  echo "setup: cargo install wasm-bindgen-cli $version (a few minutes, once)"
  cargo install -q wasm-bindgen-cli --version "$version"
fi

# Firefox's WebDriver: from crates.io (the npm package of that name
# downloads a binary from the internet at install time).
if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
  echo "setup: cargo install geckodriver $GECKODRIVER_VERSION (a few minutes, once)"
  cargo install -q geckodriver --version "$GECKODRIVER_VERSION" --locked
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
