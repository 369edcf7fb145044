import {
	ProbeGroup, Tracefs, TracefsError, parseProbeDefinition, validateProbeDefinition,
	type EventId, type ParsedProbeDefinition, type ProbeKind,
} from '@ftrace-ts/tracefs';
import {ToolSession} from './session.js';
import {traceLines, type TraceLine, type TraceLost} from './trace-lines.js';
import {pidFilter, threadsOf} from './tool-options.js';

/** Options shared by kprobe and uprobe (perf-tools' -FhHsv -d -p -L). */
export interface ProbeTraceOptions {
	/** The probe definition, perf-tools or kernel syntax ("p:do_sys_openat2 name=+0(%si):ustring"). */
	readonly definition: string;
	/** An event filter, e.g. 'file ~ "*stat"'. */
	readonly filter?: string | undefined;
	/** Trace this process (every thread of it). */
	readonly pid?: number | undefined;
	/** Trace this thread only. */
	readonly tid?: number | undefined;
	/** Buffered mode for this many seconds. */
	readonly durationSec?: number | undefined;
	/** Kernel (kprobe) or user (uprobe) stack trace after each event. */
	readonly stacks?: boolean | undefined;
	readonly headers?: boolean | undefined;
	/** Print the event's format file instead of tracing. */
	readonly view?: boolean | undefined;
	/** Skip the available_filter_functions check (kprobe). */
	readonly force?: boolean | undefined;
	readonly signal?: AbortSignal | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/** What a probe run yields: first `start`, then notes, lines and lost-event gaps (or the format with `view`). */
export type ProbeTraceRecord =
	| {readonly kind: 'start'; readonly probe: EventId; readonly command: string; readonly instance: string}
	| {readonly kind: 'note'; readonly text: string}
	| {readonly kind: 'format'; readonly text: string}
	| TraceLine
	| TraceLost;

/** Functions renamed or folded away across kernel versions, with what replaced them. */
const successors: Readonly<Record<string, readonly string[]>> = {
	do_sys_open: ['do_sys_openat2'],
	getname: ['getname_flags'],
	sys_open: ['__x64_sys_open', '__x64_sys_openat'],
	sys_execve: ['__x64_sys_execve', 'do_execveat_common'],
	SyS_open: ['__x64_sys_open'],
	sys_read: ['__x64_sys_read', 'ksys_read'],
};

export async function requireProbeEvents(tracefs: Tracefs, kind: ProbeKind): Promise<void> {
	if (!(await tracefs.exists(`${kind}_events`))) {
		throw new TracefsError(`this kernel lacks ${kind} events (${kind}_events is missing)`, {
			operation: 'find probe events', path: tracefs.path(`${kind}_events`), code: 'ENOENT', usage: false,
			hint: `it needs CONFIG_${kind.toUpperCase()}_EVENTS${kind === 'kprobe' ? '; user functions can still be traced with uprobe' : ''}`,
		});
	}
}

/**
 * The kprobe's function checked against available_filter_functions: an
 * unknown one is a usage error naming probeable neighbours (a renamed
 * function's successor, or names containing it). Returns notes to show.
 */
async function checkKprobeFunction(session: ToolSession, definition: ParsedProbeDefinition): Promise<string[]> {
	const location = definition.location;
	if (location.type !== 'symbol' || location.module !== undefined) {
		return [];
	}

	let functions: string[];
	try {
		functions = await session.instance.searchFunctions();
	} catch (error) {
		throw new TracefsError('cannot read available_filter_functions to check the function', {
			operation: 'read', path: session.tracefs.path('available_filter_functions'), code: error instanceof TracefsError ? error.code : undefined,
			cause: error, usage: false, hint: 'use -F to trace without the check',
		});
	}

	const known = new Set(functions);
	const symbol = location.symbol;
	const after = (successors[symbol] ?? []).filter(name => known.has(name));
	if (!known.has(symbol)) {
		const near = [...after, ...functions.filter(name => name !== symbol && name.includes(symbol))].slice(0, 6);
		throw new TracefsError(`function ${symbol} is not in available_filter_functions: it does not exist on this kernel, is inlined, or is unsafe to probe`, {
			operation: 'validate', usage: true,
			hint: near.length > 0 ? `probeable neighbours: ${[...new Set(near)].join(' ')}; -F to try anyway` : 'see available_filter_functions; -F to try anyway',
		});
	}

	return after.length > 0
		? [`note: on this kernel the callers reach ${after.join(', ')}; ${symbol} may be inlined into them and fire rarely or never: try ${after[0]}`]
		: [];
}

/**
 * Trace one kprobe or uprobe: create it in this process's probe group,
 * filter and enable it in a tracing instance of our own, and yield the
 * kernel's trace lines until the duration ends or `signal` aborts. The
 * probe, the instance and every change are undone on every exit path.
 * Throws a usage TracefsError for a bad definition or filter (with the
 * kernel's error_log message pointing into the definition) and a runtime
 * one when the kernel lacks the feature.
 */
export async function * probeTrace(kind: ProbeKind, options: ProbeTraceOptions): AsyncGenerator<ProbeTraceRecord> {
	const definition = validateProbeDefinition(parseProbeDefinition(options.definition, kind));
	if (options.pid !== undefined && options.tid !== undefined) {
		throw new TracefsError('use -p or -L, not both', {operation: 'validate', usage: true});
	}

	const tids = options.pid === undefined ? (options.tid === undefined ? undefined : [options.tid]) : threadsOf(options.pid);
	const tracefs = options.tracefs ?? await Tracefs.find();
	await requireProbeEvents(tracefs, kind);
	// Tracing starts once the probe is set up (below): the setup is not traced.
	const session = await ToolSession.open({tool: kind, signal: options.signal, tracefs, paused: true});
	try {
		const notes = kind === 'kprobe' && !options.force ? await checkKprobeFunction(session, definition) : [];
		const group = ProbeGroup.open(tracefs, {journal: session.journal});
		const probe = await group.add(options.definition, kind);
		if (options.view) {
			yield {kind: 'format', text: await session.instance.read(`events/${probe.system}/${probe.event}/format`)};
			return;
		}

		const filters = [options.filter?.trim(), tids ? pidFilter(tids) : undefined].filter((text): text is string => text !== undefined && text !== '');
		if (filters.length > 0) {
			await session.instance.setEventFilter(probe, filters.length === 1 ? filters[0]! : filters.map(text => `(${text})`).join(' && '));
		}

		if (options.stacks) {
			await session.instance.setOption(kind === 'kprobe' ? 'stacktrace' : 'userstacktrace', true);
			if (kind === 'uprobe') {
				await session.instance.setOption('sym-userobj', true).catch(() => undefined);
			}
		}

		await session.instance.enableEvent(probe);
		// A uprobe fires only in the task that runs the probed code, so our
		// own threads' hits are ours (a probe on malloc would otherwise trace
		// this reader's own allocations); not for kprobes, which also fire in
		// interrupts, where the current task may be ours and the event not.
		await session.startTracing({ignoreOwnThreads: kind === 'uprobe', tracedTids: tids});
		yield {kind: 'start', probe: {system: probe.system, event: probe.event}, command: probe.command, instance: session.instance.label};
		for (const text of notes) {
			yield {kind: 'note', text};
		}

		const stringArgs = definition.args.filter(arg => arg.type !== undefined && arg.type.base === 'string' && arg.name !== undefined);
		let explained = false;
		for await (const line of traceLines(session.instance, {durationSec: options.durationSec, headers: options.headers, signal: options.signal})) {
			yield line;
			if (!explained && kind === 'kprobe' && line.kind === 'line' && !line.header) {
				const faulted = stringArgs.find(arg => line.text.includes(` ${arg.name}=(fault)`));
				if (faulted) {
					explained = true;
					yield {kind: 'note', text: `note: ${faulted.name}=(fault): the pointer is a user-space address, which "string" cannot read; use "ustring" (e.g. ${faulted.name}=+0(%si):ustring)`};
				}
			}
		}
	} finally {
		await session.close();
	}
}
