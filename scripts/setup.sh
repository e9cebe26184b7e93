#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test ExitBrain:
# hiredis headers, redis-server/redis-tools, pkg-config, openssl and CA certificates (https
# alerts and their tests), and (for the deployment checks)
# docker-compose and prometheus's promtool. Installs only what is missing.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in libhiredis-dev redis-server redis-tools pkg-config openssl ca-certificates; do
  have_pkg "$pkg" || need+=("$pkg")
done
if [ "${EXITBRAIN_SETUP_DEPLOY_TOOLS:-1}" = "1" ]; then
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  command -v promtool >/dev/null 2>&1 || need+=(prometheus)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ccxt (PyPI), for the test that drives the venue simulator with a third-party Binance client,
# and redis-py, for the benchmarks' Python reference executor, in a virtual environment of the
# project's own (.venv-tests), so no system Python is touched.
if [ "${EXITBRAIN_SETUP_CCXT:-1}" = "1" ] && ! .venv-tests/bin/python3 -c "import ccxt, redis" >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    echo "setup: installing python3 python3-venv"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  echo "setup: installing ccxt and redis-py into .venv-tests"
  rm -rf .venv-tests
  python3 -m venv .venv-tests
  .venv-tests/bin/python3 -m pip install --quiet --disable-pip-version-check ccxt==4.5.90 redis==5.2.1
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH; install the Swift 6.3 toolchain (swift.org) first" >&2
  exit 1
fi
echo "setup: ok ($(swift --version 2>/dev/null | head -1); hiredis $(pkg-config --modversion hiredis); $(redis-server --version | awk '{print $3}'); ccxt $(.venv-tests/bin/python3 -c 'import ccxt; print(ccxt.__version__)' 2>/dev/null || echo none))"
