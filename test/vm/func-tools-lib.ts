// Helpers for the Tools II vm tests (func-*.vm.ts). Tools II on a real, fully featured kernel (the vm lane): funccount,
// funcgraph, kprobe, functrace, funcslower against known workloads, and
// every exit path leaving the tracing state as it was. Runs in the guest
// with node:test (busybox + node: the state dump is done here in JS).
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

const repo = new URL('../../../', import.meta.url).pathname;
const tracing = '/sys/kernel/tracing';
export const reads = 300;

// The kernel allocates the ring buffers lazily ("7 (expanded: 1408)"): expand
// them before any baseline, so the first tool's use is not seen as a change.
{
	const size = readFileSync(`${tracing}/buffer_size_kb`, 'utf8');
	const expanded = /expanded: (\d+)/.exec(size);
	if (expanded) {
		writeFileSync(`${tracing}/buffer_size_kb`, expanded[1]!);
	}
}

export function bin(tool: string): string {
	return join(repo, 'packages/tools/dist/src/bin', `${tool}.js`);
}

export function read(path: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch {
		return '';
	}
}

/** A diffable dump of the tracing state (what shared/tools/tracefs-state prints, in JS). */
export function state(): string[] {
	const lines: string[] = [];
	const show = (dir: string, prefix: string) => {
		for (const file of ['current_tracer', 'tracing_on', 'buffer_size_kb', 'trace_clock', 'tracing_thresh', 'max_graph_depth', 'set_ftrace_filter', 'set_ftrace_notrace', 'set_graph_function', 'set_graph_notrace', 'set_ftrace_pid', 'set_event_pid', 'set_event', 'function_profile_enabled']) {
			if (existsSync(`${dir}/${file}`)) {
				lines.push(`${prefix}${file}: ${read(`${dir}/${file}`).split('\n').filter(line => line !== '' && !line.startsWith('#')).sort().join('|')}`);
			}
		}

		const options = existsSync(`${dir}/options`) ? readdirSync(`${dir}/options`).filter(option => read(`${dir}/options/${option}`).trim() === '1') : [];
		lines.push(`${prefix}options-on: ${options.join(' ')}`);
		for (const system of readdirSync(`${dir}/events`)) {
			if (!existsSync(`${dir}/events/${system}/enable`)) {
				continue;
			}

			for (const event of readdirSync(`${dir}/events/${system}`)) {
				const base = `${dir}/events/${system}/${event}`;
				if (!existsSync(`${base}/enable`)) {
					continue;
				}

				const enable = read(`${base}/enable`).trim();
				if (enable !== '0') {
					lines.push(`${prefix}enable ${system}/${event}: ${enable}`);
				}

				const filter = read(`${base}/filter`).trim();
				if (filter !== 'none' && filter !== '') {
					lines.push(`${prefix}filter ${system}/${event}: ${filter}`);
				}

				const triggers = read(`${base}/trigger`).split('\n').filter(line => line !== '' && !line.startsWith('#'));
				if (triggers.length > 0) {
					lines.push(`${prefix}trigger ${system}/${event}: ${triggers.join('|')}`);
				}
			}
		}
	};

	lines.push(`kprobe_events: ${read(`${tracing}/kprobe_events`).trim()}`, `uprobe_events: ${read(`${tracing}/uprobe_events`).trim()}`);
	const instances = readdirSync(`${tracing}/instances`);
	lines.push(`instances: ${instances.join(' ')}`);
	show(tracing, '');
	for (const instance of instances) {
		show(`${tracing}/instances/${instance}`, `[${instance}] `);
	}

	return lines;
}

export function diff(before: string[], after: string[]): string[] {
	const a = new Set(before);
	const b = new Set(after);
	return [...before.filter(line => !b.has(line)).map(line => `- ${line}`), ...after.filter(line => !a.has(line)).map(line => `+ ${line}`)];
}

export interface Run {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

/** Run a tool; with `kill`, send that signal once its startup line is out (after `settleMs`). */
export async function runTool(tool: string, args: readonly string[], options: {kill?: NodeJS.Signals; settleMs?: number; during?: () => void; timeoutMs?: number} = {}): Promise<Run> {
	const child = spawn(process.execPath, [bin(tool), ...args], {stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	let started = false;
	const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
		if (!started && stdout.includes('\n')) {
			started = true;
			setTimeout(() => {
				options.during?.();
				if (options.kill) {
					setTimeout(() => child.kill(options.kill), options.settleMs ?? 300);
				}
			}, 200);
		}
	});
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	return new Promise(resolve => {
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({code, signal, stdout, stderr});
		});
	});
}

/** `count` read(2) calls on a small file from a child process named "node"; resolves when done. */
export async function readWorkload(count: number): Promise<void> {
	const file = `/tmp/func-tools-${process.pid}`;
	writeFileSync(file, 'some bytes\n');
	const child = spawn(process.execPath, ['-e', `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'r');const b=Buffer.alloc(8);for(let i=0;i<${count};i++)fs.readSync(fd,b,0,8,null);fs.closeSync(fd);`], {stdio: 'ignore'});
	await new Promise(resolve => child.on('close', resolve));
}

export function readsNow(count: number): void {
	const file = `/tmp/func-tools-self-${process.pid}`;
	writeFileSync(file, 'x\n');
	const fd = openSync(file, 'r');
	const buffer = Buffer.alloc(4);
	for (let i = 0; i < count; i++) {
		readSync(fd, buffer, 0, 4, null);
	}

	closeSync(fd);
}

export function countOf(stdout: string, func: string): number {
	const line = stdout.split('\n').find(candidate => candidate.startsWith(`${func} `));
	return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
}

export async function checked(name: string, body: () => Promise<void>): Promise<void> {
	const before = state();
	await body();
	assert.deepEqual(diff(before, state()), [], `${name} left tracing state behind`);
}

