# shellcheck shell=bash
# scripts/host/docker-engine.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The docker engine: its daemon.json (merged into an existing one), and dockerd started, or
# restarted when daemon.json changed.

# Merges the wanted keys into an existing daemon.json with node or python3. Prints
# "same", "update", "merged KEY,KEY" (other keys kept) or "invalid"; writes the
# result to $3 unless "same".
merge_daemon_json() {
  local have=$1 want=$2 out=$3
  if command -v node >/dev/null; then
    node -e '
      const fs = require("fs");
      const [file, wantText, outFile] = process.argv.slice(1);
      let have;
      try { have = JSON.parse(fs.readFileSync(file, "utf8")); } catch { have = null; }
      if (have === null || typeof have !== "object" || Array.isArray(have)) {
        console.log("invalid"); process.exit(0);
      }
      const want = JSON.parse(wantText);
      const merged = { ...have };
      for (const [k, v] of Object.entries(want)) {
        merged[k] = Array.isArray(v) && Array.isArray(have[k])
          ? [...have[k], ...v.filter((x) => !have[k].includes(x))] : v;
      }
      if (JSON.stringify(merged) === JSON.stringify(have)) { console.log("same"); process.exit(0); }
      fs.writeFileSync(outFile, JSON.stringify(merged, null, 2) + "\n");
      const extra = Object.keys(have).filter((k) => !(k in want));
      console.log(extra.length ? "merged " + extra.join(",") : "update");
    ' "$have" "$want" "$out"
  elif command -v python3 >/dev/null; then
    python3 -c '
import json, sys
path, want_text, out = sys.argv[1:4]
try:
    with open(path) as f:
        have = json.load(f)
except Exception:
    have = None
if not isinstance(have, dict):
    print("invalid"); sys.exit(0)
want = json.loads(want_text)
merged = dict(have)
for k, v in want.items():
    old = have.get(k)
    merged[k] = old + [x for x in v if x not in old] if isinstance(v, list) and isinstance(old, list) else v
if json.dumps(merged, sort_keys=True) == json.dumps(have, sort_keys=True):
    print("same"); sys.exit(0)
with open(out, "w") as f:
    f.write(json.dumps(merged, indent=2) + "\n")
extra = [k for k in have if k not in want]
print("merged " + ",".join(extra) if extra else "update")
' "$have" "$want" "$out"
  else
    printf 'no-tool\n'
  fi
}

write_daemon_json() {
  local tmp result
  install -d -m 0755 "$(dirname "$DAEMON_JSON")"
  tmp=$(mktemp "$DAEMON_JSON.XXXXXX")
  if [[ ! -e $DAEMON_JSON ]]; then
    printf '%s\n' "$DAEMON_JSON_WANT" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$DAEMON_JSON"
    say "wrote $DAEMON_JSON (bridge none, no iptables, insecure registry $REGISTRY_ADDR)"
    DAEMON_JSON_CHANGED=1
    return 0
  fi
  result=$(merge_daemon_json "$DAEMON_JSON" "$DAEMON_JSON_WANT" "$tmp")
  case $result in
    same)
      rm -f "$tmp"
      say "$DAEMON_JSON already has the needed settings, skipping"
      return 0
      ;;
    update) say "updating $DAEMON_JSON to the needed settings" ;;
    merged\ *) say "merging the needed settings into $DAEMON_JSON (keeping its other keys: ${result#merged })" ;;
    invalid)
      local backup
      backup="$DAEMON_JSON.invalid-$(date +%Y%m%d%H%M%S)"
      cp -p "$DAEMON_JSON" "$backup"
      warn "$DAEMON_JSON is not a JSON object; kept a copy as $backup and wrote a new one"
      printf '%s\n' "$DAEMON_JSON_WANT" >"$tmp"
      ;;
    *)
      rm -f "$tmp"
      die "$DAEMON_JSON exists and differs, and neither node nor python3 is here to merge it: add these keys by hand: $DAEMON_JSON_WANT"
      ;;
  esac
  chmod 0644 "$tmp"
  mv -f "$tmp" "$DAEMON_JSON"
  DAEMON_JSON_CHANGED=1
}

docker_answers() { timeout 20 "$DOCKER" info >/dev/null 2>&1; }

start_dockerd() {
  local pid
  rotate_log "$DOCKERD_LOG"
  # fd 9 holds this script's lock: the daemon must not inherit it.
  setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  wait_until dockerd "$DOCKERD_LOG" "$pid" docker_answers
  say "dockerd answers (pid $pid, log $DOCKERD_LOG)"
}

stop_dockerd() {
  local pid=$1 i
  kill -TERM "$pid"
  for ((i = 0; i < 30; i++)); do
    process_alive "$pid" || return 0
    sleep 1
  done
  die "dockerd (pid $pid) did not stop within 30s after SIGTERM"
}

ensure_dockerd() {
  local pid
  if docker_answers; then
    if [[ $DAEMON_JSON_CHANGED == 1 ]]; then
      if pid=$(live_pid "$DOCKER_PIDFILE" dockerd); then
        say "restarting dockerd (pid $pid) so that it reads the new $DAEMON_JSON"
        stop_dockerd "$pid"
        start_dockerd
      else
        warn "$DAEMON_JSON changed but the answering daemon is not a local dockerd of $DOCKER_PIDFILE: restart it yourself to apply it"
      fi
    else
      say "dockerd already answers, skipping"
    fi
    return 0
  fi
  if pid=$(live_pid "$DOCKER_PIDFILE" dockerd); then
    say "dockerd (pid $pid) runs but does not answer yet, waiting for it"
    wait_until dockerd "$DOCKERD_LOG" "$pid" docker_answers
    say "dockerd answers"
    return 0
  fi
  remove_stale_pidfile "$DOCKER_PIDFILE" dockerd
  # dockerd's own containerd dies with it but may linger as a zombie; dockerd would
  # take it for "still running" and fail after 15 s ("timeout waiting for containerd").
  remove_stale_pidfile "$CONTAINERD_PIDFILE" containerd
  say "starting dockerd (log $DOCKERD_LOG)"
  start_dockerd
}
