// funccount on the vm lane kernel (kprobe_profile and hist triggers).
import assert from 'node:assert/strict';
import {closeSync, openSync, writeFileSync} from 'node:fs';
import test from 'node:test';
import {checked, countOf, readsNow, readWorkload, reads, runTool} from './func-tools-lib.js';

test('funccount vfs_* counts a known number of vfs_read calls (kprobe_profile)', async () => {
	await checked('funccount', async () => {
		let workload: Promise<void> | undefined;
		const run = await runTool('funccount', ['-d', '6', 'vfs_*'], {during() {
			workload = readWorkload(reads);
		}});
		await workload;
		console.log(`# ${run.stderr.trim()}\n# ${run.stdout.split('\n').slice(0, 4).join(' / ')}`);
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stderr, /kprobe_profile hit counts/);
		assert.match(run.stdout, /^FUNC {30}COUNT$/m);
		assert.ok(countOf(run.stdout, 'vfs_read') >= reads, run.stdout);
	});
});

test('funccount -P and -p (hist triggers), several patterns, and a tracepoint', async () => {
	await checked('funccount -P', async () => {
		let workload: Promise<void> | undefined;
		const run = await runTool('funccount', ['-P', '-d', '6', 'vfs_read', 'vfs_write', 't:syscalls:sys_enter_read'], {during() {
			workload = readWorkload(reads);
		}});
		await workload;
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stderr, /hist triggers/);
		const rows = run.stdout.split('\n').filter(line => line.includes(' node ')).map(line => line.trim().split(/\s+/));
		assert.ok(rows.some(row => row[0] === 'vfs_read' && Number(row.at(-1)) >= reads), run.stdout);
		assert.ok(rows.some(row => row[0] === 'syscalls:sys_enter_read' && Number(row.at(-1)) >= reads), run.stdout);
	});
	await checked('funccount -p', async () => {
		const run = await runTool('funccount', ['-p', String(process.pid), '-d', '4', 'vfs_read'], {during() {
			readsNow(reads);
		}});
		assert.equal(run.code, 0, run.stderr);
		assert.ok(countOf(run.stdout, 'vfs_read') >= reads, run.stdout);
	});
});

test('funccount: Ctrl-C and TERM print the summary and restore; bad input exits 2', async () => {
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		// eslint-disable-next-line no-await-in-loop
		await checked(`funccount ${signal}`, async () => {
			const run = await runTool('funccount', ['vfs_read'], {kill: signal, settleMs: 500, during: () => readsNow(50)});
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, /Ending tracing/);
		});
	}

	await checked('funccount bad', async () => {
		const run = await runTool('funccount', ['no_such_function_xyz*']);
		assert.equal(run.code, 2);
		assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
	});
});

test