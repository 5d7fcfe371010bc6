# shellcheck shell=bash
# scripts/host/processes.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The daemons this script starts (dockerd, the registry): live or stale pid files, logs, and
# waiting until a daemon answers.

# True when process $1 runs. A killed daemon whose parent was this script's (now
# gone) shell stays a zombie until init reaps it, and init here may never do so.
process_alive() {
  local state
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != [ZX] ]]
}

# Prints the pid in a pid file when a process of that name runs with it.
live_pid() {
  local pidfile=$1 name=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(tr -dc 0-9 <"$pidfile")
  [[ -n $pid ]] && process_alive "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
  printf '%s\n' "$pid"
}

# Removes a pid file whose process no longer runs (a killed daemon leaves it behind,
# and dockerd then refuses to start: "pid file found, ensure docker is not running").
remove_stale_pidfile() {
  local pidfile=$1 name=$2
  [[ -e $pidfile ]] || return 0
  if live_pid "$pidfile" "$name" >/dev/null; then return 0; fi
  say "removing stale $pidfile (no $name runs with pid $(tr -dc 0-9 <"$pidfile"))"
  rm -f "$pidfile"
}

rotate_log() {
  if [[ -s $1 ]]; then mv -f "$1" "$1.1"; fi
}

# wait_until WHAT LOG PID CHECK...: polls CHECK once a second for $WAIT_SECONDS;
# stops early when process PID has ended. On failure shows the end of LOG.
wait_until() {
  local what=$1 log=$2 pid=$3 deadline
  shift 3
  deadline=$((SECONDS + WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    if "$@"; then return 0; fi
    if [[ -n $pid ]] && ! process_alive "$pid"; then
      if "$@"; then return 0; fi
      printf '%s: --- last lines of %s ---\n' "$PROG" "$log" >&2
      tail -n 40 "$log" >&2 || true
      die "$what exited before it answered (log: $log)"
    fi
    sleep 1
  done
  printf '%s: --- last lines of %s ---\n' "$PROG" "$log" >&2
  tail -n 40 "$log" >&2 || true
  die "$what did not answer within ${WAIT_SECONDS}s (log: $log)"
}
