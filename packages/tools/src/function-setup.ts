import {Instance, Tracefs, TracefsError, validateFunctionGlob} from '@ftrace-ts/tracefs';
import {ToolSession, bufferOverride} from './session.js';
import {threadsOf} from './tool-options.js';
import {traceLines, type TraceLine, type TraceLost} from './trace-lines.js';

/**
 * Setup steps shared by functrace, funcgraph, funcslower and funccount:
 * finding the functions a pattern names (with a clear message when the
 * kernel will not say), choosing the instance a function_graph run
 * can use, and the run that functrace, funcgraph and funcslower share.
 */

/** Patterns from the command line: each checked as a function glob. */
export function functionPatterns(patterns: readonly string[]): string[] {
	if (patterns.length === 0) {
		throw new TracefsError('a function pattern is needed (eg, \'vfs_*\'); try -h', {operation: 'validate', usage: true});
	}

	return patterns.map(pattern => validateFunctionGlob(pattern, 'function pattern'));
}

/**
 * The traceable functions matching any of `patterns`, from
 * available_filter_functions. Throws a runtime TracefsError naming the
 * missing feature when the kernel lists none or refuses to list them (the
 * function tracer is then unusable too), and a usage one when a pattern
 * matches nothing.
 */
export async function matchFunctions(instance: Instance, patterns: readonly string[]): Promise<string[]> {
	let all: string[];
	try {
		all = await instance.searchFunctions();
	} catch (error) {
		const code = error instanceof TracefsError ? error.code : undefined;
		throw new TracefsError(code === 'ENOENT'
			? 'this kernel has no function tracing (available_filter_functions is missing)'
			: `this kernel refuses function tracing (available_filter_functions: ${code ?? 'unreadable'})`, {
			operation: 'read', path: instance.tracefs.path('available_filter_functions'), code, cause: error, usage: false,
			hint: code === 'ENOENT'
				? 'it needs CONFIG_FUNCTION_TRACER (CONFIG_DYNAMIC_FTRACE)'
				: 'lockdown or a security policy forbids the function tracer; kprobes or uprobes may still work',
		});
	}

	if (all.length === 0) {
		throw new TracefsError('this kernel lists no traceable functions (available_filter_functions is empty)', {
			operation: 'read', path: instance.tracefs.path('available_filter_functions'), usage: false,
			hint: 'it needs CONFIG_DYNAMIC_FTRACE',
		});
	}

	const matched = new Set<string>();
	for (const pattern of patterns) {
		// eslint-disable-next-line no-await-in-loop
		const hits = await instance.searchFunctions(pattern);
		if (hits.length === 0) {
			throw new TracefsError(`no traceable function matches "${pattern}"`, {
				operation: 'validate', usage: true,
				hint: 'see available_filter_functions; inlined and notrace functions cannot be traced',
			});
		}

		for (const hit of hits) {
			matched.add(hit);
		}
	}

	return [...matched];
}

/** Throw a runtime error naming the tracer when the kernel does not offer it. */
export async function requireTracer(instance: Instance, tracer: 'function' | 'function_graph'): Promise<void> {
	const available = await instance.availableTracers();
	if (!available.includes(tracer)) {
		throw new TracefsError(`this kernel lacks the ${tracer} tracer (available_tracers: ${available.join(' ') || 'none'})`, {
			operation: 'set tracer', path: instance.path('available_tracers'), code: 'ENOENT', usage: false,
			hint: `it needs ${tracer === 'function' ? 'CONFIG_FUNCTION_TRACER' : 'CONFIG_FUNCTION_GRAPH_TRACER'}`,
		});
	}
}

/** Where a function_graph run happens, and why. */
export interface GraphPlacement {
	readonly instance: Instance;
	/** Set when the top instance had to be used: the reason, for a note. */
	readonly fallback?: string | undefined;
}

/**
 * The instance for function_graph: the session's own when the kernel offers
 * function_graph in instances (6.12+); otherwise the top instance, journaled
 * in the session (every change undone on close), and only when no other
 * tracer is active there; FTRACE_TS_BUFFER_KB then sizes the top's buffer.
 * Throws TracefsError (runtime) when function_graph is missing or the top
 * instance is busy.
 */
export async function placeGraphTracer(session: ToolSession): Promise<GraphPlacement> {
	const top = Instance.top(session.tracefs, {journal: session.journal});
	await requireTracer(top, 'function_graph');
	if ((await session.instance.availableTracers()).includes('function_graph')) {
		return {instance: session.instance};
	}

	const current = await top.currentTracer();
	if (current !== 'nop') {
		throw new TracefsError(`ftrace is in use: the top instance's current_tracer is "${current}", and this kernel offers function_graph only there`, {
			operation: 'set tracer', path: top.path('current_tracer'), code: 'EBUSY', usage: false,
			hint: 'end the other tracer first (reset-ftrace resets a stale one)',
		});
	}

	if (!(await top.isTracingOn())) {
		await top.setTracingOn(true);
	}

	const bufferSizeKb = bufferOverride();
	if (bufferSizeKb !== undefined) {
		await top.setBufferSizeKb(bufferSizeKb);
	}

	return {instance: top, fallback: 'this kernel offers function_graph only in the top instance (not in instances): using it, and restoring it on exit'};
}

/** set_ftrace_pid for -p PID (every thread) or -L TID. */
export async function followPids(instance: Instance, tids: readonly number[] | undefined): Promise<void> {
	if (tids !== undefined) {
		await instance.setFtracePids(tids);
	}
}

/** What functrace, funcgraph and funcslower all take. */
export interface FunctionRunOptions {
	/** Function globs ("vfs_*", "do_nanosleep"); any of them. */
	readonly patterns: readonly string[];
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	readonly durationSec?: number | undefined;
	readonly headers?: boolean | undefined;
	readonly signal?: AbortSignal | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/** What functrace, funcgraph and funcslower yield: a start record, maybe a note, then the kernel's lines and lost-event gaps. */
export type FunctionRecord =
	| {readonly kind: 'start'; readonly functions: number; readonly instance: string}
	| {readonly kind: 'note'; readonly text: string}
	| TraceLine
	| TraceLost;

/** A tool's setup, done: the instance to read, how many functions matched, a note for the user, lines to drop. */
export interface FunctionSetup {
	readonly instance: Instance;
	readonly functions: number;
	readonly note?: string | undefined;
	readonly keep?: ((text: string) => boolean) | undefined;
}

/**
 * A function tool's run: check the patterns and the PID, open the tool's
 * session, run `setup` in it, then yield the start record, the note and the
 * kernel's lines (live, or buffered for a duration). The session is closed,
 * every change undone, on every exit path. Throws what `setup` throws.
 */
export async function * runFunctionTracer(
	tool: string,
	options: FunctionRunOptions,
	setup: (session: ToolSession, patterns: readonly string[], tids: readonly number[] | undefined) => Promise<FunctionSetup>,
): AsyncGenerator<FunctionRecord> {
	const patterns = functionPatterns(options.patterns);
	const tids = options.pid === undefined ? (options.tid === undefined ? undefined : [options.tid]) : threadsOf(options.pid);
	const tracefs = options.tracefs ?? await Tracefs.find();
	const session = await ToolSession.open({tool, signal: options.signal, tracefs});
	try {
		const {instance, functions, note, keep} = await setup(session, patterns, tids);
		yield {kind: 'start', functions, instance: instance.label};
		if (note) {
			yield {kind: 'note', text: note};
		}

		yield * traceLines(instance, {durationSec: options.durationSec, headers: options.headers, keep, signal: options.signal});
	} finally {
		await session.close();
	}
}
