# Sourced by Scripts/test.sh: the web console's browser tests (Tests/browser, pytest) drive Debian's
# Chromium through Playwright for Python, with axe-core (axe-playwright-python), against the built vppd
# and vppsim. Installs what is missing (apt-get chromium; pip playwright, axe-playwright-python, pytest);
# Playwright's own browser download is never used. Screenshots: .build/console-screenshots. Needs: log().

CONSOLE_CHROMIUM=${CONSOLE_CHROMIUM:-/usr/lib/chromium/chromium}
if [ ! -x "$CONSOLE_CHROMIUM" ]; then
  log "installing Debian's chromium (apt-get)"
  (apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1; }) \
    || { log "cannot install chromium"; exit 1; }
fi
if ! python3 -c 'import playwright, axe_playwright_python, pytest' 2>/dev/null; then
  log "installing playwright, axe-playwright-python and pytest (pip)"
  python3 -m pip install -q playwright axe-playwright-python pytest >/dev/null 2>&1 \
    || python3 -m pip install -q --break-system-packages playwright axe-playwright-python pytest
fi
export CONSOLE_CHROMIUM CONSOLE_SCREENSHOTS=${CONSOLE_SCREENSHOTS:-$PWD/.build/console-screenshots}

# Runs the suite; returns pytest's status, treating "no test collected" (5) as a failure too.
run_browser_tests() {
  local status=0
  python3 -m pytest Tests/browser -q -p no:cacheprovider || status=$?
  if [ "$status" -eq 5 ]; then log "browser tests: none collected (failure)"; return 1; fi
  log "browser tests: $([ "$status" -eq 0 ] && echo passed || echo FAILED); screenshots in $CONSOLE_SCREENSHOTS"
  return "$status"
}
