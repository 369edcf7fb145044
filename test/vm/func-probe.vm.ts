// kprobe on the vm lane kernel.
import assert from 'node:assert/strict';
import {closeSync, openSync, writeFileSync} from 'node:fs';
import test from 'node:test';
import {checked, countOf, readsNow, readWorkload, reads, runTool} from './func-tools-lib.js';

test('kprobe: the do_sys_open example explains itself; do_sys_openat2 with ustring shows the filename', async () => {
	const marker = `/tmp/func-tools-open-${process.pid}`;
	writeFileSync(marker, '');
	await checked('kprobe do_sys_open', async () => {
		const run = await runTool('kprobe', ['-d', '2', 'p:do_sys_open filename=+0(%si):string'], {during: () => closeSync(openSync(marker, 'r'))});
		console.log(`# do_sys_open: exit ${run.code}: ${run.stderr.trim()}`);
		assert.ok(run.code === 0 || run.code === 2, run.stderr);
		assert.match(run.stderr, /do_sys_openat2/);
	});
	await checked('kprobe string', async () => {
		const run = await runTool('kprobe', ['p:do_sys_openat2 filename=+0(%si):string', `common_pid == ${process.pid}`], {kill: 'SIGINT', settleMs: 800, during: () => closeSync(openSync(marker, 'r'))});
		console.log(`# string: ${run.stdout.split('\n')[1] ?? ''} ${run.stderr.trim()}`);
		assert.equal(run.code, 0, run.stderr);
	});
	await checked('kprobe ustring', async () => {
		const run = await runTool('kprobe', ['-H', 'p:myopen do_sys_openat2 filename=+0(%si):ustring', `filename ~ "${marker}"`], {kill: 'SIGTERM', settleMs: 800, during: () => closeSync(openSync(marker, 'r'))});
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, new RegExp(`myopen: .*filename="${marker}"`));
		assert.match(run.stdout, /^# tracer: nop/m);
	});
	await checked('kprobe bad definitions', async () => {
		for (const args of [['p:vfs_read $arg99999'], ['p:vfs_read+3'], ['p:nosuch_function_xyz'], ['p:vfs_read', 'nosuchfield == 1'], ['-p', '999999', 'p:vfs_read']]) {
			// eslint-disable-next-line no-await-in-loop
			const run = await runTool('kprobe', args);
			console.log(`# kprobe ${args.join(' ')}: ${run.code}: ${run.stderr.trim()}`);
			assert.equal(run.code, 2, run.stderr);
			assert.equal(run.stderr.trim().split('\n').length, 1);
		}
	});
});

test