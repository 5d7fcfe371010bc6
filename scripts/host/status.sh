# shellcheck shell=bash
# scripts/host/status.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The closing summary: engine, clients and how they build, registry, images, binfmt.

client_builder() {
  local client=$1 version
  version=$("$client" version --format '{{.Client.Version}}' 2>/dev/null || true)
  if "$client" buildx version >/dev/null 2>&1; then
    printf '%s %s: BuildKit via buildx' "$client" "$version"
  elif [[ ${version%%.*} =~ ^[0-9]+$ ]] && ((${version%%.*} < 23)); then
    printf '%s %s: BuildKit built in (DOCKER_BUILDKIT=1)' "$client" "$version"
  else
    printf '%s %s: no buildx, legacy builder only' "$client" "$version"
  fi
}

print_status() {
  local server clients=() c seen=" " images=() img pimages=() binfmt
  server=$("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')
  for c in /usr/bin/docker "$(command -v docker || true)"; do
    [[ -n $c && -x $c && $seen != *" $c "* ]] || continue
    seen+="$c "
    clients+=("$(client_builder "$c")")
  done
  for img in "$BUSYBOX_IMAGE" "$DEBIAN_IMAGE"; do
    if docker_has_image "$img"; then images+=("$img"); fi
    if [[ $PODMAN_OK == 1 ]] && podman_has_image "$img"; then pimages+=("$img"); fi
  done
  if [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then binfmt="qemu-aarch64 registered"; else binfmt="qemu-aarch64 NOT registered"; fi
  local note=""
  if ((WARNINGS)); then note=" ($WARNINGS warnings above)"; fi
  printf '%s: ready in %ss%s\n' "$PROG" "$SECONDS" "$note"
  printf '  engine:   dockerd %s\n' "$server"
  for c in "${clients[@]}"; do printf '  client:   %s\n' "$c"; done
  printf '  registry: http://%s (%s)\n' "$REGISTRY_ADDR" "$(docker-registry --version 2>/dev/null | awk '{print $NF}')"
  printf '  images:   docker: %s\n' "${images[*]:-none}"
  if [[ $PODMAN_OK == 1 ]]; then
    printf '            podman %s: %s\n' "$(podman version --format '{{.Client.Version}}' 2>/dev/null)" "${pimages[*]:-none}"
  else
    printf '            podman: not working\n'
  fi
  printf '  binfmt:   %s\n' "$binfmt"
  printf '  cosign:   %s %s (test-only, from Debian trixie; host apt sources unchanged)\n' "$COSIGN_BIN" "$(cosign_version || echo MISSING)"
  if manifest_list_complete; then
    printf '  multi-arch base: %s:latest (linux/amd64, linux/arm64)\n' "$MULTIARCH_BASE"
  else
    printf '  multi-arch base: %s:latest MISSING\n' "$MULTIARCH_BASE"
  fi
}
