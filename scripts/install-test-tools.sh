#!/usr/bin/env bash
# Installs the non-npm tools the test suite uses when they are missing: promtool and prometheus
# (Debian's or Homebrew's prometheus package) and ruby (`ruby -c` checks the Homebrew formula);
# npm ci brings everything else. Used by .ci/run and by the README's test command. Never fails the
# caller: a tool it cannot install is named, and the tests that need it then fail (prometheus) or
# say they were skipped (ruby).
set -uo pipefail

packages=()
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then packages+=(prometheus); fi
if ! command -v ruby >/dev/null; then packages+=(ruby); fi
if [ "${#packages[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; fi
fi
if command -v apt-get >/dev/null; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "not root and no sudo to install Debian's ${packages[*]} package(s): the tests that use them will fail or be skipped"
    exit 0
  fi
  # Only the binaries are wanted: no recommends (prometheus-node-exporter would serve the machine's
  # metrics on :9100), and the Prometheus server the package starts and enables under systemd (on
  # :9090, every interface) is stopped and disabled again; the tests run their own on a free port.
  if { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }; then
    if [[ " ${packages[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
      $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    fi
  else
    echo "could not install Debian's ${packages[*]} package(s): the tests that use them will fail or be skipped"
  fi
elif command -v brew >/dev/null; then
  brew install "${packages[@]}" >/dev/null \
    || echo "could not install ${packages[*]} with brew: the tests that use them will fail or be skipped"
else
  echo "no apt-get or brew to install ${packages[*]}: the tests that use them will fail or be skipped"
fi
exit 0
