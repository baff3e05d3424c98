#!/bin/sh
# 73-process-actions: `actionhero actions` (Actionhero's actions-list): per
# action a blank line ("\r\n" as console.log prints it) and
# "--- <name> ---", then per version "  version: <v>", "    <description>",
# "    inputs:" and "      <input>: <JSON of the input definition>".
. "$(dirname "$0")/../lib/lib.sh"

OUT=$("$AH_BIN" actions)
RC=$?
check_eq "exit code" "$RC" 0
RAW=$("$AH_BIN" actions | od -An -c | tr -s ' ' | head -n 2 | tr -d '\n')
check_contains "a block starts with \\r\\n" "$RAW" '\r \n - - -'

# normalise the \r of the blank lines
TXT=$(printf '%s\n' "$OUT" | tr -d '\r')
block() { # name: the block of one action
    printf '%s\n' "$TXT" | awk -v n="--- $1 ---" '$0 == n {p = 1; print; next} /^--- / {p = 0} p && NF {print}'
}
check_eq "status block" "$(block status)" "--- status ---
  version: 1
    I will return some basic information about the API
    inputs:"
check_eq "inputs as JSON" "$(block createChatRoom)" "--- createChatRoom ---
  version: 1
    I will create a chatroom with the given name
    inputs:
      name: {\"required\":true}"
# versions in JS object-key order: integers ascending
check_eq "versions" "$(block versionTest)" "--- versionTest ---
  version: 1
    versionTest
    inputs:
  version: 2
    versionTest
    inputs:
  version: 10
    versionTest
    inputs:"
check_eq "integer versions first, then strings" "$(block versionString | grep version:)" "  version: 1
  version: 2
  version: three"
check_eq "each action listed once" "$(printf '%s\n' "$TXT" | grep -c '^--- versionTest ---$')" 1
check_eq "actions-list is the same command" "$("$AH_BIN" actions-list)" "$OUT"
