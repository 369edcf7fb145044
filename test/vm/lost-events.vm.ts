// Lost events in the vm lane: kprobe, functrace, funcgraph and funcslower
// stream the kernel's lines through trace_pipe; with a 4 KB buffer
// (FTRACE_TS_BUFFER_KB) and their reader stopped while this process makes
// a known number of reads, each must report what the kernel overwrote, on
// stderr per gap and in total, and the count must add up with what it
// printed. funccount is not here: it counts in the kernel (function
// profiler, kprobe_profile, hist triggers) and streams no events to lose.
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {closeSync, openSync, readSync, rmSync, writeFileSync} from 'node:fs';
import {setTimeout as sleep} from 'node:timers/promises';
import test from 'node:test';
import {bin, checked, type Run} from './func-tools-lib.js';

/** Bytes per read: only these reads pass the kprobe's `count == 7` filter. */
const readSize = 7;
const calls = 3000;

/** `count` read(2) calls of `readSize` bytes through vfs_read, from this process. */
function readTimes(count: number): void {
	const file = `/tmp/lost-events-${process.pid}`;
	writeFileSync(file, 'some bytes to read\n');
	const fd = openSync(file, 'r');
	try {
		const buffer = Buffer.alloc(readSize);
		for (let i = 0; i < count; i++) {
			readSync(fd, buffer, 0, readSize, 0);
		}
	} finally {
		closeSync(fd);
		rmSync(file, {force: true});
	}
}

interface Started {
	readonly child: ChildProcess;
	readonly started: Promise<void>;
	readonly done: Promise<Run>;
	/** Resolves once no output has come for `quietMs`. */
	quiet(quietMs: number): Promise<void>;
}

/** Start a tool with a 4 KB per-CPU buffer. */
function start(tool: string, args: readonly string[]): Started {
	const child = spawn(process.execPath, [bin(tool), ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, FTRACE_TS_BUFFER_KB: '4'}});
	let stdout = '';
	let stderr = '';
	let lastOutput = Date.now();
	let markStarted: () => void;
	const started = new Promise<void>(resolve => {
		markStarted = resolve;
	});
	const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
	child.stdout!.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
		lastOutput = Date.now();
		if (stdout.includes('\n')) {
			markStarted();
		}
	});
	child.stderr!.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
		lastOutput = Date.now();
	});
	const done = new Promise<Run>(resolve => {
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			markStarted();
			resolve({code, signal, stdout, stderr});
		});
	});
	return {
		child,
		started,
		done,
		async quiet(quietMs) {
			while (Date.now() - lastOutput < quietMs) {
				// eslint-disable-next-line no-await-in-loop
				await sleep(100);
			}
		},
	};
}

/**
 * A process that makes the reads when told to (a line on its stdin), then
 * exits: its PID can be traced from before its reads on, and unlike this
 * process it does not read the tool's output (each such read traced would
 * print a line that is read again).
 */
async function readerProcess(): Promise<{pid: number; readAndExit: () => Promise<void>}> {
	const script = `const fs = require('fs');
process.stdin.once('data', () => {
	const fd = fs.openSync(process.argv[1], 'r');
	const buffer = Buffer.alloc(${readSize});
	for (let i = 0; i < ${calls}; i++) fs.readSync(fd, buffer, 0, ${readSize}, 0);
	process.exit(0);
});
process.stdout.write('ready\\n');`;
	const file = `/tmp/lost-events-reader-${process.pid}`;
	writeFileSync(file, 'some bytes to read\n');
	const child = spawn(process.execPath, ['-e', script, file], {stdio: ['pipe', 'pipe', 'inherit']});
	const exited = new Promise<void>(resolve => {
		child.on('close', () => {
			rmSync(file, {force: true});
			resolve();
		});
	});
	await new Promise(resolve => child.stdout!.once('data', resolve));
	return {
		pid: child.pid!,
		async readAndExit() {
			child.stdin!.end('go\n');
			await exited;
		},
	};
}

/**
 * Run a live tool on a reader process's PID, stopped (SIGSTOP) while the
 * reads are made, then let it read what is left, and end it with SIGINT
 * once it has gone quiet.
 */
async function stoppedAcrossReads(tool: string, args: (pid: string) => readonly string[]): Promise<Run> {
	const reader = await readerProcess();
	const run = start(tool, args(String(reader.pid)));
	await run.started;
	await sleep(500);
	run.child.kill('SIGSTOP');
	try {
		await reader.readAndExit();
	} finally {
		run.child.kill('SIGCONT');
	}

	await run.quiet(1500);
	run.child.kill('SIGINT');
	return run.done;
}

/** The per-gap warnings and the total on stderr, checked against each other; returns the total. */
function lostCount(run: Run, label: string): number {
	assert.equal(run.code, 0, `${label}: ${run.stderr}`);
	const gaps = [...run.stderr.matchAll(/^WARNING: (\d+) events lost \(CPU \d+\)$/gm)].map(match => Number(match[1]));
	const total = /^WARNING: (\d+) events lost in total$/m.exec(run.stderr);
	assert.ok(gaps.length > 0 && total, `${label}: lost events reported: ${run.stderr}`);
	assert.equal(gaps.reduce((sum, count) => sum + count, 0), Number(total[1]), `${label}: the total adds up the gaps`);
	assert.doesNotMatch(run.stdout, /\[LOST/, `${label}: the kernel's gap lines become the warnings`);
	console.log(`# ${label}: ${total[1]} events lost in ${gaps.length} gaps`);
	return Number(total[1]);
}

/**
 * Besides the reads made, the reader process's read of its stdin is traced,
 * and whatever else node does on its way out: a few more events, not the
 * count again (counted twice), nor fewer (hidden).
 */
function assertAddsUp(label: string, events: number, lost: number, expected: number): void {
	console.log(`# ${label}: ${events} events printed + ${lost} lost, ${expected} made`);
	assert.ok(events > 0, `${label}: some events printed`);
	assert.ok(events + lost >= expected && events + lost <= expected + 50, `${label}: ${events} printed + ${lost} lost for ${expected} made`);
}

test('kprobe reports what a 4 KB buffer lost, live and buffered: printed + lost = reads made', async () => {
	const probe = (pid: string) => ['-p', pid, 'p:vfs_read count=%dx:u64', `count == ${readSize}`];
	const hits = (stdout: string) => stdout.split('\n').filter(line => line.includes(` count=${readSize}`)).length;
	await checked('kprobe live', async () => {
		const run = await stoppedAcrossReads('kprobe', probe);
		const lost = lostCount(run, 'kprobe live');
		// Filtered to these reads in the kernel: the sum is exact.
		assert.equal(hits(run.stdout) + lost, calls, `kprobe live: ${hits(run.stdout)} printed + ${lost} lost`);
	});
	await checked('kprobe -d', async () => {
		// This process's reads: none of the tool's output is read before it ends.
		const run = start('kprobe', ['-d', '4', ...probe(String(process.pid))]);
		await run.started;
		readTimes(calls);
		const result = await run.done;
		const lost = lostCount(result, 'kprobe -d');
		assert.equal(hits(result.stdout) + lost, calls, `kprobe -d: ${hits(result.stdout)} printed + ${lost} lost`);
	});
});

test('functrace, funcgraph and funcslower report what a 4 KB buffer lost while their reader was stopped', async () => {
	await checked('functrace', async () => {
		const run = await stoppedAcrossReads('functrace', pid => ['-p', pid, 'vfs_read']);
		const lost = lostCount(run, 'functrace');
		assertAddsUp('functrace', run.stdout.split('\n').filter(line => / vfs_read <-/.test(line)).length, lost, calls);
	});
	await checked('funcgraph', async () => {
		// Depth 1: each call is two events (entry and return), printed as one
		// "vfs_read();" leaf, or as "vfs_read() {" and "}" when split.
		const run = await stoppedAcrossReads('funcgraph', pid => ['-m', '1', '-p', pid, 'vfs_read']);
		const lost = lostCount(run, 'funcgraph');
		const lines = run.stdout.split('\n');
		const events = (2 * lines.filter(line => /\bvfs_read\(\);/.test(line)).length)
			+ lines.filter(line => /\bvfs_read\(\) \{/.test(line)).length
			+ lines.filter(line => /\|\s*\}/.test(line)).length;
		assertAddsUp('funcgraph', events, lost, 2 * calls);
	});
	await checked('funcslower', async () => {
		// A 1 us threshold: under emulation every read is slower; one event (the return) each.
		const run = await stoppedAcrossReads('funcslower', pid => ['-p', pid, 'vfs_read', '1']);
		const lost = lostCount(run, 'funcslower');
		assertAddsUp('funcslower', run.stdout.split('\n').filter(line => /\} \/\* vfs_read \*\//.test(line)).length, lost, calls);
	});
});
