/**
 * What the trace readers yield: one typed record per trace line (text
 * readers) or per ring-buffer event (binary readers), with an event's fields
 * by name. Both readers produce the same shapes so a tool does not care
 * whether it reads `trace_pipe`, `trace_pipe_raw` or a recorded file.
 */

/**
 * A decoded field value. Integers of up to 32 bits are numbers; 64-bit
 * integers are numbers while they are safe integers (|v| < 2^53) and bigints
 * beyond (pointers, huge counters): compare with `toBigInt` when in doubt.
 * Strings are char arrays and `__data_loc char[]`; other arrays hold numbers
 * (bigints for 64-bit elements beyond 2^53, e.g. kernel addresses).
 * A field the text reader could only see through a printed form it cannot
 * invert (e.g. sched_switch prev_state "R+") keeps that printed text.
 */
export type FieldValue = string | number | bigint | Array<number | bigint>;

/** The common prefix of every record: who, where, when. */
export interface RecordContext {
	readonly cpu: number;
	/** Seconds, as a float (µs precision is safe for uptimes of years). */
	readonly timestamp: number;
	/**
	 * Nanoseconds, exact. The text reader scales what the kernel printed
	 * (µs, rounded by the kernel, for the default clocks: the last three
	 * digits are zero); for
	 * counter clocks (no decimal point) it is the raw counter.
	 */
	readonly timestampNs: bigint;
	readonly pid: number;
	/** Thread group id when recorded (record-tgid, saved_tgids). */
	readonly tgid?: number | undefined;
	/** Task name; "<...>" when the kernel had not saved it; may hold spaces and dashes. */
	readonly comm: string;
	/** The irq-info column ("d..1."), text reader only, when present. */
	readonly flags?: string | undefined;
}

/** A tracepoint, kprobe, uprobe or syscall event with its fields by name. */
export interface TraceEvent extends RecordContext {
	readonly kind: 'event';
	/** Subsystem, when the reader knew the event's format. */
	readonly system?: string | undefined;
	/** Event name as in events/SYSTEM/EVENT ("sys_enter_openat", not "sys_openat"). */
	readonly event: string;
	/** Fields by name, common_* fields excluded (pid is `pid`). */
	readonly fields: Record<string, FieldValue>;
	/**
	 * False when the text body did not match the event's print fmt (or no
	 * format was known): `fields` then holds a best-effort key=value split
	 * of `body`.
	 */
	readonly decoded: boolean;
	/** The text after "name: " (text reader only). */
	readonly body?: string | undefined;
	/** Kernel stack (options/stacktrace), innermost first. */
	stack?: string[] | undefined;
	/** User stack (options/userstacktrace), innermost first. */
	userStack?: string[] | undefined;
}

/** A function tracer line: "func <-parent". */
export interface FunctionCall extends RecordContext {
	readonly kind: 'function';
	readonly func: string;
	readonly parent?: string | undefined;
	/** Arguments when the kernel printed them (func-args option): the text inside the parentheses. */
	readonly args?: string | undefined;
}

/** One function_graph line. Context fields are present only when the kernel printed them. */
export interface GraphLine {
	readonly kind: 'graph';
	readonly cpu: number;
	readonly timestamp?: number | undefined;
	readonly timestampNs?: bigint | undefined;
	readonly pid?: number | undefined;
	readonly comm?: string | undefined;
	/**
	 * entry "f() {", exit "}", leaf "f();", comment "/* ... *\/" (events
	 * printed inside a graph), switch (a task change on the CPU),
	 * irq-entry / irq-exit ("==========>" / "<==========").
	 */
	readonly type: 'entry' | 'exit' | 'leaf' | 'comment' | 'switch' | 'irq-entry' | 'irq-exit';
	/** Call depth from the indentation (0 = outermost). */
	readonly depth: number;
	/** Function name; for exits, from the tail comment "} /* f *\/" when present. */
	readonly func?: string | undefined;
	/** Duration in µs on leaf and exit lines. */
	readonly durationUs?: number | undefined;
	/** The kernel's duration marker: + >10µs, ! >100µs, # >1ms, * >10ms, @ >100ms, $ >1s. */
	readonly marker?: string | undefined;
	/** Comment text, or for exits the return value text ("= 0x0") when printed. */
	readonly comment?: string | undefined;
	/** For switch lines: the task that ran before and after ("comm-pid"). */
	readonly from?: string | undefined;
	readonly to?: string | undefined;
}

/** A stack trace whose event could not be identified (it is normally attached to the event). */
export interface StackTrace extends RecordContext {
	readonly kind: 'stack';
	readonly user: boolean;
	readonly frames: string[];
}

/**
 * Events the kernel dropped. Readers never pass over a gap silently: they
 * yield this where the gap is, and at the end for counts only known from
 * per_cpu stats.
 */
export interface LostEvents {
	readonly kind: 'lost';
	readonly cpu: number;
	/** How many; undefined when the kernel only said "some" (page flag without a stored count). */
	readonly count: number | undefined;
	/**
	 * text: a "CPU:N [LOST n EVENTS]" line; page: a ring-buffer page's
	 * missed-events flag; overrun / dropped: per_cpu/cpuN/stats growth seen
	 * by the reader between its start and end.
	 */
	readonly source: 'text' | 'page' | 'overrun' | 'dropped';
	/** Where the gap is, when known. */
	readonly timestampNs?: bigint | undefined;
}

export type TraceRecord = TraceEvent | FunctionCall | GraphLine | StackTrace | LostEvents;

/** A FieldValue as a bigint (numbers and bigints; throws TypeError for strings and arrays). */
export function toBigInt(value: FieldValue | undefined): bigint {
	if (typeof value === 'bigint') {
		return value;
	}

	if (typeof value === 'number' && Number.isInteger(value)) {
		return BigInt(value);
	}

	throw new TypeError(`not an integer field value: ${String(value)}`);
}

/** A bigint as a number when safe, else the bigint: the readers' rule for 64-bit values. */
export function normalizeInteger(value: bigint): number | bigint {
	return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? Number(value) : value;
}

/** Major number of a kernel-internal dev_t (the `dev` field of block events: major << 20 | minor). */
export function devMajor(dev: FieldValue | undefined): number {
	return Number(toBigInt(dev) >> 20n);
}

/** Minor number of a kernel-internal dev_t. */
export function devMinor(dev: FieldValue | undefined): number {
	return Number(toBigInt(dev) & 0xF_FFFFn);
}

/** Nanoseconds to float seconds. */
export function nsToSeconds(ns: bigint): number {
	return Number(ns / 1000n) / 1e6 + Number(ns % 1000n) / 1e9;
}
