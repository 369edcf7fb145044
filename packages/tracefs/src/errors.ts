/**
 * The one error type of the binding. Every failure to read or write a tracefs
 * file, and every refused value, becomes a TracefsError carrying what was being
 * done, where, the errno code, and the kernel's own error_log message when the
 * kernel wrote one.
 */
export interface KernelErrorLogEntry {
	/** Seconds timestamp as the kernel printed it, e.g. "1234.567890". */
	readonly timestamp: string;
	/** Subsystem that logged it, e.g. "event filter parser", "trace_kprobe". */
	readonly location: string;
	/** The kernel's message, e.g. "Field not found". */
	readonly message: string;
	/** The command the kernel was parsing, as it echoed it. */
	readonly command: string;
	/** Index into `command` that the kernel's caret points at, if any. */
	readonly caret?: number | undefined;
}

export interface TracefsErrorOptions {
	readonly operation: string;
	readonly path?: string | undefined;
	readonly code?: string | undefined;
	readonly kernel?: KernelErrorLogEntry | undefined;
	readonly hint?: string | undefined;
	readonly cause?: unknown;
	/** Usage errors (bad input) exit 2 in the tools; runtime failures exit 1. */
	readonly usage?: boolean | undefined;
}

export class TracefsError extends Error {
	override readonly name = 'TracefsError';
	/** What was being done: "write", "read", "create instance", "validate"... */
	readonly operation: string;
	/** The tracefs path involved, if any. */
	readonly path: string | undefined;
	/** errno code (EINVAL, ENOENT, EBUSY...) when the kernel refused. */
	readonly code: string | undefined;
	/** The kernel's own error_log entry for this failure, when it wrote one. */
	readonly kernel: KernelErrorLogEntry | undefined;
	/** Advice for the common causes (not root, not mounted, missing CONFIG_). */
	readonly hint: string | undefined;
	/** True when the cause is bad input rather than the system. */
	readonly usage: boolean;

	constructor(message: string, options: TracefsErrorOptions) {
		super(message, options.cause === undefined ? undefined : {cause: options.cause});
		this.operation = options.operation;
		this.path = options.path;
		this.code = options.code;
		this.kernel = options.kernel;
		this.hint = options.hint;
		this.usage = options.usage ?? (options.code === 'EINVAL' || options.operation === 'validate');
	}

	/** One line for a terminal: the message, the kernel's word, then the hint. */
	oneLine(): string {
		let line = this.message;
		if (this.kernel && !line.includes(this.kernel.message)) {
			line += `: kernel says "${this.kernel.message}"`;
			if (this.kernel.caret !== undefined) {
				line += ` at position ${this.kernel.caret} of "${this.kernel.command}"`;
			}
		}
		if (this.hint) {
			line += ` (${this.hint})`;
		}
		return line.replaceAll(/[\n\r]+/g, ' ');
	}
}

/** Kernel features and the CONFIG_ options that give them, for hints. */
export const featureConfig: Readonly<Record<string, string>> = {
	kprobe_events: 'CONFIG_KPROBE_EVENTS',
	uprobe_events: 'CONFIG_UPROBE_EVENTS',
	function: 'CONFIG_FUNCTION_TRACER',
	function_graph: 'CONFIG_FUNCTION_GRAPH_TRACER',
	function_profile_enabled: 'CONFIG_FUNCTION_PROFILER',
	hist: 'CONFIG_HIST_TRIGGERS',
	snapshot: 'CONFIG_TRACER_SNAPSHOT',
	dynamic_events: 'CONFIG_DYNAMIC_EVENTS',
	syscalls: 'CONFIG_FTRACE_SYSCALLS',
	instances: 'CONFIG_TRACING (4.x+ instances)',
	kprobe_profile: 'CONFIG_KPROBE_EVENTS',
	trace_pipe_raw: 'CONFIG_RING_BUFFER',
};

/** A hint for an errno met while touching `path`. */
export function hintFor(code: string | undefined, path: string | undefined): string | undefined {
	const base = path ? path.split('/').at(-1) ?? '' : '';
	switch (code) {
		case 'EACCES':
		case 'EPERM': {
			if (process.getuid?.() !== 0) {
				return 'tracing needs root: run with sudo';
			}

			return base === 'current_tracer'
				? 'the kernel refused this tracer (lockdown, or it is not permitted on this kernel)'
				: 'the kernel refused the operation (lockdown or a security module may forbid tracing)';
		}

		case 'ENOENT': {
			const config = featureConfig[base];
			return config ? `this kernel lacks ${base}: it needs ${config}` : undefined;
		}

		case 'EBUSY': {
			return 'it is in use: disable the events or tracers that use it first';
		}

		case 'ENODEV': {
			return 'tracefs is not available: is CONFIG_TRACING set and tracefs mounted?';
		}

		default: {
			return undefined;
		}
	}
}

/** The errno code of a Node fs error, or undefined. */
export function errnoCode(error: unknown): string | undefined {
	return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
		? error.code
		: undefined;
}
