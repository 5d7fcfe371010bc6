# shellcheck shell=bash
# scripts/host/podman.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# podman beside docker: its container ulimits on this host, and docker's base images copied in.

check_podman() {
  if ! command -v podman >/dev/null; then
    warn "podman is not installed; skipping podman images"
    return 0
  fi
  if podman info >>"$SETUP_LOG" 2>&1 </dev/null; then
    # shellcheck disable=SC2034 # read by main and print_status
    PODMAN_OK=1
  else
    warn "'podman info' fails (see $SETUP_LOG); skipping podman images"
  fi
}

# Without CAP_SYS_RESOURCE (this host's root lacks it) every 'podman run' fails with
# "error setting rlimit type 7: operation not permitted": rootful podman gives
# containers nofile and nproc 1048576, above the hard limits of its own process (it
# lowers its own nproc to 32768 at start). Containers get those hard limits instead.
ensure_podman_ulimits() {
  local capeff nofile nproc want
  capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
  if [[ -n $capeff ]] && (((16#$capeff >> 24) & 1)); then
    say "root has CAP_SYS_RESOURCE: podman needs no ulimit settings, skipping"
    return 0
  fi
  nofile=$(ulimit -Hn)
  if [[ $nofile == unlimited ]] || ((nofile > 1048576)); then nofile=1048576; fi
  nproc=$(ulimit -Hu)
  if [[ $nproc == unlimited ]] || ((nproc > 32768)); then nproc=32768; fi
  want="# written by kbuild scripts/setup-host.sh: root here lacks CAP_SYS_RESOURCE, so
# podman's default container ulimits (1048576) exceed what it may set.
[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]
"
  if [[ -f $PODMAN_ULIMITS_CONF && $(<"$PODMAN_ULIMITS_CONF")$'\n' == "$want" ]]; then
    say "podman ulimits already set in $PODMAN_ULIMITS_CONF, skipping"
    return 0
  fi
  install -d -m 0755 "$(dirname "$PODMAN_ULIMITS_CONF")"
  printf '%s' "$want" >"$PODMAN_ULIMITS_CONF"
  say "wrote $PODMAN_ULIMITS_CONF (container ulimits nofile=$nofile nproc=$nproc: root lacks CAP_SYS_RESOURCE)"
}

# The same images in podman's store, copied from docker's so both engines build on
# identical bases: docker save | podman load keeps the image ID; podman names them
# localhost/NAME, which 'FROM NAME' in podman builds finds.
copy_image_to_podman() {
  local image=$1
  if podman_has_image "$image"; then
    say "podman image $image already present, skipping"
    return 0
  fi
  if ! docker_has_image "$image"; then return 0; fi
  run_logged "copying $image from docker into podman" \
    docker_save_to_podman "$image"
}

docker_save_to_podman() { "$DOCKER" save "$1" | podman load; }

podman_runs() {
  podman_has_image "$BUSYBOX_IMAGE" || return 0
  podman run --rm --network none "$BUSYBOX_IMAGE" true >>"$SETUP_LOG" 2>&1 </dev/null
}
