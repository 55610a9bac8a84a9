#!/usr/bin/env bash
# Installs the non-npm tools the test suite uses (promtool and prometheus, from Debian's prometheus
# package or Homebrew) when they are missing; npm ci brings everything else. Used by .ci/run and by
# the README's test command. Never fails the caller: a tool it cannot install is named, and the
# tests that need it then fail with the same hint.
set -uo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq prometheus >/dev/null; } \
    || echo "could not install Debian's prometheus package: the serve metrics tests will fail"
elif command -v brew >/dev/null; then
  brew install prometheus >/dev/null || echo "could not install prometheus with brew: the serve metrics tests will fail"
else
  echo "no apt-get or brew to install prometheus (promtool): the serve metrics tests will fail"
fi
exit 0
