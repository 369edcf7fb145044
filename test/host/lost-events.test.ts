/**
 * Lost events: under an event rate the buffer cannot hold, a tool reports the
 * lost count, and none prints wrong pairings across the gap. A tiny-buffer
 * iosnoop runs beside a large-buffer one on the same I/O; every row the
 * tiny one prints must be a real request, one the large one saw too.
 */
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import test from 'ava';
import {startTool, toolBin} from '../lib/harness.js';

interface Row {
	start: number;
	end: number;
	pid: string;
	dev: string;
	block: string;
	latency: number;
}

function rows(stdout: string): Row[] {
	return stdout.split('\n')
		.map(line => line.trim().split(/\s+/))
		.filter(cols => cols.length === 9 && /^\d+\.\d+$/.test(cols[0]!))
		.map(cols => ({start: Number(cols[0]), end: Number(cols[1]), pid: cols[3]!, dev: cols[5]!, block: cols[6]!, latency: Number(cols[8])}));
}

test.serial('iosnoop with a tiny buffer reports its losses and pairs nothing across the gap', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-lost-'));
	const image = join(dir, 'disk.img');
	execFileSync('truncate', ['-s', '16M', image]);
	const device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	const minor = Number(readFileSync(`/sys/class/block/${device.slice(5)}/dev`, 'utf8').split(':')[1]);
	try {
		// Buffered mode (a duration): the tiny ring buffer overwrites what it cannot hold.
		const args = ['-st', '-d', `7,${minor}`, '8'];
		const small = startTool(toolBin('iosnoop'), args, {FTRACE_TS_BUFFER_KB: '4'});
		const large = startTool(toolBin('iosnoop'), args, {FTRACE_TS_BUFFER_KB: '16384'});
		await Promise.all([small.started, large.started]);
		await sleep(500);
		// Few sectors, written over and over: a stale issue left by a gap would
		// pair with a later completion of the same sector if the tool let it.
		const flood = spawn('bash', ['-c', `for i in $(seq 1 1000); do dd if=/dev/zero of=${device} bs=4k count=1 seek=$((i % 4)) oflag=direct status=none; done`], {stdio: 'ignore'});
		await new Promise(resolve => flood.on('close', resolve));
		await sleep(500);
		const [tiny, big] = await Promise.all([small.done, large.done]);
		t.is(tiny.code, 0, tiny.stderr);
		t.is(big.code, 0, big.stderr);
		const lost = /WARNING: (\d+)\+? events lost in total/.exec(tiny.stderr);
		t.truthy(lost, `the tiny buffer reports lost events: ${tiny.stderr}`);
		t.true(Number(lost?.[1] ?? 0) > 0);
		const truth = rows(big.stdout);
		const seen = rows(tiny.stdout);
		t.notRegex(big.stderr, /lost/, 'the large buffer lost nothing');
		t.true(truth.length >= 100, `the large buffer saw the I/O (${truth.length} rows)`);
		t.true(seen.length < truth.length, 'the tiny buffer lost some');
		// Every row of the tiny run is a real request: same sector, PID, and
		// times within a few microseconds (each instance stamps its own copy).
		const wrong = seen.filter(row => !truth.some(real => real.block === row.block && real.pid === row.pid
			&& Math.abs(real.start - row.start) < 0.000_05 && Math.abs(real.end - row.end) < 0.000_05));
		t.deepEqual(wrong, [], `no pairing across a gap; the large buffer had: ${JSON.stringify(truth.filter(real => wrong.some(row => row.pid === real.pid || Math.abs(real.start - row.start) < 0.05)))}`);
	} finally {
		execFileSync('losetup', ['-d', device]);
		rmSync(dir, {recursive: true, force: true});
	}
});

test.serial('opensnoop with a tiny buffer reports its losses and names no open wrongly across the gap', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-lost-open-'));
	try {
		const marker = `lost_open_${process.pid}`;
		// One process makes every open (a kernel PID filter keeps other
		// processes' opens out of both buffers); each names a different missing
		// file, so a name carried across a gap onto another open would show.
		const flood = spawn('python3', ['-c', `import time\ntime.sleep(3)\nfor i in range(1, 401):\n    try: open('${dir}/${marker}_%d' % i)\n    except OSError: pass\n`], {stdio: 'ignore'});
		const flooded = new Promise(resolve => flood.on('close', resolve));
		const args = ['-x', '-p', String(flood.pid), '-d', '7', marker];
		// Buffered mode: the tiny ring buffer overwrites what it cannot hold.
		const small = startTool(toolBin('opensnoop'), args, {FTRACE_TS_BUFFER_KB: '4'});
		const large = startTool(toolBin('opensnoop'), args, {FTRACE_TS_BUFFER_KB: '16384'});
		await Promise.all([small.started, large.started]);
		await flooded;
		const [tiny, big] = await Promise.all([small.done, large.done]);
		t.is(tiny.code, 0, tiny.stderr);
		t.is(big.code, 0, big.stderr);
		t.regex(tiny.stderr, /events lost/, `the tiny buffer reports lost events: ${tiny.stderr}`);
		t.notRegex(big.stderr, /events lost/, 'the large buffer lost nothing');
		const opens = (stdout: string) => stdout.split('\n').filter(line => line.includes(`${marker}_`)).map(line => {
			const cols = line.trim().split(/\s+/);
			return `${cols[1]!} ${cols.at(-1)!}`;
		});
		const truth = new Set(opens(big.stdout));
		const seen = opens(tiny.stdout);
		t.is(truth.size, 400, `the large buffer saw every open: ${big.stdout.slice(0, 500)}`);
		t.true(seen.length < truth.size, 'the tiny buffer lost some');
		t.deepEqual(seen.filter(open => !truth.has(open)), [], 'every name printed belongs to its own open (PID and file)');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

for (const [tool, args] of [['tpoint', ['-d', '4', 'syscalls:sys_enter_openat']], ['execsnoop', ['-d', '4']]] as const) {
	test.serial(`${tool} with a tiny buffer reports the lost count`, async t => {
		const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-lost-'));
		const image = join(dir, 'disk.img');
		execFileSync('truncate', ['-s', '16M', image]);
		const device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
		try {
			const run = startTool(toolBin(tool), args, {FTRACE_TS_BUFFER_KB: '4'});
			await run.started;
			await sleep(300);
			// Opens, execs and direct I/O, faster than a 4 KB buffer holds for 4 s.
			const flood = spawn('bash', ['-c', `dd if=/dev/zero of=${device} bs=512 count=20000 oflag=direct status=none & for i in $(seq 1 400); do /bin/true; cat /etc/hostname > /dev/null; done; wait`], {stdio: 'ignore'});
			const flooded = new Promise(resolve => flood.on('close', resolve));
			await flooded;
			const result = await run.done;
			t.is(result.code, 0, result.stderr);
			t.regex(result.stderr, /WARNING: \d*\+? ?events lost in total|WARNING: \d+ events lost/, result.stderr);
		} finally {
			execFileSync('losetup', ['-d', device]);
			rmSync(dir, {recursive: true, force: true});
		}
	});
}
