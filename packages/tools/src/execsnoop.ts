/**
 * execsnoop core: new programs with their arguments. The exec itself is the
 * sched:sched_process_exec tracepoint (every successful exec); the
 * arguments come from a probe at the exec call (kprobe on the syscall, or
 * uprobes on the C library's execve/execveat) paired by thread id, else from
 * /proc/PID/cmdline read when the event arrives.
 */
import {readFileSync} from 'node:fs';
import {Tracefs, type EventId} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';
import {argumentRegister, chooseMechanism, probeGroupFor, probeLibrary, type ProbeMechanism} from './probe-mechanism.js';
import {traceInput, type InputEvent, type InputRecord, type TraceStarted} from './trace-input.js';
import {parseCount, parsePattern, parseSeconds} from './tool-options.js';
import {fieldNumber, fieldString, secondsText, type ToolLost, type ToolStart} from './tool-records.js';

export interface ExecsnoopOptions {
	/** Arguments to show after the program name (default 8, max 16). */
	readonly argc?: number | undefined;
	/** Include re-execs of a process already seen. */
	readonly reexec?: boolean | undefined;
	/** Program name, a regular expression. */
	readonly name?: string | undefined;
	readonly durationSeconds?: number | undefined;
	/** Where arguments come from: kprobe, uprobe, or proc (/proc/PID/cmdline only). */
	readonly mechanism?: ExecMechanism | undefined;
	readonly replay?: string | undefined;
	readonly tracefs?: Tracefs | undefined;
}

export type ExecMechanism = ProbeMechanism | 'proc';

export interface ExecsnoopExec {
	readonly type: 'exec';
	readonly time: string;
	readonly pid: number;
	/** Parent PID, 0 when unknown. */
	readonly ppid: number;
	readonly comm: string;
	/** The program file as the kernel resolved it. */
	readonly filename: string | undefined;
	/** argv[0..argc]; undefined when unknown. */
	readonly args: readonly string[] | undefined;
	/** More arguments exist than shown. */
	readonly truncated: boolean;
	/** Where the arguments came from. */
	readonly argsFrom: 'probe' | 'proc' | 'none';
}

export type ExecsnoopRecord = ToolStart | ToolLost | ExecsnoopExec;

export const defaultArgc = 8;
export const maxArgc = 16;

/** pt_regs offsets of the syscall arguments on x86_64 (the syscall wrappers take a pt_regs). */
const x64SyscallArgOffsets = {si: 104, dx: 96};

export function checkExecsnoopOptions(options: ExecsnoopOptions): {argc: number; name?: RegExp | undefined} {
	const argc = options.argc === undefined ? defaultArgc : parseCount(options.argc, 'argc (-a)', maxArgc);
	if (options.durationSeconds !== undefined) {
		parseSeconds(options.durationSeconds, 'duration');
	}

	if (options.mechanism !== undefined && !['kprobe', 'uprobe', 'proc'].includes(options.mechanism)) {
		throw new UsageError(`mechanism must be kprobe, uprobe or proc, got "${String(options.mechanism)}"`);
	}

	return {argc, name: options.name === undefined ? undefined : parsePattern(options.name, 'name')};
}

/** argv fetch arguments a0..aN for a probe whose argv pointer is `argv` (a fetch expression). */
function argvFetches(count: number, argv: (index: number) => string): string {
	return Array.from({length: count}, (_, index) => `a${index}=${argv(index)}`).join(' ');
}

/**
 * The arguments a probe record carries: a0, a1... up to the first missing or
 * faulted one (the end of argv; an empty argument also ends the list).
 */
export function probeArgs(record: InputEvent, count: number): {args: string[]; complete: boolean} {
	const args: string[] = [];
	for (let index = 0; index < count; index++) {
		const value = fieldString(record, `a${index}`);
		// A NULL argv entry faults; the kernel prints "(fault)", readers give ''.
		if (value === undefined || value === '' || value === '(fault)') {
			return {args, complete: true};
		}

		args.push(value);
	}

	return {args, complete: false};
}

function procArgs(pid: number): string[] | undefined {
	try {
		const text = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
		const args = text.split('\0');
		if (args.at(-1) === '') {
			args.pop();
		}

		return args.length > 0 ? args : undefined;
	} catch {
		return undefined;
	}
}

function procParent(pid: number): number | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
		// The comm field may hold spaces and parentheses: the state follows the last ")".
		const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const ppid = Number(rest[1]);
		return Number.isSafeInteger(ppid) ? ppid : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Trace execs until aborted, for the duration, or through a replay. Yields
 * a start record naming the mechanism, then execs and lost gaps.
 * Everything set up is undone on every exit.
 */
export async function * execsnoop(options: ExecsnoopOptions, signal?: AbortSignal): AsyncGenerator<ExecsnoopRecord> {
	const {argc, name} = checkExecsnoopOptions(options);
	const live = options.replay === undefined;
	// Fetch one more than shown, to know whether the list was cut.
	const fetched = argc + 2;
	let mechanism = 'replay of a recorded trace';
	let limitation: string | undefined;
	const input = traceInput({
		tool: 'execsnoop',
		signal,
		durationSeconds: options.durationSeconds,
		replay: options.replay,
		tracefs: options.tracefs,
		async setup(session) {
			const instance = session.instance;
			const events: EventId[] = [{system: 'sched', event: 'sched_process_exec'}, {system: 'sched', event: 'sched_process_fork'}];
			const chosen: ExecMechanism = options.mechanism === 'proc' ? 'proc' : await chooseMechanism(session.tracefs, options.mechanism, 'execsnoop').catch(() => 'proc' as const);
			if (chosen === 'kprobe') {
				if (process.arch !== 'x64') {
					throw new UsageError(`execsnoop: the kprobe mechanism is mapped for x86_64 only; try --mechanism uprobe or proc`);
				}

				const group = probeGroupFor(session);
				const placed: string[] = [];
				for (const [syscall, offset] of [['execve', x64SyscallArgOffsets.si], ['execveat', x64SyscallArgOffsets.dx]] as const) {
					try {
						// The wrapper's only argument is the user's pt_regs; argv is a user pointer in it.
						// eslint-disable-next-line no-await-in-loop
						events.push(await group.add(`p:k_${syscall} __x64_sys_${syscall} ${argvFetches(fetched, index => `+0(+u${index * 8}(+${offset}(%di))):ustring`)}`, 'kprobe'));
						placed.push(`__x64_sys_${syscall}`);
					} catch (error) {
						if (placed.length === 0 && syscall === 'execveat') {
							throw error;
						}
					}
				}

				mechanism = `kprobes on ${placed.join(' ')} (arguments) + sched:sched_process_exec`;
			} else if (chosen === 'uprobe') {
				const group = probeGroupFor(session);
				const library = await probeLibrary(group, [
					{symbol: 'execve', args: argvFetches(fetched, index => `+0(+${index * 8}(${argumentRegister(1)})):string`)},
					{symbol: 'execveat', args: argvFetches(fetched, index => `+0(+${index * 8}(${argumentRegister(2)})):string`)},
				]);
				events.push(...library.events);
				mechanism = `uprobes on ${library.path} (${library.symbols.join(' ')}) (arguments) + sched:sched_process_exec, else /proc/PID/cmdline`;
				limitation = 'execs not made through the C library (static binaries, Go, raw syscalls) take their arguments from /proc/PID/cmdline: "[?]" when the process is already gone';
			} else {
				mechanism = 'sched:sched_process_exec + /proc/PID/cmdline read at the event';
				limitation = 'arguments are read from /proc after the exec: a program that exits first (or in -d mode, by the end) shows "name [?]"';
			}

			for (const id of events) {
				// eslint-disable-next-line no-await-in-loop
				await instance.enableEvent(id);
			}
		},
	});

	const argsByTid = new Map<number, {args: string[]; complete: boolean}>();
	const parents = new Map<number, number>();
	const seen = new Set<number>();
	for await (const record of input as AsyncIterable<InputRecord | TraceStarted>) {
		if (record.kind === 'started') {
			yield {type: 'start', mode: record.mode, mechanism, ...(limitation ? {limitation} : {})};
			continue;
		}

		if (record.kind === 'lost') {
			argsByTid.clear();
			yield {type: 'lost', count: record.count, cpu: record.cpu};
			continue;
		}

		if (record.kind !== 'event') {
			continue;
		}

		const event = record.event;
		if (event === 'sched_process_fork') {
			const child = fieldNumber(record, 'child_pid');
			if (child !== undefined) {
				parents.set(child, fieldNumber(record, 'parent_pid') ?? record.pid);
			}

			seen.delete(fieldNumber(record, 'parent_pid') ?? record.pid);
			continue;
		}

		if (event.startsWith('k_exec') || event.startsWith('u_exec')) {
			argsByTid.set(record.pid, probeArgs(record, fetched));
			continue;
		}

		if (event !== 'sched_process_exec') {
			continue;
		}

		const pid = fieldNumber(record, 'pid') ?? record.pid;
		const oldPid = fieldNumber(record, 'old_pid') ?? pid;
		const probed = argsByTid.get(oldPid);
		argsByTid.delete(oldPid);
		if (!options.reexec && seen.has(pid)) {
			continue;
		}

		// The task's name after the exec, from the event (the line's comm comes from the
		// kernel's comm cache, which may still hold the name before the exec).
		const comm = commAfterExec(fieldString(record, 'filename'), record.comm);
		if (name && !name.test(comm)) {
			continue;
		}

		let args: string[] | undefined;
		let truncated = false;
		let argsFrom: ExecsnoopExec['argsFrom'] = 'none';
		if (probed && probed.args.length > 0) {
			args = probed.args.slice(0, argc + 1);
			truncated = !probed.complete || probed.args.length > argc + 1;
			argsFrom = 'probe';
		} else if (live && options.durationSeconds === undefined) {
			const fromProc = procArgs(pid);
			if (fromProc) {
				args = fromProc.slice(0, argc + 1);
				truncated = fromProc.length > argc + 1;
				argsFrom = 'proc';
			}
		}

		const ppid = parents.get(pid) ?? (live ? procParent(pid) : undefined) ?? 0;
		parents.delete(pid);
		if (!options.reexec) {
			seen.add(pid);
		}

		yield {type: 'exec', time: secondsText(record.timestampNs), pid, ppid, comm, filename: fieldString(record, 'filename'), args, truncated, argsFrom};
	}
}

/**
 * The name an exec gives its task, as the kernel sets it: the file name's
 * last part, cut to 15 bytes (TASK_COMM_LEN), except for execs of a file
 * descriptor (/dev/fd/N), named after the file itself: there, and without
 * a file name, the trace line's comm. The line's comm is the kernel's
 * cached name for the PID, recorded at scheduler events: read soon after a
 * short-lived program's exec it can still be the parent's name.
 */
export function commAfterExec(filename: string | undefined, lineComm: string): string {
	if (filename === undefined || filename.startsWith('/dev/fd/')) {
		return lineComm;
	}

	const base = filename.slice(filename.lastIndexOf('/') + 1);
	if (base === '') {
		return lineComm;
	}

	const bytes = Buffer.from(base, 'utf8');
	return bytes.length <= 15 ? base : bytes.subarray(0, 15).toString('utf8');
}
