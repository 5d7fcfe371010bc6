# shellcheck shell=bash
# scripts/host/registry.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The registry on $REGISTRY_ADDR (loopback only, delete enabled): its config, and the daemon.

registry_answers() { curl -fsS --max-time 5 -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

write_registry_config() {
  local want
  want="# written by kbuild scripts/setup-host.sh: loopback only, delete enabled
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
"
  install -d -m 0755 "$REGISTRY_DIR" "$REGISTRY_DATA"
  if [[ -f $REGISTRY_CONFIG && $(<"$REGISTRY_CONFIG")$'\n' == "$want" ]]; then
    return 1
  fi
  printf '%s' "$want" >"$REGISTRY_CONFIG"
  say "wrote $REGISTRY_CONFIG (listen $REGISTRY_ADDR, storage $REGISTRY_DATA, delete enabled)"
  return 0
}

ensure_registry() {
  local changed=0 pid
  if write_registry_config; then changed=1; fi
  if registry_answers; then
    if [[ $changed == 1 ]]; then
      warn "a registry already answers on $REGISTRY_ADDR; restart it to apply the new $REGISTRY_CONFIG"
    else
      say "registry already answers on http://$REGISTRY_ADDR/v2/, skipping"
    fi
    return 0
  fi
  local holder=""
  if command -v ss >/dev/null; then
    holder=$(ss -Hltnp "sport = :${REGISTRY_ADDR##*:}" 2>/dev/null | head -n 1)
  fi
  if [[ -n $holder ]]; then
    die "port ${REGISTRY_ADDR##*:} is taken by something that does not answer http://$REGISTRY_ADDR/v2/: $holder"
  fi
  say "starting the registry on $REGISTRY_ADDR (log $REGISTRY_LOG)"
  rotate_log "$REGISTRY_LOG"
  setsid docker-registry serve "$REGISTRY_CONFIG" >"$REGISTRY_LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  wait_until "the registry" "$REGISTRY_LOG" "$pid" registry_answers
  say "registry answers on http://$REGISTRY_ADDR/v2/ (pid $pid)"
}
