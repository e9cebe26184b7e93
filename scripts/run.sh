#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the main job: `exitbrain demo` (both services and
# the price/signal feed on a local Redis it starts itself). Arguments go to `exitbrain demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
EXITBRAIN_SETUP_DEPLOY_TOOLS=0 EXITBRAIN_SETUP_CCXT=0 bash scripts/setup.sh
swift build -c release --product exitbrain
exec .build/release/exitbrain demo "$@"
