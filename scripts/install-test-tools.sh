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
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null; } \
    || echo "could not install Debian's ${packages[*]} package(s): the tests that use them will fail or be skipped"
elif command -v brew >/dev/null; then
  brew install "${packages[@]}" >/dev/null \
    || echo "could not install ${packages[*]} with brew: the tests that use them will fail or be skipped"
else
  echo "no apt-get or brew to install ${packages[*]}: the tests that use them will fail or be skipped"
fi
exit 0
