// funcgraph -m (max depth) on the vm lane kernel.
import assert from 'node:assert/strict';
import test from 'node:test';
import {checked, readsNow, runTool} from './func-tools-lib.js';

test('funcgraph -m 2: the graph of vfs_read stops at depth 2', async () => {
	await checked('funcgraph -m', async () => {
		const run = await runTool('funcgraph', ['-m', '2', '-d', '3', 'vfs_read'], {during: () => readsNow(20), timeoutMs: 100_000});
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /vfs_read\(\) \{/);
		const depths = run.stdout.split('\n').filter(line => /\|\s+\S/.test(line)).map(line => /\|(\s*)/.exec(line)![1]!.length);
		assert.ok(depths.length > 0, run.stdout);
		assert.ok(Math.max(...depths) - Math.min(...depths) <= 2, `indentation of at most two levels: ${run.stdout.slice(0, 800)}`);
	});
});

test('funcgraph -P -m 3: each graph line names its task', async () => {
	await checked('funcgraph -P', async () => {
		const run = await runTool('funcgraph', ['-P', '-m', '3', '-d', '3', 'vfs_read'], {during: () => readsNow(20), timeoutMs: 100_000});
		assert.equal(run.code, 0, run.stderr);
		assert.match(run.stdout, /node-\d+\s+=?>?\s*\|?.*vfs_read\(\) \{|\bnode-\d+.*vfs_read\(\) \{/);
	});
});
