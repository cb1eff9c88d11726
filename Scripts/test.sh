#!/usr/bin/env bash
# The one test command: starts a throwaway PostgreSQL 15 (and the other real services the tests talk
# to), checks the layering, builds, runs every test, and always cleans up (success, failure or Ctrl-C).
#
#   Scripts/test.sh                 # everything
#   Scripts/test.sh --filter Domain # extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_postgres
  declare -F stop_smtp >/dev/null && stop_smtp
  log "stopped the test services"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Python helpers the tests use: PyYAML (docker-compose check), openapi-spec-validator, aiosmtpd (below).
python3 -c 'import yaml, openapi_spec_validator' 2>/dev/null \
  || python3 -m pip install -q pyyaml openapi-spec-validator >/dev/null 2>&1 \
  || python3 -m pip install -q --break-system-packages pyyaml openapi-spec-validator
# schemathesis: the API fuzz pass (Tests/EndToEndTests/FuzzTests.swift).
python3 -c 'import schemathesis' 2>/dev/null \
  || python3 -m pip install -q schemathesis >/dev/null 2>&1 \
  || python3 -m pip install -q --break-system-packages schemathesis

source Scripts/lib/throwaway-postgres.sh
source Scripts/lib/smtp-sink.sh
source Scripts/lib/browser-tests.sh

log "checking the layering"
Scripts/check-layers
Scripts/check-layers --self-test >/dev/null || { Scripts/check-layers --self-test; exit 1; }

log "building (the cross-process tests run the built executables)"
swift build --build-tests 2>&1 | grep -E "error|/(Modules|Apps|Tests)/.*warning:" || true

log "running swift test"
set +e
swift test --no-parallel "$@" 2>&1 | grep -vE '^(◇|↳|\[[0-9]+/[0-9]+\])'
status=${PIPESTATUS[0]}
set -e
# The console in a real browser, against the executables just built (skipped when arguments filter swift test).
if [ "$#" -eq 0 ]; then
  log "running the console's browser tests (Tests/browser)"
  browser_status=0
  run_browser_tests || browser_status=$?
  [ "$status" -ne 0 ] || status=$browser_status
fi
exit "$status"
