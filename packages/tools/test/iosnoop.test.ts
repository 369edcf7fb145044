import {spawn, spawnSync} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {iosnoop} from '../src/iosnoop.js';
import {assertStateRestored, binDir, dd, drive, fixtures, samples, loopDevice, rows, run, start, tracingState} from './snoop-helpers.js';

const header = /COMM\s+PID\s+TYPE\s+DEV\s+BLOCK\s+BYTES\s+LATms/;
let loop: ReturnType<typeof loopDevice>;

test.before(() => {
	loop = loopDevice();
});

test.after.always(() => {
	loop?.detach();
});

function columns(line: string) {
	// Our own output: COMM may not hold spaces here (dd).
	const [comm, pid, type, dev, block, bytes, lat] = line.trim().split(/\s+/);
	return {comm, pid: Number(pid), type: type!, dev, block: Number(block), bytes: Number(bytes), lat: Number(lat)};
}

test.serial('buffered: direct writes and reads on a loop device, exact BLOCK, BYTES, TYPE, DEV, COMM', async t => {
	const before = tracingState();
	const result = await drive('iosnoop', ['-d', loop.dev, '3'], {
		ready: header,
		end: 'exit',
		during() {
			dd(['if=/dev/zero', `of=${loop.path}`, 'bs=8k', 'seek=100', 'count=3', 'oflag=direct']);
			dd([`if=${loop.path}`, 'of=/dev/null', 'bs=4k', 'skip=7', 'count=2', 'iflag=direct']);
		},
	});
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /^Tracing block I\/O for 3 seconds \(buffered\)\.\.\.$/m);
	const ios = rows(result.stdout, header).map(line => columns(line));
	t.deepEqual(ios.map(io => [io.comm, io.dev, io.block, io.bytes, io.type.includes('W') ? 'W' : io.type.includes('R') ? 'R' : io.type]), [
		['dd', loop.dev, 1600, 8192, 'W'],
		['dd', loop.dev, 1616, 8192, 'W'],
		['dd', loop.dev, 1632, 8192, 'W'],
		['dd', loop.dev, 56, 4096, 'R'],
		['dd', loop.dev, 64, 4096, 'R'],
	]);
	t.true(ios.every(io => io.lat >= 0 && Number.isFinite(io.lat) && io.pid > 0));
	assertStateRestored(t, before, result.pid);
});

test.serial('live: -i \'*W*\' -ts shows only the writes with start <= end; SIGINT ends it cleanly', async t => {
	const before = tracingState();
	const running = start('iosnoop', ['-ts', '-i', '*W*', '-d', loop.dev]);
	await running.waitFor(header);
	dd([`if=${loop.path}`, 'of=/dev/null', 'bs=4k', 'skip=3', 'count=1', 'iflag=direct']);
	dd(['if=/dev/zero', `of=${loop.path}`, 'bs=4k', 'seek=40', 'count=2', 'oflag=direct']);
	await running.waitFor(/ 328 +4096 /);
	running.child.kill('SIGINT');
	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /^STARTs\s+ENDs\s+COMM/m);
	t.regex(result.stdout, /Ending tracing\.\.\.\n$/);
	const ios = rows(result.stdout, header).map(line => line.trim().split(/\s+/));
	t.deepEqual(ios.map(io => [io[2], io[5], io[6], io[7]]), [['dd', loop.dev, '320', '4096'], ['dd', loop.dev, '328', '4096']]);
	t.true(ios.every(io => io[4]!.includes('W') && Number(io[0]) <= Number(io[1])));
	assertStateRestored(t, before, result.pid);
});

test.serial('--json: one object per I/O with its fields', async t => {
	const result = await drive('iosnoop', ['--json', '-d', loop.dev, '2'], {
		ready: /"type":"start"/,
		end: 'exit',
		during() {
			dd(['if=/dev/zero', `of=${loop.path}`, 'bs=16k', 'seek=10', 'count=1', 'oflag=direct']);
		},
	});
	t.is(result.code, 0, result.stderr);
	const records = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
	t.like(records[0], {type: 'start', mode: 'buffered'});
	t.like(records.find(record => record['type'] === 'io'), {comm: 'dd', dev: loop.dev, sector: 320, bytes: 16_384});
});

for (const signal of ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
	test.serial(`exit path ${signal}: exit 0, nothing left behind`, async t => {
		const before = tracingState();
		const result = await drive('iosnoop', ['-Q'], {ready: header, end: signal, settleMs: 300});
		t.is(result.code, 0, result.stderr);
		assertStateRestored(t, before, result.pid);
	});
}

test.serial('exit path: a closed pipe (| head -1) ends it, nothing left behind', async t => {
	const before = tracingState();
	const running = start('iosnoop', ['-d', loop.dev]);
	await running.waitFor(header);
	running.child.stdout!.destroy();
	// The next line it prints meets the closed pipe.
	for (let i = 0; i < 20 && running.child.exitCode === null; i++) {
		dd(['if=/dev/zero', `of=${loop.path}`, 'bs=4k', `seek=${i}`, 'count=1', 'oflag=direct']);
		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
	}

	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	assertStateRestored(t, before, result.pid);
});

const badInputs: Array<[string[], RegExp]> = [
	[['-d', '9,999'], /no block device 9,999/],
	[['-d', 'sda'], /device must be "major,minor"/],
	[['-i', 'R"; echo'], /iotype .* must be a glob/],
	[['-p', '999999'], /PID 999999 does not exist/],
	[['-p', '1', '-n', 'x'], /use either -p or -n/],
	[['-n', 'a\nb'], /newline/],
	[['-n', '('], /not a valid regular expression/],
	[['0'], /duration must be a positive number/],
	[['--', '-5'], /duration must be a positive number/],
	[['-z'], /unknown option -z/],
	[['--bogus'], /unknown option --bogus/],
	[['-d'], /option -d needs a value/],
	[['1', '2'], /unexpected argument "2"/],
	[['--replay', '/nonexistent/trace'], /cannot read trace file/],
];

for (const [args, message] of badInputs) {
	test.serial(`bad input ${JSON.stringify(args)}: one line, exit 2, nothing touched`, async t => {
		const before = tracingState();
		const result = await run('iosnoop', args);
		t.is(result.code, 2);
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
		t.regex(result.stderr, /^iosnoop: /);
		assertStateRestored(t, before, result.pid);
	});
}

test.serial('-h prints the usage, exit 0; --man has FIELDS and OVERHEAD', async t => {
	const help = await run('iosnoop', ['-h']);
	t.is(help.code, 0);
	t.regex(help.stdout, /^USAGE: iosnoop \[-hQst\] \[-d device\] \[-i iotype\] \[-p PID\] \[-n name\]/);
	t.regex(help.stdout, /eg,\n/);
	const man = await run('iosnoop', ['--man']);
	t.regex(man.stdout, /^FIELDS$/m);
	t.regex(man.stdout, /^OVERHEAD$/m);
});

test('replay: old-format (3.x) trace lines match the perf-tools original\'s output', async t => {
	const plain = await run('iosnoop', ['--replay', `${fixtures}iosnoop-3.16.trace`]);
	t.is(plain.code, 0, plain.stderr);
	t.deepEqual(rows(plain.stdout, header), readFileSync(`${fixtures}iosnoop-3.16.expected.txt`, 'utf8').trimEnd().split('\n'));
	const times = await run('iosnoop', ['-ts', '--replay', `${fixtures}iosnoop-3.16.trace`]);
	t.deepEqual(rows(times.stdout, header), readFileSync(`${fixtures}iosnoop-3.16.expected-ts.txt`, 'utf8').trimEnd().split('\n'));
});

test('replay: a 6.18 trace (ioprio field) gives real BLOCK and BYTES where the original printed "+" and 0', async t => {
	const result = await run('iosnoop', ['--replay', `${samples}iosnoop.trace`]);
	t.is(result.code, 0, result.stderr);
	const ios = rows(result.stdout, header).map(line => columns(line));
	const writes = ios.filter(io => io.type === 'WS');
	const reads = ios.filter(io => io.type === 'RS');
	t.deepEqual(writes.slice(0, 3).map(io => [io.comm, io.dev, io.block, io.bytes]), [['dd', '7,0', 0, 4096], ['dd', '7,0', 8, 4096], ['dd', '7,0', 16, 4096]]);
	t.true(writes.every((io, index) => io.block === index * 8 && io.bytes === 4096));
	t.true(reads.length > 0 && reads.every(io => io.bytes === 65_536 && io.block % 128 === 0));
});

test('replay filters: -i, -n and -p apply to recorded traces', async t => {
	const trace = `${fixtures}iosnoop-3.16.trace`;
	const reads = await run('iosnoop', ['-i', 'R', '--replay', trace]);
	t.true(rows(reads.stdout, header).every(line => columns(line).type === 'R'));
	const named = await run('iosnoop', ['-n', '^super', '--replay', trace]);
	t.true(rows(named.stdout, header).every(line => line.startsWith('supervise')));
	t.is(rows(named.stdout, header).length, 6);
	const pid = await run('iosnoop', ['-p', '7428', '--replay', trace]);
	t.deepEqual(rows(pid.stdout, header).map(line => columns(line).block), [9_006_848, 620_992]);
});

/** A 3.x-format trace of these lines, in a file of its own. */
function traceFile(t: ExecutionContext, lines: readonly string[]): string {
	const dir = mkdtempSync(join(tmpdir(), 'iosnoop-test-'));
	t.teardown(() => {
		rmSync(dir, {recursive: true, force: true});
	});
	const path = join(dir, 'trace');
	writeFileSync(path, ['# tracer: nop', '#', '#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION', '#              | |       |   ||||       |         |', ...lines, ''].join('\n'));
	return path;
}

const issue = (seconds: string, sector: number, cpu = 0): string => `              dd-1234  [00${cpu}] d... ${seconds}: block_rq_issue: 202,1 W 0 () ${sector} + 8 [dd]`;
const completion = (seconds: string, sector: number, cpu = 0): string => `          <idle>-0     [00${cpu}] d.h. ${seconds}: block_rq_complete: 202,1 W () ${sector} + 8 [0]`;

test('replay: LATms rounds as awk\'s printf "%.2f" (exact ties to even), also in --json', async t => {
	// 1000 * (0.002625 - 0.000000) is 2.625 exactly: printf gives 2.62 where toFixed gives 2.63.
	const path = traceFile(t, [issue('0.000000', 100), completion('0.002625', 100), issue('1.000000', 108), completion('1.001500', 108)]);
	const result = await run('iosnoop', ['--replay', path]);
	t.is(result.code, 0, result.stderr);
	t.deepEqual(rows(result.stdout, header), [
		'dd           1234   W    202,1    100          4096       2.62',
		'dd           1234   W    202,1    108          4096       1.50',
	]);
	const json = await run('iosnoop', ['--json', '--replay', path]);
	const records = json.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
	t.deepEqual(records[1], {type: 'io', comm: 'dd', pid: 1234, rwbs: 'W', dev: '202,1', sector: 100, bytes: 4096, latencyMs: 2.625, start: '0.000000', end: '0.002625'});
	const times = await run('iosnoop', ['-ts', '--replay', path]);
	t.deepEqual(rows(times.stdout, header), [
		'0.000000        0.002625        dd           1234   W    202,1    100          4096       2.62',
		'1.000000        1.001500        dd           1234   W    202,1    108          4096       1.50',
	]);
});

/** A buffer dump with a late-starting CPU and a lost-events gap: 200 pairs before them, 300 and 400 across, 500 and 600 after. */
const gappedDump = (): string[] => [
	issue('1.000000', 200),
	completion('1.001000', 200),
	issue('1.100000', 300),
	'##### CPU 1 buffer started ####',
	issue('1.500000', 400, 1),
	completion('1.502000', 300, 1),
	completion('1.503000', 400, 1),
	'CPU:0 [LOST 3 EVENTS]',
	issue('2.000000', 500),
	completion('2.000250', 500),
	issue('2.100000', 600),
	completion('2.100100', 600),
];

test('replay of a buffer dump: requests begun before the last gap are dropped, the rest printed in order', async t => {
	const path = traceFile(t, gappedDump());
	const result = await run('iosnoop', ['--replay', path]);
	t.is(result.code, 0, result.stderr);
	// 200 completed before the gaps; 300's issue was cleared at the first gap; 400 began before the second.
	t.deepEqual(rows(result.stdout, header).map(line => columns(line).block), [500, 600]);
	t.regex(result.stderr, /WARNING: some events lost \(CPU 1\)/);
	t.regex(result.stderr, /WARNING: 3 events lost \(CPU 0\)/);
	const records: unknown[] = [];
	for await (const record of iosnoop({replay: path})) {
		records.push(record);
	}

	t.like(records, [{type: 'start'}, {type: 'lost', cpu: 1}, {type: 'lost', count: 3}, {type: 'io', sector: 500}, {type: 'io', sector: 600}]);
	t.is(records.length, 5);
});

test('replay printed by a thread of its own, its gaps counted by another (long replays from 4 CPUs on, or forced), prints what one thread prints', async t => {
	const gapped = traceFile(t, gappedDump());
	const ties = traceFile(t, [issue('0.000000', 100), completion('0.002625', 100), issue('1.000000', 108), completion('1.001500', 108)]);
	// 70,000 requests of as many comms (past the 65,536 strings both threads keep, so they start again), some not ASCII (rows printed as text).
	const many = traceFile(t, Array.from({length: 70_000}, (_, i) => {
		const comm = i % 1000 === 7 ? `caf\u00e9${i}` : `c${i}`;
		const seconds = `${10 + Math.floor(i / 1000)}.${String((i % 1000) * 1000).padStart(6, '0')}`;
		return [
			`${`${comm}-${i % 30_000}`.padStart(16)}  [001] d... ${seconds}: block_rq_issue: 8,${i % 3} ${i % 2 ? 'R' : 'WS'} 0 () ${i * 8} + 8 [${comm}]`,
			`          <idle>-0     [001] d.h. ${seconds.replace(/\d$/, '9')}: block_rq_complete: 8,${i % 3} ${i % 2 ? 'R' : 'WS'} () ${i * 8} + 8 [0]`,
		];
	}).flat());
	// The same, with a late CPU's start near its beginning and lost events in its middle (rows are held
	// while another thread counts the gaps, then printed or dropped).
	const manyLines = readFileSync(many, 'utf8').trimEnd().split('\n');
	manyLines.splice(70_004, 0, 'CPU:0 [LOST 3 EVENTS]');
	manyLines.splice(204, 0, '##### CPU 1 buffer started ####');
	const manyGapped = traceFile(t, manyLines.slice(4));
	// The start and end columns on the traces whose rows reach the printing thread's text path or restart.
	for (const trace of [`${fixtures}iosnoop-3.16.trace`, `${samples}iosnoop.trace`, gapped, ties, many, manyGapped]) {
		for (const args of [['--replay', trace], ...([ties, many, manyGapped].includes(trace) ? [['-ts', '--replay', trace]] : [])]) {
			// eslint-disable-next-line no-await-in-loop
			const one = await run('iosnoop', args, {env: {...process.env, FTRACE_TS_IOSNOOP_ROWS_THREAD: '0', FTRACE_TS_GAPS_THREAD: '0'}});
			// eslint-disable-next-line no-await-in-loop
			const threaded = await run('iosnoop', args, {env: {...process.env, FTRACE_TS_IOSNOOP_ROWS_THREAD: '1', FTRACE_TS_GAPS_THREAD: '1'}});
			t.is(one.code, 0, one.stderr);
			t.true(rows(one.stdout, header).length > 0, `${trace} has rows`);
			t.deepEqual([threaded.code, threaded.stdout, threaded.stderr], [one.code, one.stdout, one.stderr], `${args.join(' ')}`);
		}
	}

	const manyRows = rows((await run('iosnoop', ['--replay', many], {env: {...process.env, FTRACE_TS_IOSNOOP_ROWS_THREAD: '1'}})).stdout, header);
	t.is(manyRows.length, 70_000);
	t.is(manyRows[7]!.slice(0, 12), 'caf\u00e97       ');
	t.is(manyRows[69_999]!.slice(0, 12), 'c69999      ');
	// Requests begun before the lost events are dropped: those from 35,000 on (1,000 a second from 10 s) are printed.
	const gappedRun = await run('iosnoop', ['--replay', manyGapped], {env: {...process.env, FTRACE_TS_IOSNOOP_ROWS_THREAD: '1', FTRACE_TS_GAPS_THREAD: '1'}});
	const gappedRows = rows(gappedRun.stdout, header);
	// The same when the replay waits for the count after 1,000 rows held (as a long file's does after 65,536).
	const waited = await run('iosnoop', ['--replay', manyGapped], {env: {...process.env, FTRACE_TS_IOSNOOP_ROWS_THREAD: '1', FTRACE_TS_GAPS_THREAD: '1', FTRACE_TS_GAPS_HOLD_ROWS: '1000'}});
	t.deepEqual([waited.code, waited.stdout, waited.stderr], [gappedRun.code, gappedRun.stdout, gappedRun.stderr]);
	t.is(gappedRows[0]!.slice(0, 12), 'c35000      ');
	t.is(gappedRows.length, 35_000);
	t.regex(gappedRun.stderr, /WARNING: 3 events lost \(CPU 0\)/);
});

test('replay decoded by worker threads (as on machines with 4 CPUs or more) prints what one thread prints', async t => {
	const gapped = traceFile(t, gappedDump());
	for (const trace of [`${fixtures}iosnoop-3.16.trace`, `${samples}iosnoop.trace`, gapped]) {
		for (const args of [['--replay', trace], ['-ts', '--replay', trace], ['--json', '--replay', trace]]) {
			// eslint-disable-next-line no-await-in-loop
			const one = await run('iosnoop', args, {env: {...process.env, FTRACE_TS_REPLAY_WORKERS: '0'}});
			// eslint-disable-next-line no-await-in-loop
			const threads = await run('iosnoop', args, {env: {...process.env, FTRACE_TS_REPLAY_WORKERS: '2', FTRACE_TS_REPLAY_SEGMENT: '300'}});
			t.is(one.code, 0, one.stderr);
			t.true(rows(one.stdout, header).length > 0 || args.includes('--json'), `${trace} has rows`);
			t.deepEqual([threads.code, threads.stdout, threads.stderr], [one.code, one.stdout, one.stderr], `${args.join(' ')}`);
		}
	}
});

test('replay to a pipe read slowly prints the same bytes as to a file (the row buffer is reused only once stdout is done with it)', async t => {
	// ~40 row buffers of 64 KiB.
	const lines: string[] = [];
	for (let i = 0; i < 40_000; i++) {
		const stamp = (micros: number): string => `${10 + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
		lines.push(issue(stamp(i * 20), i * 8, i % 2), completion(stamp((i * 20) + 7 + (i % 13)), i * 8, i % 2));
	}

	const path = traceFile(t, lines);
	const file = join(dirname(path), 'out');
	const out = openSync(file, 'w');
	const written = spawnSync(process.execPath, [join(binDir, 'iosnoop.js'), '--replay', path], {stdio: ['ignore', out, 'pipe']});
	closeSync(out);
	t.is(written.status, 0, String(written.stderr));
	const expected = readFileSync(file);
	t.true(expected.length > 30 * 65_536);

	const child = spawn(process.execPath, [join(binDir, 'iosnoop.js'), '--replay', path], {stdio: ['ignore', 'pipe', 'inherit']});
	const chunks: Buffer[] = [];
	let reads = 0;
	child.stdout.on('data', (chunk: Buffer) => {
		chunks.push(chunk);
		// The pipe fills while this reader sleeps: the writer's writes wait in stdout.
		if (++reads % 4 === 0) {
			child.stdout.pause();
			setTimeout(() => child.stdout.resume(), 20);
		}
	});
	const code = await new Promise<number | null>(resolve => {
		child.on('close', resolve);
	});
	t.is(code, 0);
	t.true(reads > 30);
	t.true(Buffer.concat(chunks).equals(expected));
});
