# shellcheck shell=bash
# scripts/host/packages.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# The Debian packages, installed once without starting their services.

apt_update_once() {
  if [[ $APT_UPDATED == 0 ]]; then
    run_logged "updating the package lists (apt-get update)" apt-get update -q
    APT_UPDATED=1
  fi
}

package_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]
}

install_packages() {
  local missing=() p
  for p in "$@"; do package_installed "$p" || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    say "packages already installed, skipping: $*"
    return 0
  fi
  apt_update_once
  # Packages must not start services of their own (docker.io, docker-registry and
  # containerd ship init scripts): this script starts them with its own config.
  if [[ ! -e $POLICY_RC ]]; then
    printf '#!/bin/sh\n# written by kbuild setup-host.sh while it installs packages\nexit 101\n' >"$POLICY_RC"
    chmod 0755 "$POLICY_RC"
    POLICY_RC_OURS=1
  fi
  run_logged "installing ${missing[*]}" \
    apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  if [[ $POLICY_RC_OURS == 1 ]]; then
    rm -f "$POLICY_RC"
    POLICY_RC_OURS=0
  fi
}
