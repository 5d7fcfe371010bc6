# shellcheck shell=bash
# scripts/host/multiarch.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# Other architectures: qemu binfmt handlers, and the amd64 + arm64 busybox base in the registry.

setup_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc
  if [[ -e $dir/qemu-aarch64 ]] && grep -qx enabled "$dir/qemu-aarch64"; then
    say "qemu binfmt handlers already registered (arm64 and others), skipping"
    return 0
  fi
  say "registering qemu binfmt handlers (arm64 and others)"
  if ! mountpoint -q "$dir"; then
    if ! mount -t binfmt_misc binfmt_misc "$dir" >>"$SETUP_LOG" 2>&1; then
      warn "could not mount $dir: foreign-architecture RUN steps will not work (ignored)"
      return 0
    fi
  fi
  {
    update-binfmts --import qemu-aarch64 || true
    update-binfmts --enable || true
  } >>"$SETUP_LOG" 2>&1 </dev/null
  if [[ -e $dir/qemu-aarch64 ]] && grep -qx enabled "$dir/qemu-aarch64"; then
    say "qemu-aarch64 registered"
  else
    warn "qemu-aarch64 binfmt registration failed (see $SETUP_LOG); arm64 RUN steps will not work (ignored)"
  fi
}

# A multi-platform base in the loopback registry (amd64 + arm64 busybox under one manifest list),
# as a multi-arch family's external base comes from a registry: BuildKit takes each platform's
# image from the list. The arm64 busybox is Debian's busybox-static:arm64.
manifest_list_complete() {
  curl -fsS --max-time 5 -H "Accept: application/vnd.docker.distribution.manifest.list.v2+json" \
    "http://$REGISTRY_ADDR/v2/${MULTIARCH_BASE#"$REGISTRY_ADDR"/}/manifests/latest" 2>/dev/null |
    grep -q '"architecture": *"arm64"'
}

ensure_multiarch_base() {
  local deb root
  if manifest_list_complete; then
    say "$MULTIARCH_BASE:latest (amd64 + arm64) already in the registry, skipping"
    return 0
  fi
  make_tmp_dir
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    # shellcheck disable=SC2034 # read by apt_update_once (packages.sh)
    APT_UPDATED=0
  fi
  apt_update_once
  (cd "$TMP_DIR" && run_logged "downloading busybox-static:arm64" apt-get download busybox-static:arm64)
  deb=$(ls "$TMP_DIR"/busybox-static_*_arm64.deb)
  dpkg-deb -x "$deb" "$TMP_DIR/arm64-deb"
  root=$TMP_DIR/ctx/rootfs
  build_busybox_rootfs "$root" "$TMP_DIR/arm64-deb/bin/busybox"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=%s\nCMD ["sh"]\n' "$BUSYBOX_PATH" >"$TMP_DIR/ctx/Dockerfile"
  run_logged "building the arm64 busybox image" env DOCKER_BUILDKIT=1 "$DOCKER" build \
    --platform linux/arm64 --network none -t "$MULTIARCH_BASE:arm64" "$TMP_DIR/ctx"
  "$DOCKER" tag "$BUSYBOX_IMAGE" "$MULTIARCH_BASE:amd64"
  run_logged "pushing $MULTIARCH_BASE:amd64" "$DOCKER" push "$MULTIARCH_BASE:amd64"
  run_logged "pushing $MULTIARCH_BASE:arm64" "$DOCKER" push "$MULTIARCH_BASE:arm64"
  "$DOCKER" manifest rm "$MULTIARCH_BASE:latest" >/dev/null 2>&1 || true
  run_logged "writing the manifest list $MULTIARCH_BASE:latest" env DOCKER_CLI_EXPERIMENTAL=enabled \
    "$DOCKER" manifest create --insecure "$MULTIARCH_BASE:latest" "$MULTIARCH_BASE:amd64" "$MULTIARCH_BASE:arm64"
  run_logged "pushing $MULTIARCH_BASE:latest" env DOCKER_CLI_EXPERIMENTAL=enabled \
    "$DOCKER" manifest push --insecure --purge "$MULTIARCH_BASE:latest"
  manifest_list_complete || die "$MULTIARCH_BASE:latest does not list arm64 after pushing it"
}
