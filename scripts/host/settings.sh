# shellcheck shell=bash disable=SC2034 # the other parts use what is set here
# scripts/host/settings.sh: part of scripts/setup-host.sh, sourced by it (not run on its own).
# What the host gets (addresses, paths, image names, packages), the run's state and --help.

readonly PROG=setup-host
readonly REGISTRY_ADDR=127.0.0.1:5000
readonly REGISTRY_DIR=/var/lib/kbuild-registry
readonly REGISTRY_CONFIG=$REGISTRY_DIR/config.yml
readonly REGISTRY_DATA=$REGISTRY_DIR/data
readonly REGISTRY_LOG=/var/log/kbuild-registry.log
readonly DOCKERD_LOG=/var/log/kbuild-dockerd.log
readonly DOCKER_PIDFILE=/var/run/docker.pid
readonly CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
readonly DAEMON_JSON=/etc/docker/daemon.json
readonly SETUP_LOG=/var/log/kbuild-setup-host.log
readonly PODMAN_ULIMITS_CONF=/etc/containers/containers.conf.d/50-kbuild-ulimits.conf
readonly LOCK_FILE=/run/kbuild-setup-host.lock
readonly POLICY_RC=/usr/sbin/policy-rc.d
# The real cosign CLI for the signing tests (test-only; kbuild signs without it).
readonly COSIGN_BIN=/opt/kbuild-tools/bin/cosign
readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_IMAGE=debian:bookworm
readonly BUSYBOX_IMAGE=busybox:latest
readonly MULTIARCH_BASE=$REGISTRY_ADDR/kbuild-bases/busybox
readonly DEBIAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
readonly BUSYBOX_PATH=/usr/sbin:/usr/bin:/sbin:/bin
# chromium: headless, for the test that renders the HTML run report (build --report).
# dpkg-dev: dpkg-scanpackages, for the update check's test (a loopback apt repository).
readonly PACKAGES=(docker.io docker-registry podman skopeo busybox-static debootstrap curl
  qemu-user-static binfmt-support chromium dpkg-dev)
# Applets the busybox base image must have (it gets every applet busybox has).
readonly BUSYBOX_APPLETS=(sh ls cat echo mkdir cp mv rm sleep uname grep sed wc env true false
  test id touch chmod date head tail sort tr cut find xargs printf awk basename dirname readlink
  hostname kill ps du df stat md5sum sha256sum tar gzip wget nc httpd)
# The daemon.json keys this host needs: no bridge network on a private address range
# (so every build passes --network host or none), and a loopback registry without TLS.
readonly DAEMON_JSON_WANT='{"bridge":"none","iptables":false,"ip-forward":false,"ip-masq":false,"insecure-registries":["127.0.0.1:5000","localhost:5000"]}'
WAIT_SECONDS=${KBUILD_SETUP_WAIT:-60}

QUIET=0
DEBIAN_BASE=1
APT_UPDATED=0
POLICY_RC_OURS=0
DAEMON_JSON_CHANGED=0
DOCKER=
PODMAN_OK=0
WARNINGS=0
TMP_DIRS=()
TMP_DIR=
ORIG_ARGS=()

usage() {
  cat <<EOF
Usage: scripts/setup-host.sh [--no-debian-base] [--quiet] [--help]

Makes this Debian host ready for kbuild (run as root; idempotent, non-interactive):
  - installs the Debian packages ${PACKAGES[*]}
  - writes $DAEMON_JSON (bridge none, no iptables, insecure loopback registry),
    merging into an existing file
  - starts dockerd (log $DOCKERD_LOG) unless 'docker info' answers
  - starts a registry on $REGISTRY_ADDR (loopback only; config $REGISTRY_CONFIG,
    log $REGISTRY_LOG) unless http://$REGISTRY_ADDR/v2/ answers
  - makes the base images $BUSYBOX_IMAGE (busybox-static) and $DEBIAN_IMAGE
    (debootstrap minbase from the mirror apt uses) in docker, and copies them to
    podman; when root lacks CAP_SYS_RESOURCE (as here), sets podman's container
    ulimits in $PODMAN_ULIMITS_CONF so that 'podman run' works
  - registers qemu binfmt handlers for other architectures (warns if it cannot)
  - puts cosign 2.x (test-only: the signing tests check kbuild's signatures with it) at
    $COSIGN_BIN, extracted from Debian trixie's package with apt options of its
    own: the host's apt sources and suites are not changed, nothing is installed

Options:
  --no-debian-base  do not make $DEBIAN_IMAGE (debootstrap, 30-60 s);
                    enough for tests that need only $BUSYBOX_IMAGE
  --quiet, -q       print only warnings, errors and the final status
  --help, -h        print this help and exit

Environment:
  KBUILD_DEBIAN_MIRROR  Debian mirror for debootstrap and the image's sources.list
                        (default: the one this host's apt uses)
  KBUILD_SETUP_WAIT     seconds to wait for dockerd and the registry (default 60)

Details of every command run: $SETUP_LOG. Exit status 0 when all is up.
Afterwards: use /usr/bin/docker (20.10) for BuildKit (DOCKER_BUILDKIT=1), and pass
--network host (or none) to every build: there is no bridge network.
EOF
}
