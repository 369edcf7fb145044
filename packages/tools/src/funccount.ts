import {
	HistTrigger, Instance, ProbeGroup, Tracefs, TracefsError, globToRegExp, hasFunctionProfiler, readFunctionProfile, readProbeHits,
	setFunctionProfiler, validateFunctionGlob, validateValue, type EventId, type Histogram,
} from '@ftrace-ts/tracefs';
import {FoldedCounter, cleanKernelFrame, foldKernelStack} from './folded.js';
import {matchFunctions} from './function-setup.js';
import {ToolSession, sleepUnlessAborted} from './session.js';
import {pidFilter, threadsOf} from './tool-options.js';

/** How the kernel counts: the function profiler, kprobe hit counts, or hist triggers. */
export type CountMechanism = 'function-profiler' | 'kprobe-profile' | 'hist';

export const defaultMaxProbes = 1000;

export interface FunccountOptions {
	/** Kernel function globs ("vfs_*"), and tracepoints as "t:SYSTEM:EVENT" or "SYSTEM:EVENT" (globs allowed). */
	readonly patterns: readonly string[];
	/** Summary every this many seconds (-i). */
	readonly intervalSec?: number | undefined;
	/** End after this many seconds (-d). */
	readonly durationSec?: number | undefined;
	/** Only the N highest counts (-t). */
	readonly top?: number | undefined;
	/** Count only this process (every thread) or thread. Uses hist triggers. */
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	/** Break counts down by thread (PID and COMM). Uses hist triggers. */
	readonly perProcess?: boolean | undefined;
	/**
	 * Count by kernel stack too (-s): hist triggers keyed by the task and the
	 * stack; summaries then carry `stacks`.
	 */
	readonly stacks?: boolean | undefined;
	/** At most this many kprobes or hist triggers (each costs the kernel some work and memory). */
	readonly maxProbes?: number | undefined;
	/** Force a mechanism instead of the best available. */
	readonly mechanism?: CountMechanism | undefined;
	readonly signal?: AbortSignal | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/** One counted function or tracepoint (per thread with perProcess). */
export interface FuncCount {
	readonly func: string;
	readonly count: number;
	readonly pid?: number | undefined;
	readonly comm?: string | undefined;
}

/** One kernel stack of a counted function or tracepoint, with its count (-s). */
export interface StackCount {
	/** The function or tracepoint counted. */
	readonly func: string;
	/**
	 * Frames innermost first, as bare function names (no offsets or modules;
	 * `[unknown]` for a bare address): the counted function first, the
	 * probe's own frames dropped; a tracepoint's name comes first, before
	 * the function that hit it.
	 */
	readonly stack: readonly string[];
	/** The command of the task (as the kernel saw it when the stack was first counted). */
	readonly comm: string;
	/** The task's PID, with perProcess only (otherwise stacks of all tasks with this comm add up). */
	readonly pid?: number | undefined;
	readonly count: number;
}

export type FunccountRecord =
	| {
		readonly kind: 'start';
		readonly mechanism: CountMechanism;
		/** Functions and tracepoints being counted. */
		readonly counted: number;
		/** Matched but left out by the cap. */
		readonly capped: number;
		/** Functions the kernel would not probe, with why. */
		readonly skipped: ReadonlyArray<{readonly func: string; readonly reason: string}>;
		readonly group?: string | undefined;
	}
	| {readonly kind: 'note'; readonly text: string}
	| {
		readonly kind: 'summary';
		/** ISO time of the summary. */
		readonly time: string;
		/** Seconds this summary covers. */
		readonly seconds: number;
		/** Ascending by count (the original's order); with `top`, the N highest. */
		readonly counts: readonly FuncCount[];
		/** With `stacks`: ascending by count; with `top`, the N highest. */
		readonly stacks?: readonly StackCount[] | undefined;
		readonly final: boolean;
	};

interface Target {
	/** The name shown: the function, or SYSTEM:EVENT. */
	readonly label: string;
	readonly event: EventId;
	/** A kernel function (a kprobe of ours) rather than a tracepoint. */
	readonly isFunction: boolean;
	readonly trigger?: HistTrigger | undefined;
}

type Snapshot = Map<string, {func: string; pid?: number | undefined; comm?: string | undefined; stack?: readonly string[] | undefined; count: number}>;

/** The hist trigger keys of -s: the task (its comm saved by the kernel) and the kernel stack. */
export const stackHistKeys = ['common_pid.execname', 'stacktrace'] as const;

/** Whether a pattern names tracepoints ("t:block:*", "syscalls:sys_enter_*"). */
export function isTracepointPattern(pattern: string): boolean {
	return pattern.startsWith('t:') || pattern.includes(':');
}

function usage(message: string, hint?: string): TracefsError {
	return new TracefsError(message, {operation: 'validate', usage: true, hint});
}

function missing(message: string, hint: string): TracefsError {
	return new TracefsError(message, {operation: 'count', code: 'ENOENT', usage: false, hint});
}

/** An event name of ours for a function (kprobe_profile shows no group: make it ours by PID). */
function eventNameFor(func: string, used: Set<string>): string {
	const base = `c${process.pid}_${func.replaceAll(/\W/g, '_')}`.slice(0, 60);
	let name = base;
	for (let n = 2; used.has(name); n++) {
		name = `${base.slice(0, 56)}_${n}`;
	}

	used.add(name);
	return name;
}

async function matchTracepoints(instance: Instance, patterns: readonly string[]): Promise<EventId[]> {
	const all = await instance.allEvents();
	const result: EventId[] = [];
	const seen = new Set<string>();
	for (const pattern of patterns) {
		const spec = pattern.replace(/^t:/, '');
		const match = /^([\w*?[\]!]+):([\w*?[\]!]+)$/.exec(spec);
		if (!match) {
			throw usage(`tracepoint pattern "${pattern}" is not t:SYSTEM:EVENT (globs allowed, eg, 't:block:*')`);
		}

		const system = globToRegExp(match[1]!);
		const event = globToRegExp(match[2]!);
		const hits = all.filter(id => system.test(id.system) && event.test(id.event));
		if (hits.length === 0) {
			throw usage(`no tracepoint matches "${pattern}"`, 'list them with: tpoint -l');
		}

		for (const id of hits) {
			const key = `${id.system}:${id.event}`;
			if (!seen.has(key)) {
				seen.add(key);
				result.push(id);
			}
		}
	}

	return result;
}

/**
 * A stack as a hist trigger recorded it (innermost first, `func+0x5/0x310`
 * frames) turned into the stack funccount -s shows for `counted`: bare
 * function names (see cleanKernelFrame), and `counted` innermost. For a
 * kprobe the kernel's stack starts inside the probe (kprobe_ftrace_handler,
 * the ftrace trampoline's bare address, then the function): frames inside
 * the counted function are dropped. A tracepoint's stack starts at the
 * function that hit it: the tracepoint's name goes first.
 */
export function countedStack(counted: string, frames: readonly string[], isFunction: boolean): string[] {
	const cleaned = frames.map(frame => cleanKernelFrame(frame));
	const at = isFunction ? cleaned.indexOf(counted) : -1;
	return at === -1 ? [counted, ...cleaned] : cleaned.slice(at);
}

/**
 * The stacks in a histogram of `hist:keys=common_pid.execname,stacktrace`
 * (the trigger funccount -s adds; `common_stacktrace` on Linux 6.5+), each
 * as {@link countedStack} makes it. Records that become the same stack
 * (frames differing only in offsets) and comm, and PID with `perProcess`,
 * are added up. Records without a stack are skipped. In hist file order.
 */
export function stackCountsFromHist(histogram: Histogram, counted: string, options: {readonly isFunction: boolean; readonly perProcess?: boolean | undefined}): StackCount[] {
	const merged = new Map<string, {func: string; stack: string[]; comm: string; pid?: number | undefined; count: number}>();
	for (const record of histogram.records) {
		const frames = (record.key['stacktrace'] ?? record.key['common_stacktrace'])?.frames;
		if (!frames || frames.length === 0) {
			continue;
		}

		const task = record.key['common_pid'];
		const comm = task?.comm ?? '';
		const pid = options.perProcess ? task?.number : undefined;
		const stack = countedStack(counted, frames, options.isFunction);
		const key = `${pid ?? ''}\u0000${comm}\u0000${stack.join(';')}`;
		const entry = merged.get(key);
		if (entry) {
			entry.count += record.hitcount;
		} else {
			merged.set(key, {func: counted, stack, comm, ...(options.perProcess ? {pid} : {}), count: record.hitcount});
		}
	}

	return [...merged.values()];
}

/**
 * Stacks folded for flamegraph: `comm;outermost;...;counted count` lines
 * (the format of tpoint -s --folded; `comm-PID` first with perProcess, as
 * stackcollapse-perf --pid writes it; no comm when the stack has none),
 * counts added up per line.
 */
export function foldStackCounts(stacks: readonly StackCount[], perProcess = false): FoldedCounter {
	const counter = new FoldedCounter();
	for (const entry of stacks) {
		const task = perProcess && entry.pid !== undefined ? `${entry.comm}-${entry.pid}` : entry.comm;
		counter.add(foldKernelStack(entry.stack, task === '' ? undefined : task), entry.count);
	}

	return counter;
}

function stackKey(entry: {func: string; pid?: number | undefined; comm?: string | undefined; stack: readonly string[]}): string {
	return `${entry.func}\u0000${entry.pid ?? ''}\u0000${entry.comm ?? ''}\u0000${entry.stack.join(';')}`;
}

function compareCounts(a: {count: number; func: string; pid?: number | undefined}, b: {count: number; func: string; pid?: number | undefined}): number {
	return a.count - b.count || (a.func < b.func ? -1 : a.func > b.func ? 1 : (a.pid ?? 0) - (b.pid ?? 0));
}

/** With -s: the stacks counted since `before`, and the per-function (per-thread with perProcess) totals they add up to. */
function summarizeStacks(now: Snapshot, before: Snapshot | undefined, top: number | undefined): {counts: FuncCount[]; stacks: StackCount[]} {
	const stacks: StackCount[] = [];
	const totals = new Map<string, {func: string; pid?: number | undefined; comm?: string | undefined; count: number}>();
	for (const [key, entry] of now) {
		const count = entry.count - (before?.get(key)?.count ?? 0);
		if (count <= 0 || !entry.stack) {
			continue;
		}

		stacks.push({func: entry.func, stack: entry.stack, comm: entry.comm ?? '', ...(entry.pid === undefined ? {} : {pid: entry.pid}), count});
		const totalKey = `${entry.func}\u0000${entry.pid ?? ''}`;
		const total = totals.get(totalKey) ?? {func: entry.func, ...(entry.pid === undefined ? {} : {pid: entry.pid, comm: entry.comm}), count: 0};
		total.count += count;
		totals.set(totalKey, total);
	}

	const counts: FuncCount[] = [...totals.values()].sort(compareCounts);
	const text = (entry: StackCount) => `${entry.comm}\u0000${entry.stack.join(';')}`;
	stacks.sort((a, b) => compareCounts(a, b) || (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
	return top === undefined ? {counts, stacks} : {counts: counts.slice(-top), stacks: stacks.slice(-top)};
}

function summarize(now: Snapshot, before: Snapshot | undefined, top: number | undefined): FuncCount[] {
	const counts: FuncCount[] = [];
	for (const [key, entry] of now) {
		const count = entry.count - (before?.get(key)?.count ?? 0);
		if (count > 0) {
			counts.push({func: entry.func, count, ...(entry.pid === undefined ? {} : {pid: entry.pid, comm: entry.comm})});
		}
	}

	counts.sort(compareCounts);
	return top === undefined ? counts : counts.slice(-top);
}

/**
 * funccount: count kernel function calls (and tracepoints) in the kernel,
 * yielding a summary per interval and a final one. The mechanism is the
 * function profiler where the kernel has it; otherwise one kprobe per
 * function in this process's own group, read from kprobe_profile; with a
 * PID filter, a per-process breakdown, tracepoints or stacks, hist
 * triggers (with `stacks`, keyed by task and kernel stack: see
 * {@link stackCountsFromHist}). Everything is undone on every exit path.
 * Throws a runtime TracefsError naming the missing kernel feature, a usage
 * one for bad patterns or a mechanism that cannot count stacks.
 */
export async function * funccount(options: FunccountOptions): AsyncGenerator<FunccountRecord> {
	if (options.patterns.length === 0) {
		throw usage('a function pattern is needed (eg, \'vfs_*\'); try -h');
	}

	const tracepointPatterns = options.patterns.filter(pattern => isTracepointPattern(pattern));
	const functionPatterns = options.patterns.filter(pattern => !isTracepointPattern(pattern));
	// Bad input is the user's to fix whatever this kernel can do: check it first.
	for (const pattern of functionPatterns) {
		validateFunctionGlob(pattern, 'function pattern');
	}

	for (const pattern of tracepointPatterns) {
		validateValue(pattern, 'tracepoint pattern');
	}

	if (options.stacks && options.mechanism !== undefined && options.mechanism !== 'hist') {
		throw usage(`-s counts stacks with hist triggers, not ${options.mechanism}: drop --mechanism or make it hist`);
	}

	const tids = options.pid === undefined ? (options.tid === undefined ? undefined : [options.tid]) : threadsOf(options.pid);
	const maxProbes = options.maxProbes ?? defaultMaxProbes;
	const tracefs = options.tracefs ?? await Tracefs.find();

	const hasProfiler = await hasFunctionProfiler(tracefs);
	const hasKprobes = await tracefs.exists('kprobe_events');
	const hasHist = ((await tracefs.readIfExists('README')) ?? '').includes('hist:keys');
	const needsHist = tids !== undefined || options.perProcess === true || tracepointPatterns.length > 0 || options.stacks === true;
	let mechanism: CountMechanism;
	if (options.mechanism) {
		mechanism = options.mechanism;
	} else if (needsHist) {
		mechanism = 'hist';
	} else if (hasProfiler) {
		mechanism = 'function-profiler';
	} else if (hasKprobes) {
		mechanism = 'kprobe-profile';
	} else {
		throw missing('this kernel can count functions with neither the function profiler nor kprobes',
			'it needs CONFIG_FUNCTION_PROFILER or CONFIG_KPROBE_EVENTS (with CONFIG_HIST_TRIGGERS for -p and -P)');
	}

	if (mechanism === 'hist' && !hasHist) {
		if (options.stacks) {
			// Streaming every event's stack to fold it here is tpoint's and kprobe's job, at their cost.
			const streamers = [tracepointPatterns.length > 0 ? 'tpoint -s --folded' : '', functionPatterns.length > 0 ? 'kprobe -s --folded' : ''].filter(Boolean);
			throw missing('counting by kernel stack (-s) needs hist triggers, which this kernel lacks',
				`it needs CONFIG_HIST_TRIGGERS; without them, ${streamers.join(' or ')} streams each event's stack instead`);
		}

		throw missing(`${tracepointPatterns.length > 0 ? 'counting tracepoints needs' : '-p, -L and -P need'} hist triggers, which this kernel lacks`, 'it needs CONFIG_HIST_TRIGGERS');
	}

	if (mechanism === 'hist' && functionPatterns.length > 0 && !hasKprobes) {
		throw missing('counting functions with hist triggers needs kprobes, which this kernel lacks', 'it needs CONFIG_KPROBE_EVENTS');
	}

	if (mechanism === 'kprobe-profile' && !hasKprobes) {
		throw missing('this kernel lacks kprobe events', 'it needs CONFIG_KPROBE_EVENTS');
	}

	if (mechanism === 'function-profiler' && !hasProfiler) {
		throw missing('this kernel has no function profiler', 'it needs CONFIG_FUNCTION_PROFILER (Debian kernels lack it)');
	}

	if (mechanism !== 'hist' && tracepointPatterns.length > 0) {
		throw usage(`tracepoints are counted with hist triggers, not ${mechanism}`);
	}

	const session = await ToolSession.open({tool: 'funccount', signal: options.signal, tracefs});
	try {
		const instance = session.instance;
		const top = Instance.top(tracefs, {journal: session.journal});
		const functions = functionPatterns.length > 0 ? await matchFunctions(top, functionPatterns) : [];
		const tracepoints = tracepointPatterns.length > 0 ? await matchTracepoints(instance, tracepointPatterns) : [];
		const wanted = functions.length + tracepoints.length;
		const limited = mechanism === 'function-profiler' ? functions : functions.slice(0, Math.max(0, maxProbes - tracepoints.length));
		const capped = mechanism === 'function-profiler' ? 0 : wanted - limited.length - Math.min(tracepoints.length, maxProbes);
		const skipped: Array<{func: string; reason: string}> = [];
		const targets: Target[] = [];
		let group: ProbeGroup | undefined;
		let read: () => Promise<Snapshot>;
		// Events a full hist table could not count, and what the kernel says the table holds.
		let dropped = 0;
		let tableSize = 2048;

		if (mechanism === 'function-profiler') {
			await top.setFunctionFilter('set_ftrace_filter', functionPatterns);
			if ((await tracefs.read('function_profile_enabled')).trim() !== '0') {
				throw new TracefsError('the function profiler is in use (function_profile_enabled is 1)', {operation: 'count', code: 'EBUSY', usage: false});
			}

			await setFunctionProfiler(tracefs, true);
			session.journal.record('function_profile_enabled: 1 -> 0', async () => setFunctionProfiler(tracefs, false));
			const wantedSet = new Set(functions);
			read = async () => {
				const snapshot: Snapshot = new Map();
				for (const row of await readFunctionProfile(tracefs)) {
					if (wantedSet.has(row.function)) {
						snapshot.set(row.function, {func: row.function, count: row.hits});
					}
				}

				return snapshot;
			};
		} else {
			group = ProbeGroup.open(tracefs, {journal: session.journal});
			const used = new Set<string>();
			for (const func of limited) {
				if (options.signal?.aborted) {
					break;
				}

				try {
					// eslint-disable-next-line no-await-in-loop
					const probe = await group.add({kind: 'kprobe', probe: 'entry', event: eventNameFor(func, used), location: {type: 'symbol', symbol: func, offset: 0}, args: []});
					targets.push({label: func, event: {system: probe.system, event: probe.event}, isFunction: true});
				} catch (error) {
					if (!(error instanceof TracefsError) || !error.usage) {
						throw error;
					}

					skipped.push({func, reason: error.kernel?.message ?? error.code ?? error.message});
				}
			}

			for (const id of tracepoints.slice(0, maxProbes)) {
				targets.push({label: `${id.system}:${id.event}`, event: id, isFunction: false});
			}

			if (targets.length === 0) {
				throw usage(`the kernel would probe none of the ${functions.length} matching functions${skipped[0] ? ` (${skipped[0].func}: ${skipped[0].reason})` : ''}`);
			}

			if (mechanism === 'kprobe-profile') {
				// Hits count whenever the probe fires; with tracing off in our
				// instance nothing is written to a ring buffer.
				await instance.setTracingOn(false);
				await instance.setSystemEnabled(group.name, true);
				const byEvent = new Map(targets.map(target => [target.event.event, target.label]));
				read = async () => {
					const snapshot: Snapshot = new Map();
					for (const [event, hits] of await readProbeHits(tracefs, 'kprobe', [...byEvent.keys()])) {
						const func = byEvent.get(event)!;
						snapshot.set(func, {func, count: hits});
					}

					return snapshot;
				};
			} else {
				const filter = tids === undefined ? undefined : pidFilter(tids);
				const keys = options.stacks ? [...stackHistKeys] : [options.perProcess ? 'common_pid.execname' : 'common_pid'];
				const withTriggers: Target[] = [];
				for (const target of targets) {
					// eslint-disable-next-line no-await-in-loop
					const trigger = await HistTrigger.create(instance, target.event, {keys, filter});
					withTriggers.push({...target, trigger});
				}

				read = async () => {
					const snapshot: Snapshot = new Map();
					let droppedNow = 0;
					for (const target of withTriggers) {
						// eslint-disable-next-line no-await-in-loop
						const histogram = await target.trigger!.read();
						droppedNow += histogram.totals.dropped;
						tableSize = Number(/:size=(\d+)/.exec(histogram.trigger)?.[1] ?? tableSize);
						if (options.stacks) {
							for (const entry of stackCountsFromHist(histogram, target.label, {isFunction: target.isFunction, perProcess: options.perProcess})) {
								snapshot.set(stackKey(entry), entry);
							}

							continue;
						}

						for (const record of histogram.records) {
							const pidKey = record.key['common_pid'];
							if (options.perProcess && pidKey) {
								const key = `${target.label}\u0000${pidKey.number ?? pidKey.raw}`;
								const entry = snapshot.get(key) ?? {func: target.label, pid: pidKey.number, comm: pidKey.comm ?? '', count: 0};
								entry.count += record.hitcount;
								snapshot.set(key, entry);
							} else {
								const entry = snapshot.get(target.label) ?? {func: target.label, count: 0};
								entry.count += record.hitcount;
								snapshot.set(target.label, entry);
							}
						}
					}

					dropped = droppedNow;
					return snapshot;
				};
			}
		}

		yield {kind: 'start', mechanism, counted: mechanism === 'function-profiler' ? functions.length : targets.length, capped, skipped, group: group?.name};
		const started = Date.now();
		let previous: Snapshot | undefined;
		let droppedReported = 0;
		let last = started;
		for (;;) {
			const remaining = options.durationSec === undefined ? Number.POSITIVE_INFINITY : started + (options.durationSec * 1000) - Date.now();
			const interval = options.intervalSec === undefined ? Number.POSITIVE_INFINITY : options.intervalSec * 1000;
			// Timers keep the process alive while it waits for a signal: wait in bounded steps.
			// eslint-disable-next-line no-await-in-loop
			await sleepUnlessAborted(Math.max(0, Math.min(interval - (Date.now() - last), remaining, 60_000)), options.signal);
			const due = Date.now() - last >= interval - 5 || Date.now() >= started + ((options.durationSec ?? Number.POSITIVE_INFINITY) * 1000) - 5;
			if (!options.signal?.aborted && !due) {
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			const now = await read();
			const final = options.signal?.aborted === true || (options.durationSec !== undefined && Date.now() >= started + (options.durationSec * 1000) - 5);
			const time = Date.now();
			if (dropped > droppedReported) {
				yield {kind: 'note', text: `${dropped - droppedReported} events not counted: a hist table is full (${tableSize} ${options.stacks ? 'stacks' : 'keys'} per event)`};
				droppedReported = dropped;
			}

			const since = options.intervalSec === undefined ? undefined : previous;
			const summary = options.stacks ? summarizeStacks(now, since, options.top) : {counts: summarize(now, since, options.top)};
			yield {kind: 'summary', time: new Date(time).toISOString(), seconds: (time - last) / 1000, ...summary, final};
			previous = now;
			last = time;
			if (final) {
				break;
			}
		}
	} finally {
		await session.close();
	}
}
