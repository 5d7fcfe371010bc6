# shellcheck shell=bash
# scripts/host/cosign.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The real cosign CLI, for the signing tests only (kbuild signs in-process, without it):
# cosign 2.x's static binary taken out of Debian trixie's package, with apt pointed at trixie
# through options of its own for this one download. The host's apt sources, lists and suites
# are not changed; nothing is installed with dpkg.

# Debian builds cosign without its version stamped in ('GitVersion: devel'): the package's
# version is kept beside the binary. Prints it when the binary runs, else fails.
cosign_version() {
  "$COSIGN_BIN" version >/dev/null 2>&1 && cat "$COSIGN_BIN.deb-version" 2>/dev/null
}

ensure_cosign() {
  local version dir list deb
  version=$(cosign_version || true)
  if [[ $version == 2.* ]]; then
    say "cosign $version already at $COSIGN_BIN, skipping"
    return 0
  fi
  make_tmp_dir
  dir=$TMP_DIR
  list=$dir/trixie.list
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' \
    "$(cosign_mirror)" >"$list"
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/deb"
  local apt_opts=(-o "Dir::Etc::SourceList=$list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  run_logged "reading Debian trixie's package list (for cosign; the host's apt sources stay as they are)" \
    apt-get "${apt_opts[@]}" update -q
  (cd "$dir/deb" && run_logged "downloading trixie's cosign package" apt-get "${apt_opts[@]}" download cosign)
  deb=$(ls "$dir"/deb/cosign_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  [[ $version == 2.* ]] || die "trixie's cosign package is version $version, not 2.x: the signing tests need cosign 2.x"
  dpkg-deb -x "$deb" "$dir/root"
  [[ -x $dir/root/usr/bin/cosign ]] || die "$deb holds no usr/bin/cosign"
  "$dir/root/usr/bin/cosign" version >>"$SETUP_LOG" 2>&1 || die "the cosign binary of $(basename "$deb") does not run here (see $SETUP_LOG)"
  mkdir -p "$(dirname "$COSIGN_BIN")"
  install -m 0755 "$dir/root/usr/bin/cosign" "$COSIGN_BIN.new"
  mv -f "$COSIGN_BIN.new" "$COSIGN_BIN"
  printf '%s\n' "$version" >"$COSIGN_BIN.deb-version"
  say "cosign $version put at $COSIGN_BIN (from $(basename "$deb"); test-only)"
}

# The mirror the base image comes from (KBUILD_DEBIAN_MIRROR, else the one this host's apt uses
# for $DEBIAN_SUITE), else deb.debian.org.
cosign_mirror() {
  local m=${KBUILD_DEBIAN_MIRROR:-$(apt_site_for "$DEBIAN_SUITE")}
  m=${m:-http://deb.debian.org/debian}
  printf '%s' "${m%/}"
}
