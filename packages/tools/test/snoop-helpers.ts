/**
 * Helpers for the perf-tools port tests: spawn the real installed binary,
 * wait for its startup line, drive real activity, end it the way a user
 * would, and compare the kernel's tracing state before and after.
 */
import {spawn, execFileSync, type ChildProcess} from 'node:child_process';
import type {ExecutionContext} from 'ava';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const binDir = fileURLToPath(new URL('../src/bin/', import.meta.url));
export const fixtures = fileURLToPath(new URL('../../test/fixtures/tools/', import.meta.url));
/** Traces recorded on this machine for the TUI (packages/tui/samples). */
export const samples = fileURLToPath(new URL('../../../tui/samples/', import.meta.url));
const stateTool = '/work/shared/tools/tracefs-state';

export interface Run {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly stdout: string;
	readonly stderr: string;
	readonly pid: number;
}

export interface Running {
	readonly child: ChildProcess;
	stdout(): string;
	stderr(): string;
	/** Resolves when stdout matches (or rejects after `ms`). */
	waitFor(pattern: RegExp, ms?: number): Promise<void>;
	readonly done: Promise<Run>;
}

/** Spawn `node dist/src/bin/<tool>.js args...`. */
export function start(tool: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv} = {}): Running {
	const child = spawn(process.execPath, [join(binDir, `${tool}.js`), ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...options.env}});
	let stdout = '';
	let stderr = '';
	const waiters: Array<{pattern: RegExp; resolve: () => void}> = [];
	child.stdout!.setEncoding('utf8');
	child.stderr!.setEncoding('utf8');
	child.stdout!.on('data', (chunk: string) => {
		stdout += chunk;
		for (const waiter of [...waiters]) {
			if (waiter.pattern.test(stdout)) {
				waiters.splice(waiters.indexOf(waiter), 1);
				waiter.resolve();
			}
		}
	});
	child.stderr!.on('data', (chunk: string) => {
		stderr += chunk;
	});
	const done = new Promise<Run>(resolve => {
		child.on('close', (code, signal) => {
			resolve({code, signal, stdout, stderr, pid: child.pid!});
		});
	});
	return {
		child,
		stdout: () => stdout,
		stderr: () => stderr,
		async waitFor(pattern, ms = 15_000) {
			if (pattern.test(stdout)) {
				return;
			}

			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => {
					reject(new Error(`timed out waiting for ${String(pattern)}; stdout: ${stdout.slice(-500)} stderr: ${stderr.slice(-500)}`));
				}, ms);
				waiters.push({pattern, resolve: () => {
					clearTimeout(timer);
					resolve();
				}});
				void done.then(() => {
					clearTimeout(timer);
					reject(new Error(`exited before ${String(pattern)}; stdout: ${stdout.slice(-500)} stderr: ${stderr.slice(-500)}`));
				});
			});
		},
		done,
	};
}

/** Run to completion. */
export async function run(tool: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv} = {}): Promise<Run> {
	return start(tool, args, options).done;
}

/**
 * Run a tool, wait for its header, do `during`, then end it with `end`
 * (a signal after `settleMs`, or 'exit' to let a duration run out).
 */
export async function drive(tool: string, args: readonly string[], options: {ready: RegExp; during?: () => void | Promise<void>; end: NodeJS.Signals | 'exit'; settleMs?: number}): Promise<Run> {
	const running = start(tool, args);
	await running.waitFor(options.ready);
	await options.during?.();
	if (options.end !== 'exit') {
		await sleep(options.settleMs ?? 700);
		running.child.kill(options.end);
	}

	return running.done;
}

export async function sleep(ms: number): Promise<void> {
	await new Promise(resolve => {
		setTimeout(resolve, ms);
	});
}

/** The kernel's tracing state (shared/tools/tracefs-state), one line per item. */
export function tracingState(): string {
	return execFileSync(stateTool, {encoding: 'utf8'});
}

function items(state: string): string[] {
	return state.split('\n').flatMap(line => {
		const list = /^((?:kprobe|uprobe|dynamic)_events|instances): (.*)$/.exec(line);
		return list ? list[2]!.split(list[1] === 'instances' ? ' ' : '|').filter(Boolean).map(item => `${list[1]!}: ${item}`) : [line];
	});
}

/**
 * The state changes between two dumps that are not someone else's: other
 * engineers' tools and tests run on this kernel at the same time, in
 * instances and probe groups of their own (ftrace_ts_<their pid>, or their
 * test's own names). Anything else that changed, and anything of `pid`,
 * counts against the tool under test.
 */
export function stateChanges(before: string, after: string, pid: number): {ours: string[]; foreign: string[]} {
	const was = new Set(items(before));
	const now = new Set(items(after));
	const changed = [...[...was].filter(item => !now.has(item)).map(item => `- ${item}`), ...[...now].filter(item => !was.has(item)).map(item => `+ ${item}`)];
	const isForeign = (line: string) => {
		if (line.includes(`ftrace_ts_${pid}`)) {
			return false;
		}

		// The tools only ever create instances and probe groups named after their own PID.
		return /^[-+] (?:\[[^\]]+\]|instances: |(?:kprobe|uprobe|dynamic)_events: )/.test(line);
	};

	return {ours: changed.filter(line => !isForeign(line)), foreign: changed.filter(line => isForeign(line))};
}

/** Names of instances and probe groups `pid` still owns (should be none after it exited). */
export function leftBehindBy(pid: number): string[] {
	const text = execFileSync(stateTool, {encoding: 'utf8'});
	return text.split('\n').filter(line => line.includes(`ftrace_ts_${pid}`));
}

/** A 64 MB loop device backed by a temporary file. `detach()` removes both. */
export function loopDevice(): {path: string; dev: string; major: number; minor: number; detach: () => void} {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-loop-'));
	const image = join(dir, 'disk.img');
	execFileSync('truncate', ['-s', '64M', image]);
	const path = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	const [major = '', minor = ''] = readFileSync(`/sys/block/${basename(path)}/dev`, 'utf8').trim().split(':');
	return {
		path,
		dev: `${major},${minor}`,
		major: Number(major),
		minor: Number(minor),
		detach() {
			try {
				execFileSync('losetup', ['-d', path]);
			} finally {
				rmSync(dir, {recursive: true, force: true});
			}
		},
	};
}

/** dd with direct I/O: known block, size and count. */
export function dd(args: readonly string[]): void {
	execFileSync('dd', [...args, 'status=none']);
}

/** Lines of a tool's output after the startup line and header, without "Ending tracing...". */
export function rows(stdout: string, headerPattern: RegExp): string[] {
	const lines = stdout.split('\n');
	const header = lines.findIndex(line => headerPattern.test(line));
	return lines.slice(header + 1).filter(line => line.trim() !== '' && line !== 'Ending tracing...');
}

/** Assert the tool left the tracing state as it found it (changes by other processes are logged, not counted). */
export function assertStateRestored(t: ExecutionContext, before: string, pid: number): void {
	const {ours, foreign} = stateChanges(before, tracingState(), pid);
	if (foreign.length > 0) {
		t.log(`changed meanwhile by other processes: ${foreign.join('; ')}`);
	}

	t.deepEqual(ours, [], 'tracing state changed');
	t.deepEqual(leftBehindBy(pid), []);
}
