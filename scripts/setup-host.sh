#!/usr/bin/env bash
# setup-host.sh: make a Debian host ready for kbuild's integration tests and for
# local use: a container engine (dockerd), a registry on loopback, and base images
# made locally (nothing can be pulled from public registries here).
#
# Idempotent: every step checks first and skips what is already in place, so a
# second run takes a few seconds. Needs Debian and root; anywhere else it prints
# what to do by hand and exits non-zero. Works without standard input (CI=true).
# Run with --help for the options.
set -euo pipefail

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
readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_IMAGE=debian:bookworm
readonly BUSYBOX_IMAGE=busybox:latest
readonly MULTIARCH_BASE=$REGISTRY_ADDR/kbuild-bases/busybox
readonly DEBIAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
readonly BUSYBOX_PATH=/usr/sbin:/usr/bin:/sbin:/bin
# chromium: headless, for the test that renders the HTML run report (build --report).
readonly PACKAGES=(docker.io docker-registry podman skopeo busybox-static debootstrap curl
  qemu-user-static binfmt-support chromium)
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

say() { if [[ $QUIET == 0 ]]; then printf '%s: %s\n' "$PROG" "$*"; fi; }
warn() {
  WARNINGS=$((WARNINGS + 1))
  printf '%s: WARNING: %s\n' "$PROG" "$*" >&2
}
die() {
  printf '%s: ERROR: %s\n' "$PROG" "$*" >&2
  exit 1
}

# Appends a header and the output of a command to $SETUP_LOG; on failure shows the
# end of that log and stops. Standard input is /dev/null: nothing may prompt.
run_logged() {
  local what=$1
  shift
  say "$what"
  printf '\n== %s %s\n' "$(date '+%F %T')" "$*" >>"$SETUP_LOG"
  if ! "$@" >>"$SETUP_LOG" 2>&1 </dev/null; then
    printf '%s: --- last lines of %s ---\n' "$PROG" "$SETUP_LOG" >&2
    tail -n 30 "$SETUP_LOG" >&2
    die "failed: $what (full log: $SETUP_LOG)"
  fi
}

cleanup() {
  local dir
  if [[ $POLICY_RC_OURS == 1 ]]; then rm -f "$POLICY_RC"; fi
  for dir in "${TMP_DIRS[@]}"; do
    [[ -d $dir ]] || continue
    # debootstrap mounts proc and sys inside its target; never delete through a mount.
    findmnt -rno TARGET | grep -F "$dir/" | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf --one-file-system "$dir"
  done
}

# Sets TMP_DIR to a new directory that is removed when the script ends (not in a
# $(...) subshell: the list of directories to remove must be this shell's).
make_tmp_dir() {
  TMP_DIR=$(mktemp -d /var/tmp/kbuild-setup.XXXXXX)
  TMP_DIRS+=("$TMP_DIR")
}

# ---------------------------------------------------------------- host check

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

# ---------------------------------------------------------------- packages

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

# ---------------------------------------------------------------- daemon.json

# Merges the wanted keys into an existing daemon.json with node or python3. Prints
# "same", "update", "merged KEY,KEY" (other keys kept) or "invalid"; writes the
# result to $3 unless "same".
merge_daemon_json() {
  local have=$1 want=$2 out=$3
  if command -v node >/dev/null; then
    node -e '
      const fs = require("fs");
      const [file, wantText, outFile] = process.argv.slice(1);
      let have;
      try { have = JSON.parse(fs.readFileSync(file, "utf8")); } catch { have = null; }
      if (have === null || typeof have !== "object" || Array.isArray(have)) {
        console.log("invalid"); process.exit(0);
      }
      const want = JSON.parse(wantText);
      const merged = { ...have };
      for (const [k, v] of Object.entries(want)) {
        merged[k] = Array.isArray(v) && Array.isArray(have[k])
          ? [...have[k], ...v.filter((x) => !have[k].includes(x))] : v;
      }
      if (JSON.stringify(merged) === JSON.stringify(have)) { console.log("same"); process.exit(0); }
      fs.writeFileSync(outFile, JSON.stringify(merged, null, 2) + "\n");
      const extra = Object.keys(have).filter((k) => !(k in want));
      console.log(extra.length ? "merged " + extra.join(",") : "update");
    ' "$have" "$want" "$out"
  elif command -v python3 >/dev/null; then
    python3 -c '
import json, sys
path, want_text, out = sys.argv[1:4]
try:
    with open(path) as f:
        have = json.load(f)
except Exception:
    have = None
if not isinstance(have, dict):
    print("invalid"); sys.exit(0)
want = json.loads(want_text)
merged = dict(have)
for k, v in want.items():
    old = have.get(k)
    merged[k] = old + [x for x in v if x not in old] if isinstance(v, list) and isinstance(old, list) else v
if json.dumps(merged, sort_keys=True) == json.dumps(have, sort_keys=True):
    print("same"); sys.exit(0)
with open(out, "w") as f:
    f.write(json.dumps(merged, indent=2) + "\n")
extra = [k for k in have if k not in want]
print("merged " + ",".join(extra) if extra else "update")
' "$have" "$want" "$out"
  else
    printf 'no-tool\n'
  fi
}

write_daemon_json() {
  local tmp result
  install -d -m 0755 "$(dirname "$DAEMON_JSON")"
  tmp=$(mktemp "$DAEMON_JSON.XXXXXX")
  if [[ ! -e $DAEMON_JSON ]]; then
    printf '%s\n' "$DAEMON_JSON_WANT" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$DAEMON_JSON"
    say "wrote $DAEMON_JSON (bridge none, no iptables, insecure registry $REGISTRY_ADDR)"
    DAEMON_JSON_CHANGED=1
    return 0
  fi
  result=$(merge_daemon_json "$DAEMON_JSON" "$DAEMON_JSON_WANT" "$tmp")
  case $result in
    same)
      rm -f "$tmp"
      say "$DAEMON_JSON already has the needed settings, skipping"
      return 0
      ;;
    update) say "updating $DAEMON_JSON to the needed settings" ;;
    merged\ *) say "merging the needed settings into $DAEMON_JSON (keeping its other keys: ${result#merged })" ;;
    invalid)
      local backup
      backup="$DAEMON_JSON.invalid-$(date +%Y%m%d%H%M%S)"
      cp -p "$DAEMON_JSON" "$backup"
      warn "$DAEMON_JSON is not a JSON object; kept a copy as $backup and wrote a new one"
      printf '%s\n' "$DAEMON_JSON_WANT" >"$tmp"
      ;;
    *)
      rm -f "$tmp"
      die "$DAEMON_JSON exists and differs, and neither node nor python3 is here to merge it: add these keys by hand: $DAEMON_JSON_WANT"
      ;;
  esac
  chmod 0644 "$tmp"
  mv -f "$tmp" "$DAEMON_JSON"
  DAEMON_JSON_CHANGED=1
}

# ---------------------------------------------------------------- processes

# True when process $1 runs. A killed daemon whose parent was this script's (now
# gone) shell stays a zombie until init reaps it, and init here may never do so.
process_alive() {
  local state
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != [ZX] ]]
}

# Prints the pid in a pid file when a process of that name runs with it.
live_pid() {
  local pidfile=$1 name=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(tr -dc 0-9 <"$pidfile")
  [[ -n $pid ]] && process_alive "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
  printf '%s\n' "$pid"
}

# Removes a pid file whose process no longer runs (a killed daemon leaves it behind,
# and dockerd then refuses to start: "pid file found, ensure docker is not running").
remove_stale_pidfile() {
  local pidfile=$1 name=$2
  [[ -e $pidfile ]] || return 0
  if live_pid "$pidfile" "$name" >/dev/null; then return 0; fi
  say "removing stale $pidfile (no $name runs with pid $(tr -dc 0-9 <"$pidfile"))"
  rm -f "$pidfile"
}

rotate_log() {
  if [[ -s $1 ]]; then mv -f "$1" "$1.1"; fi
}

# wait_until WHAT LOG PID CHECK...: polls CHECK once a second for $WAIT_SECONDS;
# stops early when process PID has ended. On failure shows the end of LOG.
wait_until() {
  local what=$1 log=$2 pid=$3 deadline
  shift 3
  deadline=$((SECONDS + WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    if "$@"; then return 0; fi
    if [[ -n $pid ]] && ! process_alive "$pid"; then
      if "$@"; then return 0; fi
      printf '%s: --- last lines of %s ---\n' "$PROG" "$log" >&2
      tail -n 40 "$log" >&2 || true
      die "$what exited before it answered (log: $log)"
    fi
    sleep 1
  done
  printf '%s: --- last lines of %s ---\n' "$PROG" "$log" >&2
  tail -n 40 "$log" >&2 || true
  die "$what did not answer within ${WAIT_SECONDS}s (log: $log)"
}

docker_answers() { timeout 20 "$DOCKER" info >/dev/null 2>&1; }

start_dockerd() {
  local pid
  rotate_log "$DOCKERD_LOG"
  # fd 9 holds this script's lock: the daemon must not inherit it.
  setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  wait_until dockerd "$DOCKERD_LOG" "$pid" docker_answers
  say "dockerd answers (pid $pid, log $DOCKERD_LOG)"
}

stop_dockerd() {
  local pid=$1 i
  kill -TERM "$pid"
  for ((i = 0; i < 30; i++)); do
    process_alive "$pid" || return 0
    sleep 1
  done
  die "dockerd (pid $pid) did not stop within 30s after SIGTERM"
}

ensure_dockerd() {
  local pid
  if docker_answers; then
    if [[ $DAEMON_JSON_CHANGED == 1 ]]; then
      if pid=$(live_pid "$DOCKER_PIDFILE" dockerd); then
        say "restarting dockerd (pid $pid) so that it reads the new $DAEMON_JSON"
        stop_dockerd "$pid"
        start_dockerd
      else
        warn "$DAEMON_JSON changed but the answering daemon is not a local dockerd of $DOCKER_PIDFILE: restart it yourself to apply it"
      fi
    else
      say "dockerd already answers, skipping"
    fi
    return 0
  fi
  if pid=$(live_pid "$DOCKER_PIDFILE" dockerd); then
    say "dockerd (pid $pid) runs but does not answer yet, waiting for it"
    wait_until dockerd "$DOCKERD_LOG" "$pid" docker_answers
    say "dockerd answers"
    return 0
  fi
  remove_stale_pidfile "$DOCKER_PIDFILE" dockerd
  # dockerd's own containerd dies with it but may linger as a zombie; dockerd would
  # take it for "still running" and fail after 15 s ("timeout waiting for containerd").
  remove_stale_pidfile "$CONTAINERD_PIDFILE" containerd
  say "starting dockerd (log $DOCKERD_LOG)"
  start_dockerd
}

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

# ---------------------------------------------------------------- base images

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

check_podman() {
  if ! command -v podman >/dev/null; then
    warn "podman is not installed; skipping podman images"
    return 0
  fi
  if podman info >>"$SETUP_LOG" 2>&1 </dev/null; then
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

# ---------------------------------------------------------------- status

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
  if manifest_list_complete; then
    printf '  multi-arch base: %s:latest (linux/amd64, linux/arm64)\n' "$MULTIARCH_BASE"
  else
    printf '  multi-arch base: %s:latest MISSING\n' "$MULTIARCH_BASE"
  fi
}

# ---------------------------------------------------------------- main

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

  print_status
}

main "$@"
