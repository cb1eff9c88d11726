#!/usr/bin/env bash
# The one test command: starts a throwaway PostgreSQL 15 (and the other real services the tests talk
# to), checks the layering, builds, runs every test, and always cleans up (success, failure or Ctrl-C).
#
#   Scripts/test.sh                 # everything
#   Scripts/test.sh --fast          # the fast lane: domain + use-case tests on SQLite, no PostgreSQL, < 30 s
#   Scripts/test.sh --filter Domain # extra arguments go to the test binary (Swift Testing's --filter/--skip)
#
# Everything runs in two lanes: the parallel lane (most suites, each PostgreSQL test in its own database
# cloned from a migrated template), then the serial lane: suites that start real processes or measure time
# and would flake under the parallel lane's load. Within the serial lane, two processes run side by side
# (see BESIDE), then the suites that flake beside anything run alone at the end (see ISOLATED). The end prints
# the serial lane's slowest suites and where the time went.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

# Where the time goes: `phase NAME` ends the current phase (recording its seconds) and starts NAME.
PHASES=()
PHASE=""
PHASE_AT=$SECONDS
phase() {
  [ -z "$PHASE" ] || PHASES+=("$(printf '%4d s  %s' $((SECONDS - PHASE_AT)) "$PHASE")")
  PHASE=$1
  PHASE_AT=$SECONDS
}
print_phases() {
  phase ""
  [ "${#PHASES[@]}" -gt 0 ] || return 0
  log "where the time went ($SECONDS s in all):"
  printf '  %s\n' "${PHASES[@]}" >&2
}

# Timing-sensitive or process-heavy suites (regular expression over Swift Testing ids): the serial lane.
SERIAL_LANE='EndToEndTests\.|VPPStorageTests\.ConcurrencyTests|VPPAppleContractTests\.'
SERIAL_LANE+='|VPPUseCaseTests\.MDMUseCaseTests|VPPUseCaseTests\.LedgerRecoveryTests|VPPHTTPAPITests\.ServerBoundsTests'
SERIAL_LANE+='|VPPConsoleTests\.ConsoleSignInTests'  # compares bcrypt timings
# Serial-lane suites run in a second process, one at a time, beside the rest of the serial lane: they are slow
# but neither measure time nor share anything (simulators in-process or on free ports, their own databases).
BESIDE='VPPAppleContractTests\.|EndToEndTests\.FuzzTests'
# Serial-lane suites that run alone, one at a time, with nothing else running: a bcrypt timing comparison, a
# PostgreSQL cluster stopped and started under vppd (503 within 2 s), replicas killed with SIGKILL at random,
# and the MDM deployment: beside other suites it failed in 5 of 8 runs (one cause seen: Apple's notification
# arrived before the sending replica had committed the event's id, so the event waited for its 5-minute poll).
ISOLATED='VPPConsoleTests\.ConsoleSignInTests|EndToEndTests\.DatabaseOutageTests|EndToEndTests\.LedgerChaosTests'
ISOLATED+='|EndToEndTests\.MDMDeploymentTests'
# A proxy that stalls under vppd: answers are timed against the request deadline.
ISOLATED+='|EndToEndTests\.RequestDeadlineTests'
# Apps by declaration: a replica killed while the DDM server answers slowly, devices evaluating after a delay.
ISOLATED+='|EndToEndTests\.DeclarativeDeliveryTests|EndToEndTests\.DeclarativeStatusTests'
# The fast lane: domain and use-case tests without the ones that need PostgreSQL or an SMTP server.
FAST_LANE='VPPDomainTests\.|VPPUseCaseTests\.|VPPCompositionTests\.'
FAST_SKIP='VPPUseCaseTests\.SMTPTests|TokenLifecycleTests/otherTenant'

# The tests' stand-ins (vppsim, mdmsim, receivers, the SMTP sink) listen on loopback: the processes the tests
# start may call them as an operator's allow-list would let them (the suites that check refusals set their own).
export VPP_OUTBOUND_ALLOW="${VPP_OUTBOUND_ALLOW:-127.0.0.1,localhost}"

# The tests run from the built test binary rather than `swift test`: SwiftPM holds the .build lock for the
# whole of a `swift test`, so two of them would run one after the other, and each spends seconds planning.
TEST_BINARY=.build/debug/vppPackageTests.xctest
LANE_LOGS=$(mktemp -d /tmp/vpp-lanes.XXXXXX)
BESIDE_PID=""
# Left out of the output: "started" lines and the library banner (the ↳ lines under a failure stay: they
# carry the expectation's message).
NOISE='^(◇ |↳ (Testing Library Version|Target Platform))'

build() {
  swift build --build-tests 2>&1 | grep -E "error|/(Modules|Apps|Tests)/.*warning:" || true
  [ -x "$TEST_BINARY" ] || { log "the build made no $TEST_BINARY"; return 1; }
}

# name, then arguments for the test binary; prints the output as it comes, keeps a copy for the summary.
run_tests() {
  local name=$1 started=$SECONDS status
  shift
  log "running $name"
  NO_COLOR=1 "$TEST_BINARY" --testing-library swift-testing "$@" 2>&1 | grep -vE "$NOISE" \
    | tee "$LANE_LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '-').log"
  status=${PIPESTATUS[0]}
  log "$name: $((SECONDS - started)) s (status $status)"
  return "$status"
}

# The serial lane's slowest suites (wall time of each, as Swift Testing reports it; in the parallel lane
# every suite's time includes waiting for the others, so it says little).
print_slowest_suites() {
  # A filtered run has no serial-lane logs: nothing to print (and no failure from cat under pipefail).
  { cat "$LANE_LOGS"/serial-lane*.log 2>/dev/null || true; } \
    | sed -nE 's/^[^ ]+ Suite "(.*)" (passed|failed) after ([0-9.]+) seconds.*/\3 \1/p' | sort -rn | head -12 \
    | awk 'NR == 1 { print "[test.sh] slowest suites of the serial lane:" }
           { printf "  %7.1f s  %s\n", $1, substr($0, index($0, " ") + 1) }' >&2
}

if [ "${1:-}" = "--fast" ]; then
  shift
  log "fast lane: domain and use-case tests on the embedded SQLite adapter (no PostgreSQL)"
  build
  set +e
  (unset VPP_TEST_DATABASE_URL; VPP_TEST_LANE=fast run_tests "fast lane" --filter "$FAST_LANE" --skip "$FAST_SKIP" "$@")
  status=$?
  rm -rf "$LANE_LOGS"
  exit "$status"
fi

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -z "$BESIDE_PID" ] || kill "$BESIDE_PID" 2>/dev/null || true
  declare -F stop_postgres >/dev/null && stop_postgres
  declare -F stop_smtp >/dev/null && stop_smtp
  log "stopped the test services"
  print_slowest_suites
  print_phases
  rm -rf "$LANE_LOGS"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase "Python tools (pip, only what is missing)"
# Python helpers the tests use: PyYAML (docker-compose check), openapi-spec-validator, aiosmtpd (below).
python3 -c 'import yaml, openapi_spec_validator' 2>/dev/null \
  || python3 -m pip install -q pyyaml openapi-spec-validator >/dev/null 2>&1 \
  || python3 -m pip install -q --break-system-packages pyyaml openapi-spec-validator
# schemathesis: the API fuzz pass (Tests/EndToEndTests/FuzzTests.swift).
python3 -c 'import schemathesis' 2>/dev/null \
  || python3 -m pip install -q schemathesis >/dev/null 2>&1 \
  || python3 -m pip install -q --break-system-packages schemathesis

phase "PostgreSQL (install when missing, initdb, start)"
source Scripts/lib/throwaway-postgres.sh
phase "PgBouncer (install when missing)"
# EndToEndTests.PgBouncerTests starts its own PgBouncer (transaction pooling) in front of that PostgreSQL.
if [ ! -x /usr/sbin/pgbouncer ]; then
  log "PgBouncer is not installed; installing it (apt-get install pgbouncer)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }
fi
phase "SMTP server"
source Scripts/lib/smtp-sink.sh
phase "browser tools (Chromium, Playwright: only what is missing)"
source Scripts/lib/browser-tests.sh
source Scripts/lib/format-check.sh

phase "layering check"
log "checking the layering"
Scripts/check-layers
Scripts/check-layers --self-test >/dev/null || { Scripts/check-layers --self-test; exit 1; }
phase "format check"
# Checked first, failed last: an unformatted file fails the run, after the tests have had their say.
format_status=0
check_format || format_status=$?

phase "build (swift build --build-tests)"
log "building (the cross-process tests run the built executables)"
build

set +e
if [ "$#" -gt 0 ]; then
  phase "filtered run"
  run_tests "filtered run" "$@"
  status=$?
else
  phase "parallel lane"
  run_tests "parallel lane" --skip "$SERIAL_LANE"
  status=$?
  phase "serial lane, two processes side by side"
  # BESIDE in the background (its output in one piece when it ends), the rest in front.
  beside_log="$LANE_LOGS/serial-lane-beside.log"
  log "running in the background, one at a time: $BESIDE"
  beside_started=$SECONDS
  NO_COLOR=1 "$TEST_BINARY" --testing-library swift-testing --no-parallel --filter "$BESIDE" >"$beside_log" 2>&1 &
  BESIDE_PID=$!
  run_tests "serial lane" --no-parallel --filter "$SERIAL_LANE" --skip "$BESIDE|$ISOLATED"
  serial_status=$?
  wait "$BESIDE_PID"
  beside_status=$?
  BESIDE_PID=""
  grep -vE "$NOISE" "$beside_log"
  log "serial lane, beside: $((SECONDS - beside_started)) s (status $beside_status)"
  phase "serial lane, isolated suites"
  run_tests "serial lane, isolated suites" --no-parallel --filter "$ISOLATED"
  isolated_status=$?
  for lane_status in $serial_status $beside_status $isolated_status; do
    [ "$status" -ne 0 ] || status=$lane_status
  done
fi
set -e
# The console in a real browser, against the executables just built (skipped when arguments filter the tests).
if [ "$#" -eq 0 ]; then
  phase "browser tests"
  log "running the console's browser tests (Tests/browser)"
  browser_status=0
  run_browser_tests || browser_status=$?
  [ "$status" -ne 0 ] || status=$browser_status
fi
# vpp in its production topology through a PostgreSQL failover (Patroni, HAProxy; a switchover and a hard kill
# of the leader under load, about 2 minutes): nothing lost, nothing granted twice, every answer within the
# request deadline. Skipped when arguments filter the tests, or with VPP_SKIP_FAILOVER=1.
if [ "$#" -eq 0 ] && [ -z "${VPP_SKIP_FAILOVER:-}" ]; then
  phase "failover (Scripts/test-ha.sh)"
  failover_status=0
  Scripts/test-ha.sh || failover_status=$?
  [ "$status" -ne 0 ] || status=$failover_status
fi
[ "$status" -ne 0 ] || status=$format_status
exit "$status"
