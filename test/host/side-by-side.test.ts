/**
 * Side by side: four different tools and two copies of one run at once, each
 * reporting the same known events it must report alone, while a foreign
 * tracer's settings in the top instance stay untouched.
 */
import {execFileSync} from 'node:child_process';
import {copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import test from 'ava';
import {startTool, toolBin, tracingState, withoutOthers} from '../lib/harness.js';

const T = '/sys/kernel/tracing';

test.serial('iosnoop x2, tpoint, opensnoop, execsnoop and iolatency at once report the known events', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-side-'));
	const image = join(dir, 'disk.img');
	execFileSync('truncate', ['-s', '16M', image]);
	const device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	const minor = Number(readFileSync(`/sys/class/block/${device.slice(5)}/dev`, 'utf8').split(':')[1]);
	const marker = `side_by_side_${process.pid}`;
	// A comm fits in 15 characters: keep the program's name short.
	const execName = `sbs_${process.pid}`;
	const program = join(dir, execName);
	copyFileSync('/bin/true', program);
	// A foreign tracer's settings in the top instance.
	writeFileSync(`${T}/events/sched/sched_process_fork/filter`, 'parent_pid == 1');
	writeFileSync(`${T}/events/sched/sched_process_fork/enable`, '1');
	const foreign = tracingState();
	const runs = [
		['iosnoop-1', 'iosnoop', ['-d', `7,${minor}`]],
		['iosnoop-2', 'iosnoop', ['-d', `7,${minor}`]],
		['tpoint', 'tpoint', ['block:block_rq_issue', `dev == ${(7 << 20) + minor}`]],
		['opensnoop', 'opensnoop', [marker]],
		['execsnoop', 'execsnoop', [execName]],
		['iolatency', 'iolatency', ['-d', `7,${minor}`, '1']],
	] as const;
	const started = runs.map(([label, tool, args]) => ({label, run: startTool(toolBin(tool), args)}));
	try {
		await Promise.all(started.map(({run}) => Promise.race([run.started, sleep(20_000)])));
		await sleep(1000);
		const seeks = [101, 203, 307, 409, 511];
		for (const seek of seeks) {
			execFileSync('dd', ['if=/dev/zero', `of=${device}`, 'bs=8k', 'count=1', `seek=${seek}`, 'oflag=direct', 'status=none']);
		}

		for (let i = 0; i < 3; i++) {
			try {
				readFileSync(join(dir, `${marker}_missing_${i}`));
			} catch {}

			execFileSync(program, [`arg${i}`]);
		}

		await sleep(2500);
	} finally {
		for (const {run} of started) {
			run.child.kill('SIGINT');
		}
	}

	const results = Object.fromEntries(await Promise.all(started.map(async ({label, run}) => [label, await run.done] as const)));
	try {
		const sectors = [101, 203, 307, 409, 511].map(seek => String(seek * 16));
		for (const label of ['iosnoop-1', 'iosnoop-2']) {
			// The writes by their device (a busy queue may issue a request from a kworker: COMM is then not dd).
			const rows = results[label]!.stdout.split('\n').map(line => line.trim().split(/\s+/)).filter(cols => cols[3] === `7,${minor}`);
			t.deepEqual(rows.map(cols => cols[4]).sort(), [...sectors].sort(), `${label} saw every write: ${results[label]!.stdout}`);
			t.true(rows.every(cols => (cols[0] === 'dd' || cols[0]!.startsWith('kworker/')) && cols[5] === '8192' && cols[2]!.startsWith('W')), `${label} rows: ${JSON.stringify(rows)}`);
		}

		const issued = results['tpoint']!.stdout.split('\n').filter(line => line.includes('block_rq_issue:') && line.includes(`7,${minor} `));
		t.is(issued.length, 5, results['tpoint']!.stdout);
		for (const sector of sectors) {
			t.true(issued.some(line => line.includes(` ${sector} + 16 `)), `tpoint saw sector ${sector}`);
		}

		const opens = results['opensnoop']!.stdout.split('\n').filter(line => line.includes(`${marker}_missing_`));
		t.is(opens.length, 3, results['opensnoop']!.stdout);
		const execs = results['execsnoop']!.stdout.split('\n').filter(line => line.includes(execName) && !line.startsWith('Tracing'));
		t.is(execs.length, 3, results['execsnoop']!.stdout);
		t.true(execs.every((line, i) => line.includes(`arg${i}`)), 'execsnoop shows the arguments');
		const histogram = results['iolatency']!.stdout;
		const counts = [...histogram.matchAll(/^\s*\S+\s*->\s*\S+\s*:\s*(\d+)/gm)].map(match => Number(match[1]));
		t.true(counts.reduce((a, b) => a + b, 0) >= 5, histogram);
		for (const {label} of started) {
			t.is(results[label]!.code, 0, `${label}: ${results[label]!.stderr}`);
		}

		const after = tracingState();
		t.is(withoutOthers(after, undefined), withoutOthers(foreign, undefined), 'the foreign settings of the top instance are untouched');
		for (const {label} of started) {
			t.false(after.includes(`ftrace_ts_${results[label]!.pid}_`), `${label} left nothing behind`);
		}
	} finally {
		writeFileSync(`${T}/events/sched/sched_process_fork/enable`, '0');
		writeFileSync(`${T}/events/sched/sched_process_fork/filter`, '0');
		execFileSync('losetup', ['-d', device]);
		rmSync(dir, {recursive: true, force: true});
	}
});
