# shellcheck shell=bash
# scripts/host/basics.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# What every part uses: messages (say, warn, die), commands logged to $SETUP_LOG, and
# temporary directories removed when the script ends.

say() { if [[ $QUIET == 0 ]]; then printf '%s: %s\n' "$PROG" "$*"; fi; }
warn() {
  WARNINGS=$((WARNINGS + 1))
  printf '%s: WARNING: %s\n' "$PROG" "$*" >&2
}
die() {
  printf '%s: ERROR: %s\n' "$PROG" "$*" >&2
  exit 1
}

# Appends a header and the output of a command to $SETUP_LOG; on failure shows the
# end of that log and stops. Standard input is /dev/null: nothing may prompt.
run_logged() {
  local what=$1
  shift
  say "$what"
  printf '\n== %s %s\n' "$(date '+%F %T')" "$*" >>"$SETUP_LOG"
  if ! "$@" >>"$SETUP_LOG" 2>&1 </dev/null; then
    printf '%s: --- last lines of %s ---\n' "$PROG" "$SETUP_LOG" >&2
    tail -n 30 "$SETUP_LOG" >&2
    die "failed: $what (full log: $SETUP_LOG)"
  fi
}

cleanup() {
  local dir
  if [[ $POLICY_RC_OURS == 1 ]]; then rm -f "$POLICY_RC"; fi
  for dir in "${TMP_DIRS[@]}"; do
    [[ -d $dir ]] || continue
    # debootstrap mounts proc and sys inside its target; never delete through a mount.
    findmnt -rno TARGET | grep -F "$dir/" | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf --one-file-system "$dir"
  done
}

# Sets TMP_DIR to a new directory that is removed when the script ends (not in a
# $(...) subshell: the list of directories to remove must be this shell's).
make_tmp_dir() {
  TMP_DIR=$(mktemp -d /var/tmp/kbuild-setup.XXXXXX)
  TMP_DIRS+=("$TMP_DIR")
}
