#!/usr/bin/env bash
# Re-record the sample traces shipped with ftrace-tui (needs root). Each is the
# `trace` text of a tracefs instance of its own, made and removed here; the
# top instance is not touched. Usage: sudo bash record.sh [OUTDIR]
set -euo pipefail
OUT=${1:-$(dirname "$0")}
T=/sys/kernel/tracing
[ -e $T/trace ] || T=/sys/kernel/debug/tracing
I=$T/instances/ftrace_ts_samples_$$
IMG=$(mktemp /tmp/ftrace-tui-sample.XXXXXX)
LOOP=
cleanup() {
	[ -d "$I" ] && { echo 0 > "$I/tracing_on"; echo > "$I/set_event"; echo nop > "$I/current_tracer" 2>/dev/null || true; rmdir "$I"; }
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	rm -f "$IMG"
}
trap cleanup EXIT
record() { # name events... ; runs the workload in $WORK
	local name=$1; shift
	mkdir "$I"
	echo 4096 > "$I/buffer_size_kb"
	for e in "$@"; do echo "$e" >> "$I/set_event"; done
	eval "$WORK"
	echo 0 > "$I/tracing_on"
	{ head -12 "$I/trace"; grep -v "^#" "$I/trace" | head -400; } > "$OUT/$name.trace"
	echo > "$I/set_event"
	rmdir "$I"
	echo "$name.trace: $(grep -vc '^#' "$OUT/$name.trace") lines"
}
truncate -s 64M "$IMG"
LOOP=$(losetup -f --show "$IMG")
WORK="dd if=/dev/zero of=$LOOP bs=4k count=50 oflag=direct status=none; dd if=$LOOP of=/dev/null bs=64k count=20 iflag=direct status=none"
record iosnoop block:block_rq_issue block:block_rq_complete
WORK="for f in /etc/hostname /etc/passwd /nonexistent /etc/os-release; do cat \$f >/dev/null 2>&1 || true; done; ls /usr >/dev/null"
record opensnoop syscalls:sys_enter_openat syscalls:sys_exit_openat
WORK="for i in 1 2 3; do /bin/true; ls / >/dev/null; done; sh -c 'date >/dev/null'"
record execsnoop sched:sched_process_exec sched:sched_process_fork
WORK="sleep 0.2"
record sched sched:sched_switch sched:sched_wakeup
# function_graph on vfs_read, as funcgraph -d would read it (only where the
# kernel has function_graph; otherwise funcgraph.trace stays as shipped: it is
# taken from perf-tools' funcgraph_example.txt, recorded on another kernel)
if grep -qw function_graph $T/available_tracers; then
	mkdir "$I"
	echo vfs_read > "$I/set_graph_function"
	echo function_graph > "$I/current_tracer"
	for i in 1 2 3; do head -c 1000 /etc/passwd > /dev/null; done
	echo 0 > "$I/tracing_on"
	head -400 "$I/trace" > "$OUT/funcgraph.trace"
	echo nop > "$I/current_tracer"
	echo > "$I/set_graph_function"
	rmdir "$I"
	echo "funcgraph.trace: $(grep -vc '^#' "$OUT/funcgraph.trace") lines"
fi
