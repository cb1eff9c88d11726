# Sourced by Scripts/test.sh: fails when a tracked Swift file differs from what `swift format` (the
# toolchain's formatter, with the checked-in .swift-format) would make of it, and names each such file.
# It compares with the formatter's output rather than using `swift format lint --strict`, because lint
# also reports what the formatter cannot fix (a long string literal), which would fail the check forever.
# Needs: log() defined by the caller. Fix a file with `swift format -i FILE`.

check_format() {
  local copy unformatted count
  copy=$(mktemp -d /tmp/vpp-format.XXXXXX)
  # Format a copy of the tracked files in one parallel formatter run, then compare file by file.
  git ls-files -z '*.swift' | xargs -0 cp --parents -t "$copy"
  count=$(git ls-files '*.swift' | wc -l)
  swift format format --configuration .swift-format --in-place --parallel --recursive "$copy" 2>/dev/null
  unformatted=$(git ls-files '*.swift' | while read -r file; do cmp -s "$file" "$copy/$file" || echo "$file"; done)
  rm -rf "$copy"
  if [ -n "$unformatted" ]; then
    log "these Swift files are not formatted (fix with: swift format -i FILE):"
    printf '  %s\n' $unformatted >&2
    return 1
  fi
  log "every Swift file is formatted ($count files)"
}
