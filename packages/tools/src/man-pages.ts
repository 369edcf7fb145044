/**
 * The manuals printed by `--man`: what a man(8) page would hold, including
 * FIELDS and OVERHEAD, kept beside the code so they ship in dist/.
 */

export const iosnoopMan = `IOSNOOP(8)                     ftrace-ts tools                     IOSNOOP(8)

NAME
    iosnoop - trace block device I/O as it happens, with latency

SYNOPSIS
    iosnoop [-hQst] [-d device] [-i iotype] [-p PID] [-n name] [--json]
            [--replay FILE] [duration]

DESCRIPTION
    Prints one line per completed block I/O request: who issued it, its
    type, device, starting block, size and how long it took. The start of a
    request is the block:block_rq_issue tracepoint (or block:block_rq_insert
    with -Q) and its end block:block_rq_complete; the two are matched per
    request by (dev, sector), read by field name from each decoded event, so
    the tool keeps working when kernels add fields to these events (6.x added
    ioprio, which broke the original's column parsing).

    The tool runs in a tracing instance of its own (ftrace_ts_<pid>_iosnoop)
    with a 4 MB per-CPU buffer; other tools may run at the same time. Every
    exit path (end, duration, Ctrl-C, TERM, HUP, a closed pipe, an error)
    removes the instance and undoes every change. Needs root.

OPTIONS
    -d device    only I/O of this device, "major,minor" (eg, "202,1"; see
                 lsblk). Filtered in the kernel.
    -i iotype    only I/O whose TYPE matches this glob (eg, '*R*' for reads).
                 Filtered in the kernel.
    -p PID       only I/O issued while a thread of this process was on-CPU
                 (all threads existing at start). Filtered in the kernel.
                 I/O may be issued on behalf of others (writeback, memory
                 reclaim): -Q attributes more accurately.
    -n name      only I/O issued by processes whose name matches this regular
                 expression. Filtered in user space.
    -Q           start at queue insertion: COMM/PID more often name the
                 origin, and LATms includes time queued.
    -s           add a STARTs column: issue (or insert) time, seconds.
    -t           add an ENDs column: completion time, seconds.
    duration     trace this many seconds, buffered in the kernel, then print.
    --json       one JSON object per line: a "start" record naming the
                 mechanism, then one per I/O, and "lost" records for gaps.
    --replay F   analyse a trace saved from trace or trace_pipe instead of
                 tracing the kernel. With 4 CPUs or more, a long trace
                 without gaps is replayed in pieces on several threads;
                 other long replays print their rows on a thread of
                 their own (the same output). On a terminal, stderr
                 shows how much of a long replay is done.
    -h           usage.  --man   this manual.

FIELDS
    STARTs   issue (or insert) time of the I/O, seconds (-s)
    ENDs     completion time of the I/O, seconds (-t)
    COMM     name of the task on-CPU at issue (or insert), 12 characters
    PID      its process (thread) id
    TYPE     rwbs of the completion: R read, W write, M metadata, S sync,
             A readahead, F flush/FUA, D discard, E secure erase, N none
    DEV      device "major,minor"
    BLOCK    starting sector (512-byte units) on the device
    BYTES    size: sectors completed x 512
    LATms    latency from issue (or insert) to completion, milliseconds

OVERHEAD
    Two events per I/O are recorded and decoded in user space. Live mode
    (trace_pipe) wakes the tool for every batch of events: at some ten
    thousand IOPS it can use a CPU. The duration mode buffers in the kernel
    and decodes once at the end: cheaper, but the 4 MB per-CPU buffer holds
    about 50,000 I/O; beyond that events are lost and reported as
    "WARNING: N events lost". -n is filtered after tracing everything.
    A CPU's "[LOST n EVENTS]" line comes only with its next event, after
    other CPUs' later events: live rows are therefore printed once the
    per-CPU loss counters have been read after them (when the pipe is
    empty, or every 100 ms while events flow), and a row a gap may have
    paired wrongly is dropped, never printed.

EXAMPLES
    iosnoop                 live
    iosnoop 5 > out.txt     buffer for 5 seconds
    iosnoop -Qts            queue-insert start time, start and end columns
    iosnoop -i '*R*'        reads only
    iosnoop -d 7,0 --json   device 7,0, as JSON lines

SEE ALSO
    iolatency(8), tpoint(8), iostat(1), lsblk(8)
`;

export const iolatencyMan = `IOLATENCY(8)                   ftrace-ts tools                   IOLATENCY(8)

NAME
    iolatency - summarize block device I/O latency as a histogram

SYNOPSIS
    iolatency [-hQT] [-d device] [-i iotype] [--json] [--replay FILE]
              [interval [count]]

DESCRIPTION
    Every interval (default 1 second) prints how many block I/O completed
    in each power-of-two millisecond latency range, with an ASCII bar.
    Latency runs from block:block_rq_issue (or block:block_rq_insert with
    -Q) to block:block_rq_complete, matched per request by (dev, sector)
    read by field name from the decoded events.

    Every issue and completion event is read (trace_pipe) and paired in
    user space; the mechanism line on stderr says so.

    Events the kernel dropped (a reader too slow for the I/O rate) are
    reported on stderr, "WARNING: N events lost (CPU c)" per gap and the
    total at the end. Requests open at a gap are forgotten, and those
    paired across another CPU's gap are taken back from the interval's
    histogram: no latency is made of two different requests.

    Runs in a tracing instance of its own; everything is undone on exit.

OPTIONS
    -d device    only this device, "major,minor". In-kernel filter.
    -i iotype    only I/O whose rwbs matches this glob ('*R*'). In-kernel.
    -Q           start at queue insertion (includes queue time).
    -T           print a timestamp before each histogram.
    interval     seconds per summary (default 1).
    count        number of summaries, then exit (default: until Ctrl-C).
    --json       one JSON object per summary, a "lost" one per gap and a
                 closing "lost-total" when events were lost.
    --replay F   summarize a saved trace: one histogram for the whole file
                 (or one per interval of trace time when an interval is given).
                 On a terminal, stderr shows how much of it is done.

FIELDS
    >=(ms)        the latency was at least this many milliseconds
    <(ms)         and less than this many
    I/O           number of I/O completed in this range during the interval
    Distribution  a bar, 38 characters for the largest count

OVERHEAD
    Two events per I/O are recorded and decoded in user space, which
    becomes measurable at high IOPS; the 4 MB per-CPU buffer absorbs
    bursts between reads. Ranges up to the largest latency seen are
    printed, including empty ones.

EXAMPLES
    iolatency               every second
    iolatency 5 2           two 5-second summaries
    iolatency -Q -i '*W*'   writes, including queue time

SEE ALSO
    iosnoop(8), iostat(1)
`;

export const tpointMan = `TPOINT(8)                      ftrace-ts tools                      TPOINT(8)

NAME
    tpoint - trace a kernel tracepoint, printing the kernel's own lines

SYNOPSIS
    tpoint [-hHsv] [-d secs] [-p PID] [-L TID] [--json] [--replay FILE]
           tracepoint [filter]
    tpoint -l [glob]

DESCRIPTION
    Enables one tracepoint (subsystem:event, eg block:block_rq_issue) in a
    tracing instance of its own, optionally with a filter in the kernel's
    filter syntax (eg 'bytes > 65536'), and prints each event as the kernel
    formats it. Useful subsystems: syscalls, ext4, block, sock, sched,
    vmscan, kmem, scsi, irq (where this kernel has them; -l lists).

OPTIONS
    -l [glob]    list tracepoints (optionally those matching a glob, eg
                 'block:*' or '*open*').
    -v           print the tracepoint's format file (its fields), no tracing.
    -H           print the trace column header first.
    -s           kernel stack trace after each event (stacktrace option of
                 the tool's instance).
    -d secs      trace this long, buffered, then print.
    -p PID       events of this process (all its threads at start).
    -L TID       events of this thread.
    filter       kernel event filter; -p/-L are combined with it.
    --json       decoded events, fields by name, one per line.
    --replay F   print the events of this tracepoint from a saved trace
                 (on a terminal, stderr shows how much of a long one is done).

FIELDS
    TASK-PID     task name (may hold spaces and dashes) and thread id
    CPU#         CPU, in brackets
    flags        irqs-off, need-resched, hard/softirq, preempt depth...
    TIMESTAMP    seconds
    FUNCTION     the event name, then its fields as the kernel prints them

OVERHEAD
    Each event is written to the ring buffer and, live, read through
    trace_pipe as it arrives: busy tracepoints (sched:sched_switch,
    kmem:kmalloc) can produce hundreds of thousands of events a second and
    lose events ("WARNING: N events lost"). Filter in the kernel, use -d to
    buffer, or count first (perf stat -e subsystem:event -a sleep 5).

EXAMPLES
    tpoint -l 'block:*'
    tpoint -v syscalls:sys_enter_openat
    tpoint block:block_rq_issue 'bytes > 65536'
    tpoint -s -d 2 block:block_rq_issue

SEE ALSO
    iosnoop(8), opensnoop(8)
`;

export const opensnoopMan = `OPENSNOOP(8)                   ftrace-ts tools                   OPENSNOOP(8)

NAME
    opensnoop - trace file opens, with file name and result

SYNOPSIS
    opensnoop [-htx] [-d secs] [-p PID] [-L TID] [-n name] [--json]
              [--replay FILE] [--mechanism kprobe|uprobe] [filename]

DESCRIPTION
    Prints each open: process, PID, the file descriptor returned (or the
    negative error) and the path. The result comes from the syscall exit
    tracepoints (syscalls:sys_exit_open, openat, openat2, creat, where the
    kernel has them); the path comes from the best mechanism this kernel
    offers, named on stderr at start:

      kprobe  (kernels with kprobe events) a kprobe on do_sys_openat2
              fetching the user path (+0(%si):ustring on x86_64), paired by
              thread with the exit. Sees every open.
      uprobe  (kernels without kprobes) uprobes on the C library's open
              functions (open, open64, openat, openat64, __open_2,
              __openat_2, creat, creat64, fopen, fopen64, freopen), fetching
              the path argument, paired by thread with the next open
              syscall. Misses statically linked programs, programs that make
              the syscall directly (Go, io_uring, raw syscall(2)), and the
              dynamic loader's own opens (ld.so.cache, libraries), and the C
              library's internal opens (locale files, iconv): those opens
              are not listed (as the original skipped opens without a
              name); their number is reported on stderr at the end, and
              --json includes them without a file.

    Runs in a tracing instance of its own with a probe group of its own
    (ftrace_ts_<pid>_opensnoop); everything is removed on every exit path.
    Tracing starts once every event is set up, and the instance leaves
    opensnoop's own threads out (set_event_notrace_pid, Linux 5.8 on): its
    reading of tracefs files is not listed.

OPTIONS
    -d secs      trace this long, buffered, then print.
    -p PID       opens by this process (all threads at start).
    -L TID       opens by this thread.
    -n name      opens by processes whose name matches this expression.
    -t           add a TIMEs column (seconds).
    -x           only failed opens.
    filename     only paths matching this regular expression.
    --mechanism  force kprobe or uprobe.
    --json       one JSON object per open.

FIELDS
    TIMEs   time of the open's return, seconds (-t)
    COMM    process name, 16 characters
    PID     thread id
    FD      file descriptor, or -1 for a failure (--json has the errno)
    FILE    the path as passed to open

OVERHEAD
    Two or three events per open. Uprobes add a trap into the kernel for
    every call of the probed C library functions in every process. At a
    few thousand opens a second this becomes measurable; -d buffers.

EXAMPLES
    opensnoop               live
    opensnoop -x            failures only
    opensnoop -p 181 conf   PID 181, paths containing "conf"

SEE ALSO
    execsnoop(8), strace(1)
`;

export const execsnoopMan = `EXECSNOOP(8)                   ftrace-ts tools                   EXECSNOOP(8)

NAME
    execsnoop - trace new programs (exec) with their arguments

SYNOPSIS
    execsnoop [-hrt] [-a argc] [-d secs] [--json] [--replay FILE]
              [--mechanism kprobe|proc] [name]

DESCRIPTION
    Prints each exec(): PID, parent PID and the arguments. The event is the
    sched:sched_process_exec tracepoint (every successful exec, any
    mechanism); the arguments come from the best mechanism available:

      kprobe  (kernels with kprobe events) a probe on the execve and
              execveat syscalls fetching argv[0..argc] from user memory,
              paired by thread with the exec event. Arguments are those
              passed, even for programs that exit at once.
      proc    (kernels without kprobes) /proc/PID/cmdline, read when the
              exec event is seen. A program that exits (or rewrites its
              command line) first shows only its name as "name [?]".

    The parent comes from sched:sched_process_fork (children forked while
    tracing), else from /proc/PID/stat, else 0.

OPTIONS
    -a argc      at most this many arguments (default 8, max 16).
    -d secs      trace this long, buffered, then print.
    -r           include re-execs (an exec by a process already seen).
    -t           add a TIMEs column (seconds).
    name         only programs whose name matches this regular expression.
    --json       one JSON object per exec.

FIELDS
    TIMEs   time of the exec, seconds (-t)
    PID     process id
    PPID    parent process id (0 if unknown)
    ARGS    arguments; "[...]" when truncated at argc; "[?]" when unknown

OVERHEAD
    A few events per exec; exec rates are low, so overhead is negligible.

EXAMPLES
    execsnoop               live
    execsnoop -t -a 16      timestamps, up to 16 arguments
    execsnoop 'sh$'         programs whose name ends in "sh"

SEE ALSO
    opensnoop(8), ps(1)
`;

export const funccountMan = `FUNCCOUNT(8)                   ftrace-ts tools                   FUNCCOUNT(8)

NAME
    funccount - count kernel function calls and tracepoints, optionally by
    kernel stack, in the kernel

SYNOPSIS
    funccount [-hPsT] [-i secs] [-d secs] [-t top] [-p PID] [-L TID]
              [--folded] [--max-probes N] [--mechanism M] [--json]
              funcstring ...

DESCRIPTION
    Counts calls of the kernel functions matching each funcstring (a glob
    over available_filter_functions, eg 'vfs_*') and hits of tracepoints
    (t:SYSTEM:EVENT or SYSTEM:EVENT, globs allowed), and prints the counts
    at the end, or every -i seconds. Counting happens in the kernel; the
    mechanism is reported on stderr:

    function-profiler  where the kernel has CONFIG_FUNCTION_PROFILER
                       (Debian kernels do not);
    kprobe-profile     one kprobe per function in this process's own group,
                       hits read from kprobe_profile;
    hist               hist triggers (CONFIG_HIST_TRIGGERS), in an instance
                       of its own, for -p, -L, -P, tracepoints and -s.

STACKS
    -s adds the kernel stack to the key: each function's kprobe and each
    tracepoint gets hist:keys=common_pid.execname,stacktrace, so the kernel
    counts (task, stack) pairs and only the table is read. Each stack is
    printed as bcc's stackcount prints it: frames innermost first, the
    counted function (or tracepoint) on top, then the command (and PID with
    -P) and the count. The probe's own frames (kprobe_ftrace_handler, the
    ftrace trampoline) are dropped and offsets are stripped, so stacks that
    differ only in return offsets add up. The usual FUNC COUNT table
    follows: each function's total is the sum of its stacks.

    --folded prints the stacks folded instead, one line each, ready for
    flamegraph (or FlameGraph's flamegraph.pl), in the format of tpoint -s
    --folded: comm;outermost;...;function count (comm-PID first with -P).
    A tracepoint's name is the leaf frame, above the function that hit it.
    Only the folded lines go to stdout; the startup line and "Ending
    tracing..." go to stderr. --folded needs -s and takes none of --json,
    -i or -T.

    A kernel without hist triggers gets one line naming
    CONFIG_HIST_TRIGGERS and exit status 1, as funccount of tracepoints
    does there: funccount counts in the kernel or not at all. To stream
    every event's stack and fold it in user space instead, at the cost of
    each event passing through the ring buffer, use tpoint -s --folded
    (tracepoints) or kprobe -s --folded (functions).

OPTIONS
    -d secs      count this long, then print and end.
    -i secs      print a summary every secs seconds (counts since the last).
    -t top       only the top counts (with -s, the top stacks too).
    -T           a timestamp line before each summary.
    -p PID       count this process only (every thread at start).
    -L TID       count this thread only.
    -P           per-process breakdown: PID and COMM columns (with -s,
                 stacks per PID).
    -s           count by kernel stack, and print the stacks.
    --folded     with -s: the stacks folded, for flamegraph.
    --max-probes N
                 at most N kprobes or hist triggers (default 1000).
    --mechanism M
                 function-profiler, kprobe-profile or hist (-s: hist only).
    --json       one JSON record per line: start, notes, summaries (with
                 -s, a summary has stacks: [{func, stack, comm, pid?,
                 count}], stack innermost first).

FIELDS
    FUNC    the function, or SYSTEM:EVENT for a tracepoint
    PID     process (thread) id (-P)
    COMM    its command name as the kernel saw it (-P)
    COUNT   calls in the period

OVERHEAD
    A kprobe costs more per call than the function profiler's mcount hook,
    and creating one per function takes time (seconds for dozens of
    functions on hardware, a minute under emulation). A hist trigger adds a
    hash table update to each event; with -s also a stack walk (the kernel
    keeps up to 16 frames, so the root end of deeper stacks is cut off).
    Nothing passes through the ring buffer. Each table holds 2048 keys:
    with -s, distinct (task, stack) pairs; once full, further new keys are
    dropped and reported on stderr ("N events not counted"). Counting a hot
    function by stack system-wide for long can fill it: narrow with -p, -d
    or fewer functions.

EXAMPLES
    funccount 'vfs_*'                      counts until Ctrl-C
    funccount -i 1 -t 10 'ext4_*'          the top 10 every second
    funccount -P -d 5 vfs_read             per process for 5 seconds
    funccount 't:block:*'                  block tracepoints
    funccount -s -d 5 vfs_read             vfs_read's kernel stacks
    funccount -s --folded -d 10 vfs_read | flamegraph > vfs_read.svg
                                           flame graph of vfs_read's callers
    funccount -s --folded -d 10 't:block:block_rq_issue' | flamegraph > io.svg

SEE ALSO
    tpoint(8), kprobe(8), flamegraph(1), stackcount(8) (bcc)
`;
