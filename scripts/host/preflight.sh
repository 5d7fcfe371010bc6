# shellcheck shell=bash
# scripts/host/preflight.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# Is this a Debian host, as root? If not, say so and print what to do by hand.

print_manual_steps() {
  cat >&2 <<EOF

$PROG does its work only on Debian (12, bookworm) as root. On this host, do by hand:
  1. Install a container engine with BuildKit (docker 20.10+ with DOCKER_BUILDKIT=1,
     or docker with buildx), a Docker Distribution registry (docker-registry / registry:2),
     podman and skopeo (optional), busybox (static), debootstrap, curl, and
     qemu-user-static + binfmt-support for other architectures.
     On Debian: apt-get install -y ${PACKAGES[*]}
  2. Write $DAEMON_JSON with at least:
       $DAEMON_JSON_WANT
     (no bridge network: every build then passes --network host or --network none).
  3. Start dockerd (setsid dockerd >$DOCKERD_LOG 2>&1 &) and check that 'docker info' answers.
  4. Run a registry on $REGISTRY_ADDR only (loopback), delete enabled, e.g. with
       version: 0.1
       storage: {filesystem: {rootdirectory: $REGISTRY_DATA}, delete: {enabled: true}}
       http: {addr: $REGISTRY_ADDR}
     and 'docker-registry serve CONFIG'; check: curl -fsS http://$REGISTRY_ADDR/v2/
  5. Make the base images: $DEBIAN_IMAGE (debootstrap --variant=minbase $DEBIAN_SUITE DIR MIRROR,
     then tar -C DIR -c . | docker import --change 'CMD ["bash"]' - $DEBIAN_IMAGE) and
     $BUSYBOX_IMAGE (a rootfs with a static /bin/busybox and its applet links,
     imported with --change 'CMD ["sh"]').
  6. For the signing tests only: cosign 2.x at $COSIGN_BIN (e.g. extracted with dpkg-deb -x
     from Debian trixie's cosign package, or cosign's own release binary).
EOF
}

# Prints one field of /etc/os-release (empty when absent).
os_field() {
  sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | head -n 1 | tr -d "\"'"
}

check_host() {
  local problems=() id pretty
  id=$(os_field ID)
  pretty=$(os_field PRETTY_NAME)
  pretty=${pretty:-${id:-unknown}}
  if [[ $id != debian ]]; then
    problems+=("this host is '$pretty', not Debian")
  elif ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
    problems+=("apt-get or dpkg-query is missing")
  fi
  if [[ $(id -u) != 0 ]]; then
    problems+=("this runs as uid $(id -u), not root (try: sudo $0${*:+ $*})")
  fi
  if ((${#problems[@]})); then
    local p
    for p in "${problems[@]}"; do printf '%s: ERROR: %s\n' "$PROG" "$p" >&2; done
    print_manual_steps
    exit 2
  fi
  local codename
  codename=$(os_field VERSION_CODENAME)
  if [[ $codename != "$DEBIAN_SUITE" ]]; then
    warn "made for Debian 12 ($DEBIAN_SUITE); this is '$pretty': package versions may differ"
  fi
}
