/**
 * Validation shared by the perf-tools ports: every value a user gives is
 * checked here before anything touches the kernel, and a bad one becomes a
 * UsageError naming it (one line, exit status 2).
 */
import {existsSync, readdirSync} from 'node:fs';
import {controlCharacterName} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';

/** A positive number of seconds ("5", "0.5"); at most a year. Throws UsageError. */
export function parseSeconds(text: string | number, what: string): number {
	const value = typeof text === 'number' ? text : /^\d+(?:\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
	if (!Number.isFinite(value) || value <= 0 || value > 31_536_000) {
		throw new UsageError(`${what} must be a positive number of seconds, got "${String(text)}"`);
	}

	return value;
}

/** A positive integer ("count" arguments). Throws UsageError. */
export function parseCount(text: string | number, what: string, max = 1_000_000_000): number {
	const value = typeof text === 'number' ? text : /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
	if (!Number.isSafeInteger(value) || value < 1 || value > max) {
		throw new UsageError(`${what} must be an integer from 1 to ${max}, got "${String(text)}"`);
	}

	return value;
}

/** Refuse control characters (they could end a tracefs write or fake output lines). */
export function checkPrintable(text: string, what: string): string {
	// eslint-disable-next-line no-control-regex
	const bad = /[\u0000-\u001F\u007F]/.exec(text);
	if (bad) {
		throw new UsageError(`${what} contains a ${controlCharacterName(bad[0])} at position ${bad.index}`);
	}

	if (text === '') {
		throw new UsageError(`${what} is empty`);
	}

	return text;
}

/**
 * A regular expression from the user (process and file name matches: the
 * originals used awk EREs, which JavaScript's syntax covers). Throws UsageError.
 */
export function parsePattern(text: string, what: string): RegExp {
	checkPrintable(text, what);
	try {
		return new RegExp(text);
	} catch (error) {
		throw new UsageError(`${what} "${text}" is not a valid regular expression: ${(error as Error).message}`);
	}
}

/** A process or thread id that exists now. Throws UsageError. */
export function parsePid(text: string | number, what = 'PID'): number {
	const value = typeof text === 'number' ? text : /^\d+$/.test(String(text).trim()) ? Number(text) : Number.NaN;
	if (!Number.isSafeInteger(value) || value < 1 || value > 4_194_304) {
		throw new UsageError(`${what} must be a process id (1 to 4194304), got "${String(text)}"`);
	}

	if (!existsSync(`/proc/${value}`)) {
		throw new UsageError(`${what} ${value} does not exist`);
	}

	return value;
}

/**
 * Every thread of a process (/proc/PID/task/*): ftrace's common_pid is the
 * thread id, so covering a process means covering each of its threads.
 * Threads created after this call are not covered.
 */
export function threadsOf(pid: number): number[] {
	try {
		const tids = readdirSync(`/proc/${pid}/task`).filter(name => /^\d+$/.test(name)).map(Number);
		return tids.length > 0 ? tids.sort((a, b) => a - b) : [pid];
	} catch {
		throw new UsageError(`PID ${pid} does not exist`);
	}
}

/** A common_pid filter matching any of `tids`. */
export function pidFilter(tids: readonly number[]): string {
	return tids.map(tid => `common_pid == ${tid}`).join(' || ');
}

/** A block device as "major,minor", with its kernel dev_t (major << 20 | minor). */
export interface BlockDevice {
	readonly major: number;
	readonly minor: number;
	/** The kernel-internal dev_t the block tracepoints record. */
	readonly dev: number;
	readonly text: string;
}

/** Parse and check "major,minor" (it must be a block device of this system). Throws UsageError. */
export function parseDevice(text: string, options: {mustExist?: boolean} = {}): BlockDevice {
	const match = /^\s*(\d{1,4}),(\d{1,7})\s*$/.exec(text);
	if (!match) {
		throw new UsageError(`device must be "major,minor" (eg, "202,1"), got "${text}"`);
	}

	const major = Number(match[1]);
	const minor = Number(match[2]);
	if (major > 4095 || minor > 0xF_FFFF) {
		throw new UsageError(`device "${text}" is out of range (major < 4096, minor < 1048576)`);
	}

	if (options.mustExist !== false && !existsSync(`/sys/dev/block/${major}:${minor}`)) {
		throw new UsageError(`no block device ${major},${minor} on this system (see /sys/dev/block or lsblk)`);
	}

	return {major, minor, dev: major * 1_048_576 + minor, text: `${major},${minor}`};
}

/**
 * An I/O type glob matched against rwbs ("R", "WS", "RA", "FWS"...): the
 * letters the kernel uses and the glob characters * ? [ ]. Throws UsageError.
 */
export function parseIotype(text: string): string {
	checkPrintable(text, 'iotype');
	if (!/^[A-Za-z*?[\]]{1,16}$/.test(text)) {
		throw new UsageError(`iotype "${text}" must be a glob of rwbs letters (eg, '*R*', 'W', 'RA'): letters and * ? [ ] only`);
	}

	return text;
}

/** An rwbs glob as a RegExp, for replays (live runs filter in the kernel). */
export function iotypeRegExp(glob: string): RegExp {
	let source = '';
	for (const ch of glob) {
		source += ch === '*' ? '.*' : ch === '?' ? '.' : ch;
	}

	return new RegExp(`^${source}$`);
}
