#!/usr/bin/env bash
# Install the Debian packages the tests need, when they are missing:
# qemu + busybox for the real-kernel (vm) lane, chromium for the flame graph
# browser test. Needs root for apt-get; does nothing when all are there.
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
command -v chromium >/dev/null || need+=(chromium)
command -v losetup >/dev/null || need+=(mount)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v tmux >/dev/null || need+=(tmux)
command -v perl >/dev/null || need+=(perl)
command -v perf >/dev/null || need+=(linux-perf)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${need[*]}; install them as root: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
