# shellcheck shell=bash
# scripts/host/base-images.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The base images made here, since nothing can be pulled: $BUSYBOX_IMAGE from busybox-static and
# $DEBIAN_IMAGE from debootstrap, imported into docker.

docker_has_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
podman_has_image() { podman image exists "$1" >/dev/null 2>&1; }

# Prints "SITE" of the first apt source for a suite (apt's own view of its sources,
# whatever their format: sources.list, .list or deb822 .sources, mirrors, proxies).
apt_site_for() {
  # shellcheck disable=SC2016 # $(SITE) is apt's format syntax, not the shell's
  apt-get indextargets --format '$(SITE) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
    awk -v suite="$1" '$2 == suite { print $1; exit }'
}

tar_import_docker() {
  local dir=$1 image=$2
  shift 2
  # stdin of the import is the tar stream; -o pipefail makes a tar failure count.
  tar --numeric-owner -C "$dir" -cf - . | "$DOCKER" import "$@" - "$image"
}

# build_busybox_rootfs ROOT [BUSYBOX]: a rootfs of a static busybox (default: this host's) and
# its applet links; another architecture's busybox lists its applets through qemu binfmt.
build_busybox_rootfs() {
  local root=$1 busybox=${2:-} path applet found d
  if [[ -z $busybox ]]; then
    busybox=$(command -v busybox || true)
    [[ -x /bin/busybox ]] && busybox=/bin/busybox
  fi
  [[ -n $busybox ]] || die "busybox (busybox-static) is not installed"
  if ! "$busybox" --list-full >/dev/null 2>&1; then
    die "$busybox cannot list its applets (is it busybox-static?)"
  fi
  install -d -m 0755 "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,var,home}
  install -d -m 0700 "$root/root"
  install -d -m 1777 "$root/tmp"
  chmod 1777 "$root/tmp"
  install -m 0755 "$busybox" "$root/bin/busybox"
  while read -r path; do
    [[ -n $path && $path != bin/busybox ]] || continue
    [[ -e $root/$path || -L $root/$path ]] && continue
    mkdir -p "$root/$(dirname "$path")"
    ln -s /bin/busybox "$root/$path"
  done < <("$busybox" --list-full)
  for applet in "${BUSYBOX_APPLETS[@]}"; do
    found=0
    for d in bin sbin usr/bin usr/sbin; do
      if [[ -L $root/$d/$applet ]]; then found=1; fi
    done
    [[ $found == 1 ]] || warn "busybox has no '$applet' applet; $BUSYBOX_IMAGE lacks it"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  chmod 0644 "$root/etc/passwd" "$root/etc/group"
}

ensure_busybox_image() {
  local root
  if docker_has_image "$BUSYBOX_IMAGE"; then
    say "docker image $BUSYBOX_IMAGE already present, skipping"
    return 0
  fi
  make_tmp_dir
  root=$TMP_DIR/rootfs
  say "making $BUSYBOX_IMAGE from busybox-static"
  build_busybox_rootfs "$root"
  run_logged "importing $BUSYBOX_IMAGE into docker" \
    tar_import_docker "$root" "$BUSYBOX_IMAGE" \
    --change 'CMD ["sh"]' --change "ENV PATH=$BUSYBOX_PATH"
}

debootstrap_rootfs() {
  local root=$1 mirror=$2 updates=$3 security=$4 include=()
  if [[ $mirror == https:* ]]; then include=(--include=ca-certificates); fi
  run_logged "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror (30-60 s)" \
    debootstrap --variant=minbase "${include[@]}" "$DEBIAN_SUITE" "$root" "$mirror"
  # Sources that apt in containers built FROM this image uses (with --network host).
  {
    printf 'deb %s %s main\n' "$mirror" "$DEBIAN_SUITE"
    printf 'deb %s %s-updates main\n' "$updates" "$DEBIAN_SUITE"
    if [[ -n $security ]]; then printf 'deb %s %s-security main\n' "$security" "$DEBIAN_SUITE"; fi
  } >"$root/etc/apt/sources.list"
  # As in Debian's official images: no .deb or package caches left in layers.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  # apt of this host goes through a proxy: so does apt in the image.
  local proxy=""
  eval "$(apt-config shell proxy Acquire::http::Proxy)"
  if [[ -n $proxy ]]; then
    printf 'Acquire::http::Proxy "%s";\n' "$proxy" >"$root/etc/apt/apt.conf.d/01proxy"
  fi
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  printf 'localhost\n' >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  [[ -x $root/bin/bash ]] || die "debootstrap made no $root/bin/bash"
}

ensure_debian_image() {
  local root mirror updates security proxy=""
  if [[ $DEBIAN_BASE == 0 ]]; then
    say "--no-debian-base: not making $DEBIAN_IMAGE"
    return 0
  fi
  if docker_has_image "$DEBIAN_IMAGE"; then
    say "docker image $DEBIAN_IMAGE already present, skipping"
    return 0
  fi
  mirror=${KBUILD_DEBIAN_MIRROR:-$(apt_site_for "$DEBIAN_SUITE")}
  if [[ -z $mirror ]]; then
    mirror=http://deb.debian.org/debian
    warn "apt has no source for $DEBIAN_SUITE; using $mirror"
  fi
  mirror=${mirror%/}
  if [[ -n ${KBUILD_DEBIAN_MIRROR:-} ]]; then
    updates=$mirror
  else
    updates=$(apt_site_for "$DEBIAN_SUITE-updates")
    updates=${updates:-$mirror}
  fi
  security=$(apt_site_for "$DEBIAN_SUITE-security")
  eval "$(apt-config shell proxy Acquire::http::Proxy)"
  if [[ -n $proxy ]]; then export http_proxy=$proxy; fi
  make_tmp_dir
  root=$TMP_DIR/rootfs
  debootstrap_rootfs "$root" "$mirror" "${updates%/}" "${security%/}"
  run_logged "importing $DEBIAN_IMAGE into docker" \
    tar_import_docker "$root" "$DEBIAN_IMAGE" \
    --change 'CMD ["bash"]' --change "ENV PATH=$DEBIAN_PATH"
  rm -rf --one-file-system "$root"
  say "checking that apt in $DEBIAN_IMAGE reaches its sources (--network host)"
  if ! "$DOCKER" run --rm --network host "$DEBIAN_IMAGE" apt-get update -q >>"$SETUP_LOG" 2>&1 </dev/null; then
    warn "'apt-get update' fails inside $DEBIAN_IMAGE (see $SETUP_LOG): RUN apt-get steps in builds will fail"
  fi
}
