#!/usr/bin/env bash
# Prepares this machine for vnode's integration tests (idempotent, quiet, fast when done):
#   1. Debian packages the tests use (runc, crun, containerd 1.6, busybox-static, catatonit,
#      CNI plugins, iproute2, iptables (nettools test image), fuse3, lxcfs, util-linux, gcc + libc-dev, gcc-multilib for the
#      i386 build of the syscall probe that checks the seccomp filter's i386 table).
#   2. containerd 1.7.x (trixie) and 2.x (sid) unpacked into <repo>/.cache/containerd/{1.7,2}
#      through a PRIVATE apt directory: the system's apt sources are never changed.
# Usage: bash scripts/setup-host.sh   (as root). Env: VNODE_SETUP_FORCE=1 re-downloads containerd.
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
      fuse3 lxcfs util-linux gcc libc6-dev gcc-multilib ca-certificates socat iperf3)
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

if [ "${VNODE_SETUP_FORCE:-}" != 1 ] && have_version 1.7 1.7. && have_version 2 2.; then
  step "containerd 1.7 and 2 present in .cache/containerd"
else
  # Mirror URI(s) the system already uses for Debian main (deb822 or one-line format).
  URI=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    URI="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$URI" ] && [ -f /etc/apt/sources.list ]; then
    URI="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$URI" ] || URI="http://deb.debian.org/debian"
  KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

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

# ---- 3. verify ---------------------------------------------------------------------------
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
step "done"
