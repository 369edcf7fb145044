#!/usr/bin/env bash
# lane.sh - the project's real-kernel lane, grown from shared/vmlane/vmlane.sh:
# run a command inside a throw-away qemu guest that boots a stock
# Debian kernel (linux-image-cloud-amd64: KPROBE_EVENTS, FUNCTION_GRAPH_TRACER,
# HIST_TRIGGERS, ...) with a busybox+node initramfs and a copy of a project dir.
#
#   lane.sh [-C projdir] [-t timeout_s] [-m mem_mb] [-s smp] [-D disk_mb]
#           [-L listfile] [-O outfile] [-e NAME=VALUE]... [--] command [args...]
#
# -L: copy only the paths listed in listfile (one per line, relative to the
#     project dir, directories included recursively) instead of the whole dir.
# -O: write the guest command's output to outfile as it arrives (to follow it
#     live); it is still printed on stdout at the end unless -O is given.
#
# - The project dir (default: $PWD) appears in the guest at the SAME absolute
#   path and is the command's cwd. It is a RAM copy: writes do not come back.
#   '.git' directories are left out.
# - One argument is run as a shell string (busybox sh -c); several are quoted.
# - The command's stdout+stderr (merged, through a pipe, so not a TTY) are
#   printed on our stdout after the guest powers off; our exit status is the
#   command's. 124 = timeout, 125 = guest/infra failure (console log on stderr).
# - tracefs is NOT pre-mounted: mount -t tracefs nodev /sys/kernel/tracing
# - -D N attaches an N MiB zeroed scratch NVMe disk (/dev/nvme0n1; NVMe is
#   built into the cloud kernel) for block-I/O tools (iosnoop, iolatency).
#
# Env: VMLANE_DIR (cache+runs, default $TMPDIR/vmlane or /tmp/vmlane), VMLANE_KERNEL (use this
# vmlinuz instead of downloading one), VMLANE_ACCEL (kvm|tcg, default: kvm only
# if /dev/kvm exists AND /proc/cpuinfo has vmx/svm), VMLANE_KEEP=1 (keep run dir).
#
# Host packages: qemu-system-x86 busybox-static (plus apt, dpkg, coreutils).
set -euo pipefail

VMLANE_DIR=${VMLANE_DIR:-${TMPDIR:-/tmp}/vmlane}
die() { echo "lane: $*" >&2; exit 125; }
CACHE=$VMLANE_DIR/cache
# One vCPU: under TCG, code patching (function_graph, kprobes) with two vCPUs
# rendezvousing in stop_machine hung the guest now and then; the suite is serial.
PROJ=$PWD TIMEOUT=600 MEM=2048 SMP=1 DISK_MB=0 LIST= OUTFILE=
ENVS=()
while getopts "C:t:m:s:D:e:L:O:h" o; do
  case $o in
    C) PROJ=$OPTARG ;; t) TIMEOUT=$OPTARG ;; m) MEM=$OPTARG ;; s) SMP=$OPTARG ;;
    D) DISK_MB=$OPTARG ;; e) ENVS+=("$OPTARG") ;;
    L) LIST=$(cd "$(dirname "$OPTARG")" && pwd -P)/$(basename "$OPTARG") ;; O) OUTFILE=$OPTARG ;;
    *) sed -n '2,32p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "lane: no command given" >&2; exit 2; }
PROJ=$(cd "$PROJ" && pwd -P)
[ "$PROJ" != / ] || { echo "lane: project dir must not be /" >&2; exit 2; }
mkdir -p "$CACHE" "$VMLANE_DIR/runs"

command -v qemu-system-x86_64 >/dev/null || die "apt-get install qemu-system-x86"
BUSYBOX=/bin/busybox
[ -x $BUSYBOX ] && ! ldd $BUSYBOX >/dev/null 2>&1 || die "need a static /bin/busybox: apt-get install busybox-static"

# ---- 1. kernel: vmlinuz from Debian's cloud kernel package (only the bzImage is used; no modules)
KERNEL=${VMLANE_KERNEL:-}
if [ -z "$KERNEL" ]; then
  KERNEL=$(ls "$CACHE"/vmlinuz-* 2>/dev/null | head -n1 || true)
  if [ -z "$KERNEL" ]; then
    pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [ -n "$pkg" ] || die "cannot resolve linux-image-cloud-amd64 (run apt-get update?)"
    (cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >&2 || die "apt-get download $pkg failed"
    dpkg-deb --fsys-tarfile "$CACHE/${pkg}"_*.deb |
      tar -x -C "$CACHE" --strip-components=2 --wildcards './boot/vmlinuz-*' './boot/config-*'
    rm -f "$CACHE/${pkg}"_*.deb
    KERNEL=$(ls "$CACHE"/vmlinuz-* | head -n1)
  fi
fi
[ -r "$KERNEL" ] || die "kernel $KERNEL not readable"

# ---- 2. base initramfs (cached): busybox, node + its shared libs, /init
NODE=$(readlink -f "$(command -v node)") || die "node not found on host"
INIT_SCRIPT='#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
chmod 1777 /tmp   # no tmpfs on /tmp: the project may live under /tmp (rootfs is RAM already)
hostname vmlane
ifconfig lo 127.0.0.1 up 2>/dev/null
stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 raw -echo
echo "VMLANE: cmd start, uptime $(cut -d" " -f1 /proc/uptime)" > /dev/console
{ sh /vmlane/cmd.sh; echo $? > /tmp/.vmlane_rc; } < /dev/null 2>&1 | cat > /dev/ttyS1
rc=$(cat /tmp/.vmlane_rc 2>/dev/null || echo 125)
echo "$rc" > /dev/ttyS2
echo "VMLANE: cmd done rc=$rc, uptime $(cut -d" " -f1 /proc/uptime)" > /dev/console
sync
poweroff -f'
LIBS=$(ldd "$NODE" | grep -o '/[^ ]*')                 # shared libs + ELF interpreter
KEY=$(printf '%s\n' "$NODE" "$(stat -L -c '%n %s %Y' "$NODE" $BUSYBOX $LIBS)" "$INIT_SCRIPT" | md5sum | cut -c1-32)
BASE=$CACHE/base-$KEY.cpio
if [ ! -s "$BASE" ]; then
  rm -f "$CACHE"/base-*.cpio                         # drop stale bases
  st=$(mktemp -d "$CACHE/stage.XXXXXX")
  mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,vmlane}
  cp $BUSYBOX "$st/bin/busybox"
  cp "$NODE" "$st/usr/bin/node"
  for lib in $LIBS; do
    mkdir -p "$st$(dirname "$lib")"; cp -L "$lib" "$st$lib"
  done
  printf '%s\n' "$INIT_SCRIPT" > "$st/init"; chmod 755 "$st/init"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$st/etc/passwd"
  echo 'root:x:0:' > "$st/etc/group"
  (cd "$st" && find . | $BUSYBOX cpio -o -H newc 2>/dev/null) > "$BASE.tmp"
  mv "$BASE.tmp" "$BASE"; rm -rf "$st"
fi

# ---- 3. per-run initramfs = base + project dir (same abs path) + command script
RUN=$(mktemp -d "$VMLANE_DIR/runs/run.XXXXXX")
cleanup() { [ "${VMLANE_KEEP:-0}" = 1 ] || rm -rf "$RUN"; }
trap cleanup EXIT
sq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
mkdir -p "$RUN/x/vmlane"
{
  for kv in ${ENVS[@]+"${ENVS[@]}"}; do printf 'export %s=%s\n' "${kv%%=*}" "$(sq "${kv#*=}")"; done
  printf 'cd %s || exit 125\n' "$(sq "$PROJ")"
  if [ $# -eq 1 ]; then printf '%s\n' "$1"; else for a in "$@"; do printf '%s ' "$(sq "$a")"; done; echo; fi
} > "$RUN/x/vmlane/cmd.sh"
{
  cat "$BASE"
  (cd "$RUN/x" && find . | $BUSYBOX cpio -o -H newc 2>/dev/null)
  # ancestors of PROJ first (the kernel's cpio unpacker does not create parent dirs)
  ( cd / && { rel=${PROJ#/}
              case $rel in */*) a=""; IFS=/; for p in ${rel%/*}; do a=${a:+$a/}$p; echo "$a"; done; unset IFS ;; esac
              echo "$rel"
              if [ -n "$LIST" ]; then
                while IFS= read -r p; do
                  [ -n "$p" ] && [ -e "$rel/$p" ] || [ -L "$rel/$p" ] || continue
                  # the listed path's own ancestors inside the project
                  a=$rel; IFS=/; for q in ${p%/*}; do [ "$q" = "$p" ] && break; a=$a/$q; echo "$a"; done; unset IFS
                  find "$rel/$p" -name .git -prune -o -print
                done < "$LIST" | awk '!seen[$0]++'
              else
                find "$rel" -mindepth 1 -name .git -prune -o -print
              fi; } | $BUSYBOX cpio -o -H newc 2>/dev/null )
} > "$RUN/initrd.cpio"

# ---- 4. boot (headless), command output on ttyS1, exit code on ttyS2, console on ttyS0
ACCEL=${VMLANE_ACCEL:-}
if [ -z "$ACCEL" ]; then
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then CPU=(-accel kvm -cpu host); else CPU=(-accel tcg -cpu max); fi
DISK=()
if [ "$DISK_MB" -gt 0 ]; then
  truncate -s "${DISK_MB}M" "$RUN/scratch.img"
  DISK=(-drive "file=$RUN/scratch.img,if=none,id=scratch,format=raw" -device nvme,drive=scratch,serial=vmlane0)
fi
OUT=${OUTFILE:-$RUN/out}
: > "$OUT"; : > "$RUN/rc"
set +e
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot \
  "${CPU[@]}" -smp "$SMP" -m "$MEM" "${DISK[@]}" \
  -kernel "$KERNEL" -initrd "$RUN/initrd.cpio" \
  -append "console=ttyS0 panic=-1 quiet" \
  -serial "file:$RUN/console" -serial "file:$OUT" -serial "file:$RUN/rc" \
  -monitor none -display none < /dev/null > "$RUN/qemu.log" 2>&1
qrc=$?
set -e

# ---- 5. report
[ -n "$OUTFILE" ] || cat "$OUT"
rc=$(tr -dc '0-9' < "$RUN/rc")
if [ -z "$rc" ]; then
  { echo "lane: guest gave no exit status (qemu rc=$qrc, accel=$ACCEL); console tail:"
    tr -d '\r' < "$RUN/console" | tail -n 30; cat "$RUN/qemu.log"; } >&2
  [ $qrc -eq 124 ] && exit 124; exit 125
fi
exit "$rc"
