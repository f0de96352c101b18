#!/usr/bin/env bash
# One-time setup on a fresh machine: npm packages, then the system WebGPU driver when no adapter is found.
# Idempotent: re-running it skips whatever is already in place. Needs root (or sudo) only for the driver.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# onnxruntime-node (a test dependency) ships its CPU runtime; its install script would fetch CUDA files from NuGet.
# .npmrc says the same (onnxruntime-node-install=skip) for a plain `npm ci`; npm may stop passing unknown keys on.
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"

say() { printf '[setup] %s\n' "$*" >&2; }

# 1. npm packages (the lockfile pins webgpu@0.6.2, Dawn's node binding).
if [ -d node_modules/webgpu ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  say "npm packages already installed"
else
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# Root or sudo for system packages: sets SUDO, or says what is missing and fails.
SUDO=""
need_root() {
  if [ "$(id -u)" = 0 ]; then return 0; fi
  if command -v sudo >/dev/null; then SUDO="sudo"; return 0; fi
  say "need root (or sudo) to install $1; re-run as root, or install it yourself"
  return 1
}

probe() { node scripts/probe_gpu.mjs 2>/dev/null; }

# 2. A WebGPU adapter: when Dawn already finds one, no driver to install.
ensure_adapter() {
if out=$(probe); then
  say "WebGPU adapter found: $out"
  return 0
fi
say "no WebGPU adapter yet: $out"
need_root "the Vulkan driver (Mesa >= 25 lavapipe)" || exit 1

if [ -r /etc/os-release ]; then . /etc/os-release; fi
case "${ID:-}:${VERSION_CODENAME:-}" in
  debian:bookworm)
    # bookworm's Mesa 22.3 lavapipe lacks what Dawn requires (shaderUniform*ArrayDynamicIndexing);
    # bookworm-backports carries Mesa 25.
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding bookworm-backports to apt's sources"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    fi
    $SUDO apt-get update -qq
    say "installing Mesa's lavapipe (mesa-vulkan-drivers) from bookworm-backports"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    ;;
  debian:*|ubuntu:*)
    $SUDO apt-get update -qq
    say "installing Mesa's lavapipe (mesa-vulkan-drivers); Dawn needs Mesa >= 25"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
    ;;
  *)
    say "unsupported system '${ID:-unknown}': install a Vulkan driver Dawn accepts (a GPU driver, or Mesa >= 25 lavapipe),"
    say "or run the browser build in Chrome with WebGPU. Then re-run: npm run setup"
    exit 1
    ;;
esac

if out=$(probe); then
  say "WebGPU adapter found: $out"
else
  say "still no WebGPU adapter after installing Mesa: $out"
  say "check 'ls /usr/share/vulkan/icd.d/' for lvp_icd*.json and that Mesa is >= 25 (dpkg -l mesa-vulkan-drivers)"
  exit 1
fi
}

# 3. Debian's Chromium for the browser tests (test/browser: headless, --enable-unsafe-webgpu, SwiftShader's WebGPU
#    where there is no GPU). Never a downloaded browser build.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    say "chromium found: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
    return 0
  fi
  if [ -r /etc/os-release ]; then . /etc/os-release; fi
  case "${ID:-}:${ID_LIKE:-}" in
    debian:*|ubuntu:*|*:*debian*)
      need_root "chromium" || exit 1
      say "installing Debian's chromium (apt-get install chromium) for the browser tests"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
      ;;
    *)
      say "no /usr/bin/chromium and no apt here: install Chromium yourself (the browser tests need it; UNET_CHROMIUM=PATH points them elsewhere)"
      exit 1
      ;;
  esac
  [ -x /usr/bin/chromium ] || { say "chromium is still missing after apt-get install"; exit 1; }
  say "chromium installed: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
}

ensure_adapter
ensure_chromium
