import {spawn} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {assertStateRestored, dd, drive, fixtures, loopDevice, rows, run, sleep, start, tracingState} from './snoop-helpers.js';

let loop: ReturnType<typeof loopDevice>;

test.before(() => {
	loop = loopDevice();
});

test.after.always(() => {
	loop?.detach();
});

test.serial('-l lists tracepoints, with a glob; the subsystems of the seed notes are there', async t => {
	const all = await run('tpoint', ['-l']);
	t.is(all.code, 0);
	const names = all.stdout.trim().split('\n');
	t.true(names.includes('block:block_rq_issue') && names.includes('syscalls:sys_enter_openat'));
	for (const system of ['syscalls', 'ext4', 'block', 'sock', 'sched', 'vmscan', 'kmem', 'irq']) {
		t.true(names.some(name => name.startsWith(`${system}:`)), system);
	}

	const block = await run('tpoint', ['-l', 'block:block_rq_*']);
	const blockNames = block.stdout.trim().split('\n');
	t.true(blockNames.length >= 4 && blockNames.every(name => name.startsWith('block:block_rq_')));
});

test.serial('-v prints the format file', async t => {
	const result = await run('tpoint', ['-v', 'syscalls:sys_enter_openat']);
	t.is(result.code, 0);
	t.regex(result.stdout, /^name: sys_enter_openat$/m);
	t.regex(result.stdout, /field:const char \* filename;/);
	t.regex(result.stdout, /^print fmt: /m);
});

test.serial('buffered with a kernel filter and -s: the kernel\'s own lines for known I/O, with stacks', async t => {
	const before = tracingState();
	const dev = loop.major * 1_048_576 + loop.minor;
	const result = await drive('tpoint', ['-s', '-d', '3', 'block:block_rq_issue', `dev == ${dev}`], {
		ready: /^Tracing block:block_rq_issue for 3 seconds \(buffered\)\.\.\.$/m,
		end: 'exit',
		during() {
			dd(['if=/dev/zero', `of=${loop.path}`, 'bs=8k', 'seek=50', 'count=2', 'oflag=direct']);
		},
	});
	t.is(result.code, 0, result.stderr);
	const events = result.stdout.split('\n').filter(line => line.includes('block_rq_issue: '));
	t.is(events.length, 2, result.stdout);
	t.regex(events[0]!, new RegExp(`^ +dd-\\d+ +\\[\\d+\\] \\S+ +\\d+\\.\\d+: block_rq_issue: ${loop.dev} WS 8192 \\(\\) 800 \\+ 16 `));
	t.regex(events[1]!, new RegExp(`block_rq_issue: ${loop.dev} WS 8192 \\(\\) 816 \\+ 16 `));
	t.regex(result.stdout, /<stack trace>\n => /);
	t.regex(result.stdout, / => blk_mq_/);
	t.false(result.stdout.includes('# tracer'));
	assertStateRestored(t, before, result.pid);
});

test.serial('live -H -p PID: only that process\'s threads, headers first; SIGINT', async t => {
	const before = tracingState();
	const marker = `/tmp/tpoint-test-${process.pid}-nonexistent`;
	const helper = spawn(process.execPath, ['-e', `const fs=require('fs');setInterval(()=>{try{fs.openSync(${JSON.stringify(marker)})}catch{}},100)`], {stdio: 'ignore'});
	try {
		await sleep(300);
		const running = start('tpoint', ['-H', '-p', String(helper.pid), 'syscalls:sys_enter_openat']);
		await running.waitFor(/sys_openat\(/);
		await sleep(400);
		running.child.kill('SIGINT');
		const result = await running.done;
		t.is(result.code, 0, result.stderr);
		t.regex(result.stdout, /^Tracing syscalls:sys_enter_openat\. Ctrl-C to end\.\n# tracer: nop\n/);
		const lines = result.stdout.split('\n').filter(line => line.includes('sys_openat('));
		t.true(lines.length >= 2);
		t.true(lines.every(line => line.includes(`-${helper.pid} `) || /node-\d+ /.test(line)), lines.join('\n'));
		assertStateRestored(t, before, result.pid);
	} finally {
		helper.kill();
	}
});

test.serial('--json: decoded fields by name', async t => {
	const result = await drive('tpoint', ['--json', '-d', '2', 'block:block_rq_complete', `dev == ${loop.major * 1_048_576 + loop.minor}`], {
		ready: /"type":"start"/,
		end: 'exit',
		during() {
			dd(['if=/dev/zero', `of=${loop.path}`, 'bs=4k', 'seek=9', 'count=1', 'oflag=direct']);
		},
	});
	t.is(result.code, 0, result.stderr);
	const events = result.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; fields?: Record<string, unknown>});
	t.like(events.find(event => event.type === 'event')?.fields, {sector: 72, nr_sector: 8, rwbs: 'WS', dev: loop.major * 1_048_576 + loop.minor});
});

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
	test.serial(`exit path ${signal} with -s and a filter: nothing left behind`, async t => {
		const before = tracingState();
		const result = await drive('tpoint', ['-s', 'sched:sched_process_exec', 'pid > 1'], {ready: /Ctrl-C to end/, end: signal, settleMs: 300});
		t.is(result.code, 0, result.stderr);
		assertStateRestored(t, before, result.pid);
	});
}

test.serial('exit path: closed pipe on a busy tracepoint', async t => {
	const before = tracingState();
	const running = start('tpoint', ['sched:sched_switch']);
	await running.waitFor(/sched_switch: /);
	running.child.stdout!.destroy();
	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	assertStateRestored(t, before, result.pid);
});

for (const [args, message] of [
	[['nosuch:event'], /no tracepoint subsystem "nosuch"/],
	[['block:nosuch'], /no tracepoint block:nosuch/],
	[['block'], /not of the form subsystem:event/],
	[['block:block_rq_issue', 'nosuchfield > 1'], /kernel refused .*Field not found/],
	[['-p', '999999', 'block:block_rq_issue'], /PID 999999 does not exist/],
	[['-p', '1', '-L', '1', 'block:block_rq_issue'], /at most one of -p and -L/],
	[['-d', '0', 'block:block_rq_issue'], /duration \(-d\) must be a positive number/],
	[['-v', '-d', '1', 'block:block_rq_issue'], /use either -d or -v/],
	[[], /a tracepoint is required/],
	[['block:block_rq_issue', 'a\u0007b'], /control character/],
] as Array<[string[], RegExp]>) {
	test.serial(`bad input ${JSON.stringify(args)}: exit 2, one line, nothing left`, async t => {
		const before = tracingState();
		const result = await run('tpoint', args);
		t.is(result.code, 2, result.stderr);
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1);
		assertStateRestored(t, before, result.pid);
	});
}

test('replay: prints the recorded lines of that tracepoint as they are (old-format lines too)', async t => {
	const trace = `${fixtures}iosnoop-3.16.trace`;
	const result = await run('tpoint', ['--replay', trace, 'block:block_rq_issue']);
	t.is(result.code, 0, result.stderr);
	const expected = readFileSync(trace, 'utf8').split('\n').filter(line => line.includes(': block_rq_issue: '));
	t.deepEqual(rows(result.stdout, /^Replaying/), expected);
	const pid = await run('tpoint', ['--replay', trace, '-p', '1691', 'block:block_rq_issue']);
	t.deepEqual(rows(pid.stdout, /^Replaying/), expected.filter(line => line.includes('-1691 ')));
});

test('replay: a file longer than the longest string V8 holds (512 MiB) is read in chunks, lines cut by the chunks whole', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'tpoint-long-'));
	try {
		const path = join(dir, 'long.trace');
		const file = openSync(path, 'w');
		const mib = 1 << 20;
		let written = 0;
		const put = (text: string | Buffer): void => {
			written += writeSync(file, typeof text === 'string' ? Buffer.from(text) : text);
		};

		const issue = (comm: string, sector: number): string => `${`${comm}-77`.padStart(16)} [000] ....  1000.000001: block_rq_issue: 7,0 W 4096 () ${sector} + 8 [${comm}]`;
		// 1 MiB of comment lines, 4 KiB each.
		const block = Buffer.from(`# ${'x'.repeat(4093)}\n`.repeat(256));
		const wanted: string[] = [];
		for (let i = 0; i < 520; i++) {
			if (i % 100 === 50) {
				// A line whose two-byte character straddles a 1 MiB boundary (where reads end).
				const line = issue('möbius', i);
				const before = Buffer.byteLength(line.slice(0, line.indexOf('ö')));
				const boundary = (Math.floor(written / mib) + 2) * mib;
				put(`#${'y'.repeat(boundary - written - before - 1 - 2)}\n`);
				put(`${line}\n`);
				wanted.push(line);
			}

			put(block);
		}

		// The last line has no newline.
		const last = issue('dd', 999);
		put(last);
		wanted.push(last);
		closeSync(file);
		t.true(written > 536_870_888, `${written} bytes`);
		const result = await run('tpoint', ['--replay', path, 'block:block_rq_issue']);
		t.is(result.code, 0, result.stderr);
		t.deepEqual(rows(result.stdout, /^Replaying/), wanted);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
