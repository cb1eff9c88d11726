#!/usr/bin/env bash
# The one test command: starts a throwaway PostgreSQL 15 (and the other real services the tests talk
# to), checks the layering, builds, runs every test, and always cleans up (success, failure or Ctrl-C).
#
#   Scripts/test.sh                 # everything
#   Scripts/test.sh --fast          # the fast lane: domain + use-case tests on SQLite, no PostgreSQL, < 30 s
#   Scripts/test.sh --filter Domain # extra arguments go to `swift test`
#
# Everything runs in two lanes: the parallel lane (most suites, each PostgreSQL test in its own database
# cloned from a migrated template), then the serial lane: suites that share something across suites
# (real processes and ports, a PostgreSQL cluster stopped and started) or measure time and would flake
# under the parallel lane's load.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

# Timing-sensitive or process-heavy suites (regular expression over Swift Testing ids): the serial lane.
SERIAL_LANE='EndToEndTests\.|VPPStorageTests\.ConcurrencyTests|VPPAppleContractTests\.'
SERIAL_LANE+='|VPPUseCaseTests\.MDMUseCaseTests|VPPUseCaseTests\.LedgerRecoveryTests|VPPHTTPAPITests\.ServerBoundsTests'
SERIAL_LANE+='|VPPConsoleTests\.ConsoleSignInTests'  # compares bcrypt timings
# The fast lane: domain and use-case tests without the ones that need PostgreSQL or an SMTP server.
FAST_LANE='VPPDomainTests\.|VPPUseCaseTests\.|VPPCompositionTests\.'
FAST_SKIP='VPPUseCaseTests\.SMTPTests|TokenLifecycleTests/otherTenant'

if [ "${1:-}" = "--fast" ]; then
  shift
  log "fast lane: domain and use-case tests on the embedded SQLite adapter (no PostgreSQL)"
  swift build --build-tests 2>&1 | grep -E "error|/(Modules|Apps|Tests)/.*warning:" || true
  started=$SECONDS
  set +e
  env -u VPP_TEST_DATABASE_URL VPP_TEST_LANE=fast swift test --skip-build --parallel \
    --filter "$FAST_LANE" --skip "$FAST_SKIP" "$@" 2>&1 | grep -vE '^(◇|↳|\[[0-9]+/[0-9]+\])'
  status=${PIPESTATUS[0]}
  log "fast lane: $((SECONDS - started)) s"
  exit "$status"
fi

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
source Scripts/lib/format-check.sh

log "checking the layering"
Scripts/check-layers
Scripts/check-layers --self-test >/dev/null || { Scripts/check-layers --self-test; exit 1; }
# Checked first, failed last: an unformatted file fails the run, after the tests have had their say.
format_status=0
check_format || format_status=$?

log "building (the cross-process tests run the built executables)"
swift build --build-tests 2>&1 | grep -E "error|/(Modules|Apps|Tests)/.*warning:" || true

run_lane() {  # name, swift test arguments...
  local name=$1 started=$SECONDS lane_status
  shift
  log "running swift test: $name"
  swift test --skip-build "$@" 2>&1 | grep -vE '^(◇|↳|\[[0-9]+/[0-9]+\])'
  lane_status=${PIPESTATUS[0]}
  log "$name: $((SECONDS - started)) s (status $lane_status)"
  return "$lane_status"
}
set +e
if [ "$#" -gt 0 ]; then
  run_lane "filtered run" --parallel "$@"
  status=$?
else
  run_lane "parallel lane" --parallel --skip "$SERIAL_LANE"
  status=$?
  run_lane "serial lane" --no-parallel --filter "$SERIAL_LANE"
  serial_status=$?
  [ "$status" -ne 0 ] || status=$serial_status
fi
set -e
# The console in a real browser, against the executables just built (skipped when arguments filter swift test).
if [ "$#" -eq 0 ]; then
  log "running the console's browser tests (Tests/browser)"
  browser_status=0
  run_browser_tests || browser_status=$?
  [ "$status" -ne 0 ] || status=$browser_status
fi
[ "$status" -ne 0 ] || status=$format_status
exit "$status"
