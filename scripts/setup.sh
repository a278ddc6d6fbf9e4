#!/usr/bin/env bash
# Sets up a fresh Debian machine for kitbuild, then runs the main example offline:
#   system packages (when root and missing): runc, docker-registry, busybox-static, uidmap, openssl,
#   debootstrap (the tests' Debian image), openssh-client (ssh-agent for --ssh and its tests),
#   openssh-server (a loopback sshd the tests start for git over ssh, never as a service), and
#   docker.io, skopeo and umoci (the tools that check exported images in the tests), rpm (the SBOM
#   tests build an rpm database with it), podman (the tests' other --load target; its socket and
#   service are turned off again, nothing runs as a service), qemu-user-static (RUN steps for another
#   architecture; without binfmt-support its postinst registers no binfmt handler and starts nothing;
#   where systemd runs, its systemd-binfmt registers Debian's handlers, which kitbuild then uses)
#   Bun (the version package.json pins) from npm when missing, the dependencies, dist/kitbuild.
#   git, bzip2 and xz-utils serve ADD of git repositories and of .bz2/.xz archives; passt (pasta)
#   gives RUN steps their sandboxed network, which needs /dev/net/tun usable by every user (as udev
#   makes it; on a machine without udev, root makes it so here).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

bun_version=$(sed -n 's/.*"packageManager": *"bun@\([^"]*\)".*/\1/p' package.json)

# Debian packages the builds and tests use: package name and a file it installs.
missing=()
while read -r pkg file; do
  [ -e "$file" ] || missing+=("$pkg")
done <<'LIST'
git /usr/bin/git
bzip2 /bin/bzip2
xz-utils /usr/bin/xz
runc /usr/sbin/runc
docker-registry /usr/bin/docker-registry
busybox-static /bin/busybox
uidmap /usr/bin/newuidmap
openssl /usr/bin/openssl
debootstrap /usr/sbin/debootstrap
openssh-client /usr/bin/ssh-agent
openssh-server /usr/sbin/sshd
docker.io /usr/sbin/dockerd
skopeo /usr/bin/skopeo
umoci /usr/bin/umoci
rpm /usr/bin/rpmbuild
passt /usr/bin/pasta
podman /usr/bin/podman
qemu-user-static /usr/bin/qemu-aarch64-static
LIST
if ! command -v npm >/dev/null 2>&1 && ! command -v bun >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The tests start their own sshd on loopback: the system-wide service the package enables
    # would listen on every interface, so it is turned off again when this script installed it.
    if [[ " ${missing[*]} " == *" openssh-server "* ]] && [ -d /run/systemd/system ]; then
      systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
    fi
    # podman enables its API socket and service; --load only runs `podman load`, no service.
    if [[ " ${missing[*]} " == *" podman "* ]] && [ -d /run/systemd/system ]; then
      systemctl disable --now podman.service podman.socket >/dev/null 2>&1 || true
    fi
  else
    say "missing Debian packages: ${missing[*]}"
    echo "install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# pasta opens /dev/net/tun as the user who runs kitbuild (rootless builds too): udev's rule makes it
# 0666; a container or a machine without udev may have it missing or 0600.
if [ "$(id -u)" -eq 0 ]; then
  if [ ! -e /dev/net/tun ]; then
    say "creating /dev/net/tun"
    mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200
  elif [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    say "making /dev/net/tun usable by every user (mode 0666, as udev sets it)"
    chmod 0666 /dev/net/tun
  fi
elif [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
  echo "warning: /dev/net/tun is not usable by $(id -un): RUN steps' sandboxed network will fail (ask root to chmod 0666 /dev/net/tun)" >&2
fi

if [ "$(bun --version 2>/dev/null || true)" != "$bun_version" ]; then
  say "installing Bun $bun_version from npm"
  if [ "$(id -u)" -eq 0 ]; then
    npm install -g --silent "bun@$bun_version" >/dev/null
    npm_root=$(npm root -g)
  else
    npm install -g --silent --prefix "$HOME/.local" "bun@$bun_version" >/dev/null
    npm_root="$HOME/.local/lib/node_modules"
    export PATH="$HOME/.local/bin:$PATH"
    echo "Bun is in ~/.local/bin: add it to your PATH" >&2
  fi
  # npm may skip Bun's postinstall (which puts the real binary in place); run it if so.
  if [ "$(bun --version 2>/dev/null || true)" != "$bun_version" ]; then
    node "$npm_root/bun/install.js"
  fi
fi
[ "$(bun --version)" = "$bun_version" ] || { echo "Bun $bun_version did not install" >&2; exit 1; }

say "installing dependencies"
bun install --frozen-lockfile

# The tests' multi-platform base image needs Debian's busybox-static for arm64 and armhf: fetched
# once into a cache (scripts/foreign-busybox.ts: apt with a private state, no foreign dpkg
# architecture). The fixture fetches it again when the cache is gone, so a failure here only warns.
say "fetching busybox-static for arm64 and armhf (the tests' multi-platform image)"
bun scripts/foreign-busybox.ts >/dev/null || echo "warning: could not fetch busybox-static for arm64/armhf; the multi-platform tests will try again" >&2

say "compiling dist/kitbuild"
bun run build
./dist/kitbuild --version

say "running the example (offline, against a local registry)"
bun scripts/example.ts
