#!/usr/bin/env bash
# Prepares this machine for vnode's integration tests (idempotent, quiet, fast when done):
#   1. Debian packages the tests use (runc, crun, containerd 1.6, busybox-static, catatonit,
#      CNI plugins, iproute2, iptables (nettools test image), fuse3, lxcfs, util-linux, gcc + libc-dev, gcc-multilib for the
#      i386 build of the syscall probe that checks the seccomp filter's i386 table), debootstrap
#      (the Docker-in-Docker and systemd images of the workload tests, `vnode image build-docker`).
#   2. containerd 1.7.x (trixie) and 2.x (sid) unpacked into <repo>/.cache/containerd/{1.7,2}
#      through a PRIVATE apt directory: the system's apt sources are never changed.
#   3. kubectl 1.36 (sid) unpacked into <repo>/.cache/kubectl the same way (the deploy tests
#      render deploy/kubernetes with `kubectl kustomize`).
#   4. crun from trixie in <repo>/.cache/crun/ (bookworm's crun 1.8.1 refuses containerd
#      2.x's specs), with trixie's glibc beside it (patchelf points crun at it).
# Usage: bash scripts/setup-host.sh   (as root). Env: VNODE_SETUP_FORCE=1 re-downloads
# containerd, kubectl and crun.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
APTDIR="$CACHE/apt"
export DEBIAN_FRONTEND=noninteractive

step() { printf '[setup-host] %s\n' "$*"; }
die() { printf '[setup-host] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install, containerd)"

# ---- 1. system packages ------------------------------------------------------------------
PKGS=(runc crun containerd busybox-static catatonit containernetworking-plugins iproute2 iptables dash
      fuse3 lxcfs util-linux gcc libc6-dev gcc-multilib ca-certificates patchelf socat iperf3 debootstrap)
missing=()
for p in "${PKGS[@]}"; do
  st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [ "$st" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step "system packages present"
fi
# Debian's containerd package starts a system containerd; the tests run private instances only.
# We leave the system service alone (not stopped, not started).

# ---- 2. containerd 1.7.x and 2.x ---------------------------------------------------------
have_version() { # dir, expected major.minor prefix
  local bin="$CACHE/containerd/$1/usr/bin/containerd"
  [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qE " v?$2"
}

APT_READY=""
private_apt() { # the private apt directory (trixie + sid lists), updated once per run
  [ -n "$APT_READY" ] && return 0
  # Mirror URI(s) the system already uses for Debian main (deb822 or one-line format).
  local URI=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    URI="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$URI" ] && [ -f /etc/apt/sources.list ]; then
    URI="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$URI" ] || URI="http://deb.debian.org/debian"
  local KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

  mkdir -p "$APTDIR"/{lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d,debs}
  {
    echo "deb [signed-by=$KEYRING] $URI trixie main"
    echo "deb [signed-by=$KEYRING] $URI sid main"
  } > "$APTDIR/etc/sources.list"
  APT=(-o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
       -o "Dir::Etc::SourceList=$APTDIR/etc/sources.list"
       -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
       -o "Dir::Etc::Preferences=$APTDIR/etc/preferences"
       -o "Dir::Etc::PreferencesParts=$APTDIR/etc/preferences.d"
       -o "Acquire::Languages=none" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  step "apt-get update (private lists: trixie, sid from $URI)"
  apt-get "${APT[@]}" update -qq >/dev/null
  APT_READY=1
}

if [ "${VNODE_SETUP_FORCE:-}" != 1 ] && have_version 1.7 1.7. && have_version 2 2.; then
  step "containerd 1.7 and 2 present in .cache/containerd"
else
  private_apt
  step "available: $(apt-cache "${APT[@]}" madison containerd | awk -F'|' '{gsub(/ /,"",$2); gsub(/^ +| +$/,"",$3); printf "%s(%s) ", $2, $3}')"
  rm -f "$APTDIR"/debs/containerd_*.deb
  step "apt-get download containerd/trixie containerd/sid"
  (cd "$APTDIR/debs" && apt-get "${APT[@]}" download -qq containerd/trixie containerd/sid >/dev/null)
  for deb in "$APTDIR"/debs/containerd_*.deb; do
    ver="$(dpkg-deb -f "$deb" Version)"
    case "$ver" in
      1.7.*) dest=1.7 ;;
      2.*) dest=2 ;;
      *) die "unexpected containerd version $ver in $deb" ;;
    esac
    step "unpack containerd $ver -> .cache/containerd/$dest"
    rm -rf "$CACHE/containerd/$dest.tmp"
    mkdir -p "$CACHE/containerd/$dest.tmp"
    dpkg-deb -x "$deb" "$CACHE/containerd/$dest.tmp"
    rm -rf "$CACHE/containerd/$dest"
    mv "$CACHE/containerd/$dest.tmp" "$CACHE/containerd/$dest"
  done
fi

# ---- 3. kubectl 1.36 (sid) -----------------------------------------------------------------
KUBECTL="$CACHE/kubectl/usr/bin/kubectl"
if [ "${VNODE_SETUP_FORCE:-}" != 1 ] && [ -x "$KUBECTL" ] && "$KUBECTL" version --client 2>/dev/null | grep -q 'v1\.36\.'; then
  step "kubectl 1.36 present in .cache/kubectl"
else
  private_apt
  rm -f "$APTDIR"/debs/kubectl_*.deb
  step "apt-get download kubectl/sid"
  (cd "$APTDIR/debs" && apt-get "${APT[@]}" download -qq kubectl/sid >/dev/null)
  deb="$(ls "$APTDIR"/debs/kubectl_*.deb)"
  step "unpack kubectl $(dpkg-deb -f "$deb" Version) -> .cache/kubectl"
  rm -rf "$CACHE/kubectl.tmp" && mkdir -p "$CACHE/kubectl.tmp"
  dpkg-deb -x "$deb" "$CACHE/kubectl.tmp"
  rm -rf "$CACHE/kubectl" && mv "$CACHE/kubectl.tmp" "$CACHE/kubectl"
fi

# ---- 4. crun from trixie ------------------------------------------------------------------
# bookworm's crun 1.8.1 refuses the specs of containerd 2.x ("unknown version specified":
# it knows ociVersion up to 1.1); crun >= 1.9 accepts them. trixie's crun 1.21 needs
# glibc 2.38 (bookworm has 2.36) but nothing else newer, so trixie's libc6 is unpacked
# beside it and patchelf points crun's interpreter and rpath there; its other libraries
# (libsystemd, libseccomp, libcap, libyajl) come from the system. sid's crun (1.28) also
# needs libblake3, which bookworm does not have.
CRUN_DIR="$CACHE/crun/trixie"
CRUN="$CACHE/crun/bin/crun"
crun_runs() { [ -x "$CRUN" ] && "$CRUN" --version 2>/dev/null | grep -qE '^crun version 1\.(9|[1-9][0-9])'; }
if [ "${VNODE_SETUP_FORCE:-}" != 1 ] && crun_runs; then
  step "crun present in .cache/crun"
else
  private_apt
  rm -f "$APTDIR"/debs/crun_*.deb "$APTDIR"/debs/libc6_*.deb
  step "apt-get download crun/trixie libc6/trixie"
  (cd "$APTDIR/debs" && apt-get "${APT[@]}" download -qq crun/trixie libc6/trixie >/dev/null)
  rm -rf "$CRUN_DIR" "$CACHE/crun/bin"
  mkdir -p "$CRUN_DIR" "$CACHE/crun/bin"
  for deb in "$APTDIR"/debs/crun_*.deb "$APTDIR"/debs/libc6_*.deb; do
    step "unpack $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) -> .cache/crun/trixie"
    dpkg-deb -x "$deb" "$CRUN_DIR"
  done
  # the physical path: .cache may be a symlink of a worktree that goes away
  LIBDIR="$(cd "$CRUN_DIR/usr/lib/x86_64-linux-gnu" && pwd -P)"
  cp "$CRUN_DIR/usr/bin/crun" "$CRUN"
  patchelf --set-interpreter "$LIBDIR/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$LIBDIR" "$CRUN"
fi
if ! crun_runs; then
  ldd "$CRUN" >&2 || true
  die "crun in .cache/crun does not run here (see ldd above)"
fi

# ---- 5. verify ---------------------------------------------------------------------------
for d in 1.7 2; do
  for b in containerd ctr containerd-shim-runc-v2; do
    [ -x "$CACHE/containerd/$d/usr/bin/$b" ] || die "missing $CACHE/containerd/$d/usr/bin/$b"
  done
done
have_version 1.7 1.7. || die "containerd 1.7 in .cache does not run"
have_version 2 2. || die "containerd 2 in .cache does not run"
for b in /usr/bin/containerd /usr/sbin/runc /usr/bin/crun /bin/busybox /usr/bin/catatonit /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback; do
  [ -x "$b" ] || die "missing $b"
done
step "containerd: $(/usr/bin/containerd --version | awk '{print $3}') (system), $("$CACHE/containerd/1.7/usr/bin/containerd" --version | awk '{print $3}') (.cache/1.7), $("$CACHE/containerd/2/usr/bin/containerd" --version | awk '{print $3}') (.cache/2)"
step "kubectl: $("$KUBECTL" version --client 2>/dev/null | head -1)"
step "crun: $(/usr/bin/crun --version | head -1 | awk '{print $3}') (system), $("$CRUN" --version | head -1 | awk '{print $3}') (.cache/crun/bin/crun; use it with VNODE_RUNTIME=$(cd "$CACHE/crun/bin" && pwd -P)/crun)"
step "done"
