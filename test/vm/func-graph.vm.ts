// funcgraph, functrace and funcslower on the vm lane kernel.
import assert from 'node:assert/strict';
import {closeSync, openSync, writeFileSync} from 'node:fs';
import test from 'node:test';
import {checked, countOf, readsNow, readWorkload, reads, runTool} from './func-tools-lib.js';

test('funcgraph vfs_read shows its children, restores the top instance on every exit path', async () => {
	await checked('funcgraph -d', async () => {
		const run = await runTool('funcgraph', ['-d', '3', 'vfs_read'], {during: () => readsNow(20)});
		assert.equal(run.code, 0, run.stderr);
		console.log(`# ${run.stderr.trim()}`);
		assert.match(run.stdout, /vfs_read\(\) \{/);
		assert.match(run.stdout, /rw_verify_area|__fsnotify_parent|fsnotify/);
	});
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		// eslint-disable-next-line no-await-in-loop
		await checked(`funcgraph ${signal}`, async () => {
			const run = await runTool('funcgraph', ['-T', 'vfs_read'], {kill: signal, settleMs: 1500, during: () => readsNow(20)});
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, /vfs_read/);
		});
	}

	await checked('funcgraph bad', async () => {
		const run = await runTool('funcgraph', ['-m', '3', 'nosuch_function_xyz']);
		assert.equal(run.code, 2, run.stderr);
	});
});

test('functrace and funcslower', async () => {
	await checked('functrace', async () => {
		const run = await runTool('functrace', ['-d', '3', 'vfs_read'], {during: () => readsNow(20)});
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /vfs_read <-/);
	});
	await checked('functrace SIGINT', async () => {
		const run = await runTool('functrace', ['vfs_read', 'vfs_write'], {kill: 'SIGINT', during: () => readsNow(20)});
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /vfs_read <-/);
	});
	await checked('funcslower', async () => {
		const run = await runTool('funcslower', ['-d', '6', '-P', 'vfs_read', '1'], {during: () => readsNow(50)});
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /\} \/\* vfs_read \*\/|vfs_read/);
	});
	await checked('funcslower SIGTERM', async () => {
		const run = await runTool('funcslower', ['vfs_read', '100000'], {kill: 'SIGTERM', settleMs: 1500});
		assert.equal(run.code, 0, run.stderr);
	});
});
