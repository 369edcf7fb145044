// Folded kernel stacks from our own kprobe tracer on the vm lane kernel: a
// flame graph of kernel stacks with no perf at all.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import test from 'node:test';
import {bin, checked, readsNow} from './func-tools-lib.js';

test('kprobe -s --folded: vfs_read stacks of known reads, folded, then drawn by flamegraph', async () => {
	await checked('kprobe --folded', async () => {
		const child = spawn(process.execPath, [bin('kprobe'), '-s', '--folded', '-d', '4', 'p:vfs_read', `common_pid == ${process.pid}`], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
		});
		await new Promise<void>(resolve => {
			child.stderr.on('data', (chunk: Buffer) => {
				stderr += chunk.toString();
				if (stderr.includes('Tracing')) {
					resolve();
				}
			});
		});
		readsNow(50);
		const code = await new Promise<number | null>(resolve => child.on('close', resolve));
		assert.equal(code, 0, stderr);
		const lines = stdout.trimEnd().split('\n');
		const total = lines.reduce((sum, line) => sum + Number(/ (\d+)$/.exec(line)?.[1] ?? 0), 0);
		assert.ok(total >= 50, `at least the 50 known reads: ${stdout}`);
		assert.ok(lines.every(line => /^node;.*;ksys_read;/.test(line) || /^node;/.test(line)), stdout);
		assert.ok(lines.some(line => line.includes(';ksys_read;')), stdout);
		const folded = `/tmp/folded-${process.pid}.txt`;
		writeFileSync(folded, stdout);
		const svg = await new Promise<string>((resolve, reject) => {
			const draw = spawn(process.execPath, [bin('flamegraph'), folded], {stdio: ['ignore', 'pipe', 'inherit']});
			let text = '';
			draw.stdout.on('data', (chunk: Buffer) => {
				text += chunk.toString();
			});
			draw.on('close', status => (status === 0 ? resolve(text) : reject(new Error(`flamegraph exited ${status}`))));
		});
		assert.match(svg, /ksys_read/);
	});
});
