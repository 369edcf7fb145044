import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

const repo = new URL('../../../', import.meta.url).pathname;

/** The installed command of a tool (what `npx NAME` runs). */
export function toolBin(name: string): string {
	return join(repo, 'node_modules/.bin', name);
}

/** The canonical tracing-state dump of shared/tools/tracefs-state. */
export function tracingState(): string {
	return execFileSync('bash', [join(repo, '../shared/tools/tracefs-state')], {encoding: 'utf8'});
}

/**
 * A state dump without the instances and probe groups of other ftrace-ts
 * processes (tests running beside this one): names carry the owner PID, so a
 * tool can only have left behind names with its own PID.
 */
export function withoutOthers(state: string, pid: number | undefined): string {
	const other = (name: string) => {
		const match = /^ftrace_ts_(\d+)/.exec(name);
		return match !== null && Number(match[1]) !== pid;
	};

	return state.split('\n')
		.filter(line => {
			const instance = /^\[([^\]]+)\] /.exec(line);
			return !(instance && other(instance[1]!));
		})
		.map(line => {
			const list = /^(instances|uprobe_events|kprobe_events|dynamic_events): (.*)$/.exec(line);
			if (!list) {
				return line;
			}

			const separator = list[1] === 'instances' ? ' ' : '|';
			const kept = list[2]!.split(separator).filter(item => {
				const name = list[1] === 'instances' ? item : /^[pr]\d*:([^/]+)\//.exec(item)?.[1] ?? '';
				return !other(name);
			});
			return `${list[1]!}: ${kept.join(separator)}`;
		})
		.join('\n');
}

/** Lines of `after` that differ from `before` (both directions), for messages. */
export function stateDiff(before: string, after: string): string[] {
	const a = new Set(before.split('\n'));
	const b = new Set(after.split('\n'));
	return [...[...a].filter(line => !b.has(line)).map(line => `- ${line}`), ...[...b].filter(line => !a.has(line)).map(line => `+ ${line}`)];
}

export interface RunResult {
	/** The tool's process ID (its instance is named after it). */
	readonly pid: number | undefined;
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly stdout: string;
	readonly stderr: string;
}

/** Start a tool; resolve `started` at the first stdout line (its startup line). */
export function startTool(command: string, args: readonly string[], env: Record<string, string> = {}): {child: ChildProcess; started: Promise<void>; done: Promise<RunResult>} {
	const child = spawn(command, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	let markStarted: () => void;
	const started = new Promise<void>(resolve => {
		markStarted = resolve;
	});
	child.stdout!.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
		if (stdout.includes('\n')) {
			markStarted();
		}
	});
	child.stderr!.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const done = new Promise<RunResult>(resolve => {
		child.on('close', (code, signal) => {
			markStarted();
			resolve({pid: child.pid, code, signal, stdout, stderr});
		});
	});
	return {child, started, done};
}

/** Run a tool to its end (with a time limit after which it is killed). */
export async function runTool(command: string, args: readonly string[], options: {env?: Record<string, string>; timeoutMs?: number} = {}): Promise<RunResult> {
	const {child, done} = startTool(command, args, options.env);
	const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
	try {
		return await done;
	} finally {
		clearTimeout(timer);
	}
}

/** Run `command args | head -1` through a shell: the tool meets a closed pipe. */
export async function runIntoHead(command: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult & {pipeStatus: number}> {
	const quoted = [command, ...args].map(word => `'${word.replaceAll('\'', String.raw`'\''`)}'`).join(' ');
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-pipe-'));
	const pidFile = join(dir, 'pid');
	try {
		// `exec` keeps the PID the shell wrote down: the tool's own.
		const result = await runTool('bash', ['-c', `sh -c 'echo $$ > ${pidFile}; exec ${quoted.replaceAll('\'', String.raw`'\''`)}' | head -1; exit \${PIPESTATUS[0]}`], {timeoutMs});
		const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
		return {...result, pid, pipeStatus: result.code ?? -1};
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

/**
 * A loop device over a temporary file, and a background workload that makes
 * block I/O on it, opens files, and execs: the activity every tool reports.
 */
export class Activity {
	static async start(): Promise<Activity> {
		const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-activity-'));
		const image = join(dir, 'disk.img');
		execFileSync('truncate', ['-s', '32M', image]);
		const device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
		const loop = spawn('bash', ['-c', `while :; do dd if=/dev/zero of=${device} bs=4k count=1 seek=$((RANDOM % 4096)) oflag=direct status=none; cat /etc/hostname > /dev/null; /bin/true; sleep 0.02; done`], {stdio: 'ignore', detached: true});
		return new Activity(dir, device, loop);
	}

	private constructor(readonly dir: string, readonly device: string, private readonly loop: ChildProcess) {}

	async stop(): Promise<void> {
		try {
			process.kill(-this.loop.pid!, 'SIGKILL');
		} catch {}

		await sleep(100);
		for (let attempt = 0; attempt < 20; attempt++) {
			try {
				execFileSync('losetup', ['-d', this.device]);
				break;
			} catch {
				// eslint-disable-next-line no-await-in-loop
				await sleep(100);
			}
		}

		if (existsSync(this.dir)) {
			rmSync(this.dir, {recursive: true, force: true});
		}
	}
}
