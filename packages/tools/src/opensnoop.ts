/**
 * opensnoop core: file opens with their result and path. The result comes
 * from the syscall exit tracepoints; the path from a probe (kprobe on the
 * kernel's open path, or uprobes on the C library), paired by thread id.
 */
import {Tracefs, type EventId} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';
import {argumentRegister, chooseMechanism, probeGroupFor, probeLibrary, type ProbeMechanism} from './probe-mechanism.js';
import {traceInput, type InputRecord, type TraceStarted} from './trace-input.js';
import {parsePattern, parsePid, parseSeconds, pidFilter, threadsOf} from './tool-options.js';
import {fieldNumber, fieldString, secondsText, type ToolLost, type ToolStart} from './tool-records.js';

export interface OpensnoopOptions {
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	/** Process name, a regular expression. */
	readonly name?: string | undefined;
	/** File name, a regular expression. */
	readonly filename?: string | undefined;
	/** Only failed opens. */
	readonly failedOnly?: boolean | undefined;
	readonly durationSeconds?: number | undefined;
	readonly mechanism?: ProbeMechanism | undefined;
	readonly replay?: string | undefined;
	readonly tracefs?: Tracefs | undefined;
}

export interface OpensnoopOpen {
	readonly type: 'open';
	/** Time of the open's return, seconds as the kernel prints them. */
	readonly time: string;
	readonly comm: string;
	readonly pid: number;
	/** The file descriptor, or -1 on failure. */
	readonly fd: number;
	/** The syscall's return value (a negative errno on failure). */
	readonly ret: number;
	/** The path; undefined when the mechanism could not see it. */
	readonly file: string | undefined;
	/** Which syscall: open, openat, openat2, creat. */
	readonly syscall: string;
}

export type OpensnoopRecord = ToolStart | ToolLost | OpensnoopOpen;

/** The open syscalls whose exits give the result. */
export const openSyscalls = ['open', 'openat', 'openat2', 'creat'] as const;

/** C library functions taking the path as first (0) or second (1) argument. */
const libraryOpens: ReadonlyArray<readonly [string, number]> = [
	['open', 0], ['open64', 0], ['__open_2', 0], ['__open64_2', 0],
	['openat', 1], ['openat64', 1], ['__openat_2', 1], ['__openat64_2', 1],
	['creat', 0], ['creat64', 0], ['fopen', 0], ['fopen64', 0], ['freopen', 0], ['freopen64', 0],
];

/** Kernel functions that take the user's path as second argument, newest first. */
const kernelOpens = ['do_sys_openat2', 'do_sys_open'];

const uprobeLimitation = 'file names of opens by statically linked programs, direct syscalls (Go, io_uring, syscall(2)), the dynamic loader and libc internals are not seen';

export function checkOpensnoopOptions(options: OpensnoopOptions): {name?: RegExp | undefined; filename?: RegExp | undefined; tids?: number[] | undefined} {
	const given = [options.pid, options.tid, options.name].filter(value => value !== undefined).length;
	if (given > 1) {
		throw new UsageError('use at most one of -p, -n, -L');
	}

	const live = options.replay === undefined;
	let tids: number[] | undefined;
	if (options.pid !== undefined) {
		tids = live ? threadsOf(parsePid(options.pid)) : [options.pid];
	} else if (options.tid !== undefined) {
		tids = [live ? parsePid(options.tid, 'TID') : options.tid];
	}

	if (options.durationSeconds !== undefined) {
		parseSeconds(options.durationSeconds, 'duration');
	}

	if (options.mechanism !== undefined && options.mechanism !== 'kprobe' && options.mechanism !== 'uprobe') {
		throw new UsageError(`mechanism must be kprobe or uprobe, got "${String(options.mechanism)}"`);
	}

	return {
		name: options.name === undefined ? undefined : parsePattern(options.name, 'process name'),
		filename: options.filename === undefined ? undefined : parsePattern(options.filename, 'filename'),
		tids,
	};
}

/**
 * Trace opens until aborted, for the duration, or through a replay. Yields
 * a start record naming the mechanism (and what it misses), then opens and
 * lost gaps. Everything set up (events, filters, probes) is undone on every
 * exit.
 */
export async function * opensnoop(options: OpensnoopOptions, signal?: AbortSignal): AsyncGenerator<OpensnoopRecord> {
	const {name, filename, tids} = checkOpensnoopOptions(options);
	const tidSet = tids && new Set(tids);
	let mechanism = 'replay of a recorded trace';
	let limitation: string | undefined;
	const input = traceInput({
		tool: 'opensnoop',
		signal,
		// Every open of the system is recorded: give buffered runs room.
		bufferSizeKb: options.durationSeconds === undefined ? undefined : 8192,
		durationSeconds: options.durationSeconds,
		replay: options.replay,
		tracefs: options.tracefs,
		// Our own opens (of tracefs files, as events come) are not the user's.
		ignoreOwnProcess: true,
		tracedTids: tids,
		async setup(session) {
			const instance = session.instance;
			const chosen = await chooseMechanism(session.tracefs, options.mechanism, 'opensnoop');
			const group = probeGroupFor(session);
			const probeEvents: EventId[] = [];
			if (chosen === 'kprobe') {
				let placed: string | undefined;
				let lastError: unknown;
				for (const func of kernelOpens) {
					try {
						// eslint-disable-next-line no-await-in-loop
						probeEvents.push(await group.add(`p:k_open ${func} filename=+0(${argumentRegister(1)}):ustring`, 'kprobe'));
						placed = func;
						break;
					} catch (error) {
						lastError = error;
					}
				}

				if (!placed) {
					throw lastError;
				}

				mechanism = `kprobe on ${placed} (file name) + syscall exit tracepoints (result)`;
			} else {
				const library = await probeLibrary(group, libraryOpens.map(([symbol, index]) => ({symbol, args: `filename=+0(${argumentRegister(index)}):string`})));
				probeEvents.push(...library.events);
				mechanism = `uprobes on ${library.path} (${library.symbols.join(' ')}) + syscall tracepoints`;
				limitation = uprobeLimitation;
			}

			const syscallEvents: EventId[] = [];
			for (const syscall of openSyscalls) {
				for (const phase of chosen === 'uprobe' ? ['enter', 'exit'] : ['exit']) {
					const id = {system: 'syscalls', event: `sys_${phase}_${syscall}`};
					// eslint-disable-next-line no-await-in-loop
					if (await instance.eventExists(id)) {
						syscallEvents.push(id);
					}
				}
			}

			if (!syscallEvents.some(id => id.event.startsWith('sys_exit_'))) {
				throw new UsageError('this kernel has no syscall exit tracepoints for open (CONFIG_FTRACE_SYSCALLS)');
			}

			for (const id of [...probeEvents, ...syscallEvents]) {
				if (tids) {
					// eslint-disable-next-line no-await-in-loop
					await instance.setEventFilter(id, pidFilter(tids));
				}

				// eslint-disable-next-line no-await-in-loop
				await instance.enableEvent(id);
			}
		},
	});

	// Path seen by a uprobe, waiting for its syscall; path of the syscall in flight.
	const calledWith = new Map<number, string>();
	const inFlight = new Map<number, {file: string | undefined}>();
	for await (const record of input as AsyncIterable<InputRecord | TraceStarted>) {
		if (record.kind === 'started') {
			yield {type: 'start', mode: record.mode, mechanism, ...(limitation ? {limitation} : {})};
			continue;
		}

		if (record.kind === 'lost') {
			// Names cannot be paired across a gap (the original mis-attributed them).
			calledWith.clear();
			inFlight.clear();
			yield {type: 'lost', count: record.count, cpu: record.cpu};
			continue;
		}

		if (record.kind !== 'event') {
			continue;
		}

		const tid = record.pid;
		if (tidSet && !tidSet.has(tid)) {
			continue;
		}

		const event = record.event;
		if (event.startsWith('u_')) {
			const path = fieldString(record, 'filename');
			if (path !== undefined) {
				calledWith.set(tid, path);
			}
		} else if (event === 'k_open' || event === 'getnameprobe') {
			// getnameprobe: the perf-tools original's kretprobe, in replays of its traces.
			inFlight.set(tid, {file: fieldString(record, 'filename') ?? fieldString(record, 'arg1')});
		} else if (event.startsWith('sys_enter_')) {
			inFlight.set(tid, {file: calledWith.get(tid)});
			calledWith.delete(tid);
		} else if (event.startsWith('sys_exit_')) {
			const call = inFlight.get(tid);
			inFlight.delete(tid);
			calledWith.delete(tid);
			const ret = fieldNumber(record, 'ret');
			if (ret === undefined || (options.replay === undefined && call === undefined && mechanism.startsWith('kprobe'))) {
				continue;
			}

			const file = call?.file;
			if ((options.failedOnly && ret >= 0) || (name && !name.test(record.comm)) || (filename && (file === undefined || !filename.test(file)))) {
				continue;
			}

			yield {type: 'open', time: secondsText(record.timestampNs), comm: record.comm, pid: tid, fd: ret >= 0 ? ret : -1, ret, file, syscall: event.slice('sys_exit_'.length)};
		}
	}
}
