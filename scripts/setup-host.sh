#!/usr/bin/env bash
# setup-host.sh: make a Debian host ready for kbuild's integration tests and for
# local use: a container engine (dockerd), a registry on loopback, and base images
# made locally (nothing can be pulled from public registries here).
#
# Idempotent: every step checks first and skips what is already in place, so a
# second run takes a few seconds. Needs Debian and root; anywhere else it prints
# what to do by hand and exits non-zero. Works without standard input (CI=true).
# Run with --help for the options.
#
# The work is done by scripts/host/*.sh, one concept each, sourced below; main (at the end)
# runs the steps in order. Check them with: shellcheck -x scripts/setup-host.sh scripts/host/*.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# The parts sit beside this script, wherever it is run from.
SETUP_HOST_PARTS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/host
readonly SETUP_HOST_PARTS
if [[ ! -d $SETUP_HOST_PARTS ]]; then
  printf 'setup-host: ERROR: %s is missing: it holds the parts of this script\n' "$SETUP_HOST_PARTS" >&2
  exit 1
fi
# shellcheck source=host/settings.sh
source "$SETUP_HOST_PARTS/settings.sh"
# shellcheck source=host/basics.sh
source "$SETUP_HOST_PARTS/basics.sh"
# shellcheck source=host/preflight.sh
source "$SETUP_HOST_PARTS/preflight.sh"
# shellcheck source=host/packages.sh
source "$SETUP_HOST_PARTS/packages.sh"
# shellcheck source=host/processes.sh
source "$SETUP_HOST_PARTS/processes.sh"
# shellcheck source=host/docker-engine.sh
source "$SETUP_HOST_PARTS/docker-engine.sh"
# shellcheck source=host/registry.sh
source "$SETUP_HOST_PARTS/registry.sh"
# shellcheck source=host/base-images.sh
source "$SETUP_HOST_PARTS/base-images.sh"
# shellcheck source=host/multiarch.sh
source "$SETUP_HOST_PARTS/multiarch.sh"
# shellcheck source=host/podman.sh
source "$SETUP_HOST_PARTS/podman.sh"
# shellcheck source=host/cosign.sh
source "$SETUP_HOST_PARTS/cosign.sh"
# shellcheck source=host/status.sh
source "$SETUP_HOST_PARTS/status.sh"

main() {
  ORIG_ARGS=("$@")
  while (($#)); do
    case $1 in
      --no-debian-base) DEBIAN_BASE=0 ;;
      --quiet | -q) QUIET=1 ;;
      --help | -h)
        usage
        exit 0
        ;;
      *)
        printf '%s: ERROR: unknown option: %s\n\n' "$PROG" "$1" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
  done

  check_host "${ORIG_ARGS[@]}"
  [[ $WAIT_SECONDS =~ ^[1-9][0-9]*$ ]] || die "KBUILD_SETUP_WAIT must be a number of seconds, not '$WAIT_SECONDS'"
  export DEBIAN_FRONTEND=noninteractive
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    say "another setup-host.sh runs; waiting for it"
    flock -w 900 9 || die "another setup-host.sh holds $LOCK_FILE for over 15 minutes"
  fi
  trap cleanup EXIT
  touch "$SETUP_LOG"

  install_packages "${PACKAGES[@]}"
  setup_binfmt
  DOCKER=/usr/bin/docker
  if [[ ! -x $DOCKER ]]; then DOCKER=$(command -v docker) || die "no docker client after installing docker.io"; fi

  write_daemon_json
  ensure_dockerd
  ensure_registry

  ensure_busybox_image
  ensure_multiarch_base
  ensure_debian_image
  check_podman
  if [[ $PODMAN_OK == 1 ]]; then
    ensure_podman_ulimits
    copy_image_to_podman "$BUSYBOX_IMAGE"
    if [[ $DEBIAN_BASE == 1 ]]; then copy_image_to_podman "$DEBIAN_IMAGE"; fi
    podman_runs || warn "'podman run --network none $BUSYBOX_IMAGE true' fails (see $SETUP_LOG)"
  fi

  ensure_cosign

  print_status
}

main "$@"
