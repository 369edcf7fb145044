// funccount -s on the vm lane kernel (hist triggers keyed by stack, on its
// own kprobes and on tracepoints): the stacks of known reads, folded and
// counted in the kernel, the same totals as funccount -P beside it, drawn by
// flamegraph straight from a pipe, and the tracing state as it was.
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import test from 'node:test';
import {bin, checked, readsNow, runTool} from './func-tools-lib.js';

interface Started {
	readonly child: ChildProcess;
	readonly closed: Promise<number | null>;
	stdout: string;
	stderr: string;
}

/** Spawn a tool and resolve once `started` is seen on its stdout or stderr (its startup line). */
async function start(tool: string, args: readonly string[], started: RegExp): Promise<Started> {
	const child = spawn(process.execPath, [bin(tool), ...args], {stdio: ['ignore', 'pipe', 'pipe']});
	const run: Started = {child, closed: new Promise(resolve => child.on('close', resolve)), stdout: '', stderr: ''};
	await new Promise<void>((resolve, reject) => {
		const check = () => {
			if (started.test(run.stdout) || started.test(run.stderr)) {
				resolve();
			}
		};

		child.stdout!.on('data', (chunk: Buffer) => {
			run.stdout += chunk.toString();
			check();
		});
		child.stderr!.on('data', (chunk: Buffer) => {
			run.stderr += chunk.toString();
			check();
		});
		void run.closed.then(code => reject(new Error(`${tool} exited ${code} before starting: ${run.stderr}`)));
	});
	return run;
}

/** Folded lines as [root..leaf frames, count]. */
function foldedLines(text: string): Array<{frames: string[]; count: number}> {
	return text.trimEnd().split('\n').filter(Boolean).map(line => {
		const match = /^(.*) (\d+)$/.exec(line);
		assert.ok(match, `a folded line: ${JSON.stringify(line)}`);
		return {frames: match[1]!.split(';'), count: Number(match[2])};
	});
}

const ddReads = 300;

test('funccount -s --folded beside funccount -P: dd\'s reads counted by stack, on a kprobe and a tracepoint, the same totals', async () => {
	await checked('funccount -s --folded', async () => {
		const patterns = ['vfs_read', 't:syscalls:sys_enter_read'];
		const stacks = await start('funccount', ['-s', '--folded', ...patterns], /Tracing/);
		const plain = await start('funccount', ['-P', ...patterns], /Tracing/);
		const file = `/tmp/funccount-stacks-${process.pid}`;
		writeFileSync(file, 'x'.repeat(ddReads * 2));
		await new Promise<void>((resolve, reject) => {
			const dd = spawn('dd', [`if=${file}`, 'of=/dev/null', 'bs=1', `count=${ddReads}`], {stdio: 'ignore'});
			dd.on('close', code => (code === 0 ? resolve() : reject(new Error(`dd exited ${code}`))));
		});
		rmSync(file);
		stacks.child.kill('SIGINT');
		plain.child.kill('SIGINT');
		const [stacksCode, plainCode] = await Promise.all([stacks.closed, plain.closed]);
		assert.equal(stacksCode, 0, stacks.stderr);
		assert.equal(plainCode, 0, plain.stderr);
		console.log(`# ${stacks.stderr.trim().replaceAll('\n', '\n# ')}`);
		assert.match(stacks.stderr, /hist triggers keyed by kernel stack \(2 events, kprobes in group ftrace_ts_\d+\)/);
		assert.match(stacks.stderr, /Ending tracing/);
		assert.doesNotMatch(stacks.stderr, /not counted/);

		const lines = foldedLines(stacks.stdout);
		for (const line of lines) {
			assert.ok(['vfs_read', 'syscalls:sys_enter_read'].includes(line.frames.at(-1)!), `leaf is the counted function or tracepoint: ${line.frames.join(';')}`);
			assert.ok(!line.frames.includes('kprobe_ftrace_handler'), `no kprobe frames: ${line.frames.join(';')}`);
		}

		const rows = plain.stdout.split('\n').map(row => row.trim().split(/\s+/)).filter(row => row.length === 4 && row[2] === 'dd');
		for (const func of ['vfs_read', 'syscalls:sys_enter_read']) {
			const dd = lines.filter(line => line.frames[0] === 'dd' && line.frames.at(-1) === func);
			const total = dd.reduce((sum, line) => sum + line.count, 0);
			const expected = rows.filter(row => row[0] === func).reduce((sum, row) => sum + Number(row[3]), 0);
			console.log(`# ${func}: dd's stacks add up to ${total}; funccount -P counted ${expected}; ${dd.length} distinct stacks`);
			for (const line of dd) {
				console.log(`#   ${line.frames.join(';')} ${line.count}`);
			}

			assert.ok(total >= ddReads, `at least dd's ${ddReads} reads under ${func}:\n${stacks.stdout}`);
			assert.equal(total, expected, `the same count as funccount -P:\n${stacks.stdout}\n${plain.stdout}`);
		}

		const ddRead = lines.filter(line => line.frames[0] === 'dd' && line.frames.at(-1) === 'vfs_read');
		assert.ok(ddRead.some(line => line.frames.at(-2) === 'ksys_read'), 'vfs_read under ksys_read');
		// The tracepoint's own caller depends on how deep the kernel's stack walk skips (syscall_trace_enter or do_syscall_64).
		assert.ok(lines.some(line => line.frames[0] === 'dd' && line.frames.at(-1) === 'syscalls:sys_enter_read' && line.frames.includes('do_syscall_64')), 'sys_enter_read under do_syscall_64');
	});
});

test('funccount -s --folded vfs_read | flamegraph > out.svg', async () => {
	await checked('funccount -s --folded | flamegraph', async () => {
		const svgFile = `/tmp/funccount-stacks-${process.pid}.svg`;
		const shell = spawn('sh', ['-c', `"${process.execPath}" "${bin('funccount')}" -s --folded -d 4 vfs_read | "${process.execPath}" "${bin('flamegraph')}" --title 'vfs_read stacks' > ${svgFile}`], {stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		const closed = new Promise<number | null>(resolve => shell.on('close', resolve));
		await new Promise<void>(resolve => {
			shell.stderr.on('data', (chunk: Buffer) => {
				stderr += chunk.toString();
				if (stderr.includes('Tracing')) {
					resolve();
				}
			});
			void closed.then(() => resolve());
		});
		readsNow(100);
		assert.equal(await closed, 0, stderr);
		const svg = readFileSync(svgFile, 'utf8');
		rmSync(svgFile);
		assert.match(svg, /<svg /);
		assert.match(svg, /vfs_read stacks/);
		assert.match(svg, /ksys_read/);
		assert.match(svg, /vfs_read \(\d+ samples/);
	});
});

test('funccount -s -P: readable stacks with task and count, adding up to the FUNC COUNT table', async () => {
	await checked('funccount -s -P', async () => {
		const run = await runTool('funccount', ['-s', '-P', '-d', '4', 'vfs_read'], {during: () => readsNow(200)});
		assert.equal(run.code, 0, run.stderr);
		const [stackText = '', table = ''] = run.stdout.split(/^FUNC +PID +COMM +COUNT$/m);
		const blocks = stackText.split('\n\n').map(block => block.split('\n').filter(Boolean)).filter(block => block.length >= 3 && block[0]!.startsWith('  '));
		const mine = blocks.filter(block => block.at(-2)!.trim() === `node [${process.pid}]`);
		console.log(`# ${mine.length} stacks of ours; the first:\n# ${(mine[0] ?? []).join('\n# ')}`);
		assert.ok(mine.length > 0, run.stdout);
		for (const block of blocks) {
			assert.equal(block[0], '  vfs_read', `the counted function on top: ${block.join('|')}`);
			assert.match(block.at(-1)!, /^ {4}\d+$/);
			assert.match(block.at(-2)!, /^ {4}\S.* \[\d+\]$/);
		}

		assert.ok(mine.some(block => block[1] === '  ksys_read'), run.stdout);
		const stackTotal = mine.reduce((sum, block) => sum + Number(block.at(-1)), 0);
		const row = table.split('\n').map(line => line.trim().split(/\s+/)).find(words => words[0] === 'vfs_read' && words[1] === String(process.pid));
		assert.ok(row, table);
		assert.equal(Number(row.at(-1)), stackTotal, 'the table is the sum of the stacks');
		assert.ok(stackTotal >= 200, run.stdout);
	});
});

test('funccount -s --json -i: a summary per interval, each with the stacks counted in it', async () => {
	await checked('funccount -s --json -i', async () => {
		const run = await runTool('funccount', ['-s', '--json', '-i', '2', '-d', '4', 'vfs_read'], {during: () => readsNow(100)});
		assert.equal(run.code, 0, run.stderr);
		const records = run.stdout.trim().split('\n').map(line => JSON.parse(line) as {kind: string; final?: boolean; counts?: Array<{func: string; count: number}>; stacks?: Array<{func: string; stack: string[]; comm: string; count: number}>});
		const summaries = records.filter(record => record.kind === 'summary');
		console.log(`# ${summaries.length} summaries: ${summaries.map(summary => (summary.stacks ?? []).reduce((sum, entry) => sum + entry.count, 0)).join(', ')} stacked reads`);
		assert.equal(summaries.length, 2, run.stdout);
		assert.equal(summaries.at(-1)!.final, true);
		for (const summary of summaries) {
			const stacked = (summary.stacks ?? []).reduce((sum, entry) => sum + entry.count, 0);
			const counted = (summary.counts ?? []).reduce((sum, entry) => sum + entry.count, 0);
			assert.equal(stacked, counted, 'the counts are the sums of the stacks');
			assert.ok((summary.stacks ?? []).every(entry => entry.stack[0] === 'vfs_read' && entry.func === 'vfs_read'));
		}

		const first = summaries[0]!.stacks!.filter(entry => entry.comm === 'node' && entry.stack[1] === 'ksys_read');
		assert.ok(first.reduce((sum, entry) => sum + entry.count, 0) >= 100, run.stdout);
	});
});
