import {execFileSync, spawnSync} from 'node:child_process';
import {rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import test, {type ExecutionContext} from 'ava';
import {
	Instance, Tracefs, readInstanceTrace, readTraceRaw, recordCapture, readAllCpuStats, instanceCpus, devMinor,
	type TraceEvent, type TraceRecord, type RawRecord,
} from '../src/index.js';

const sectorsPerWrite = 16;
const writes = 16;

/** A private instance and a loop device, both removed at the end of the test whatever happens. */
async function setup(t: ExecutionContext, tag: string): Promise<{instance: Instance; device: string; dev: number}> {
	const tracefs = await Tracefs.find();
	const instance = await Instance.create(tracefs, `ftrace-ts-test-${tag}-${process.pid}`);
	const image = `${tmpdir()}/ftrace-ts-test-${tag}-${process.pid}.img`;
	let device: string | undefined;
	t.teardown(async () => {
		if (device) {
			execFileSync('losetup', ['-d', device]);
		}

		rmSync(image, {force: true});
		await instance.destroy();
	});
	execFileSync('truncate', ['-s', '16M', image]);
	device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	const minor = Number(/(\d+)$/.exec(device)![1]);
	const dev = (7 << 20) | minor;
	await instance.setBufferSizeKb(4096);
	for (const event of ['block_rq_issue', 'block_rq_complete', 'block_rq_insert']) {
		// Filter first: other engineers' dd runs on other loop devices must not get in.
		await instance.setEventFilter({system: 'block', event}, `dev == ${dev}`);
		await instance.enableEvent({system: 'block', event});
	}

	return {instance, device, dev};
}

function dd(device: string, seek: number, count: number): void {
	execFileSync('dd', ['if=/dev/zero', `of=${device}`, 'bs=8192', `count=${count}`, `seek=${seek}`, 'oflag=direct'], {stdio: 'ignore'});
}

const childScript = `
const fs = require('node:fs');
const path = '/nonexistent-ftrace-ts-' + process.pid;
for (let i = 0; i < 5; i++) { try { fs.openSync(path); } catch {} }
fs.writeSync(fs.openSync('/dev/null', 'w'), Buffer.alloc(12345));
`;

function checkBlock(t: ExecutionContext, events: TraceEvent[], dev: number, seek: number, count: number, label: string): void {
	const issues = events.filter(e => e.event === 'block_rq_issue' && e.comm === 'dd');
	const expected = Array.from({length: count}, (_, i) => (seek * 16) + (i * sectorsPerWrite));
	t.deepEqual(issues.map(e => e.fields['sector']), expected, `${label}: issue sectors`);
	for (const issue of issues) {
		t.like(issue.fields, {dev, nr_sector: sectorsPerWrite, bytes: 8192, comm: 'dd'}, label);
		t.regex(issue.fields['rwbs'] as string, /^W/, label);
		t.is(devMinor(issue.fields['dev']), dev & 0xF_FFFF);
	}

	const completes = events.filter(e => e.event === 'block_rq_complete' && expected.includes(e.fields['sector'] as number));
	t.is(completes.length, count, `${label}: completions`);
	t.true(completes.every(e => e.fields['error'] === 0 && e.fields['nr_sector'] === sectorsPerWrite));
}

const isEvent = (r: TraceRecord): r is TraceEvent => r.kind === 'event';

test.serial('live: text (trace) and binary (trace_pipe_raw) readers decode dd, exec, fork, exit and syscalls alike', async t => {
	const {instance, device, dev} = await setup(t, 'readers');
	for (const event of ['sched_process_exec', 'sched_process_fork', 'sched_process_exit']) {
		await instance.enableEvent({system: 'sched', event});
	}

	for (const event of ['sys_enter_openat', 'sys_exit_openat', 'sys_enter_write']) {
		await instance.enableEvent({system: 'syscalls', event});
	}

	const child = spawnSync(process.execPath, ['-e', childScript]);
	const childPid = child.pid!;
	dd(device, 100, writes);
	await instance.setTracingOn(false);

	const text: TraceRecord[] = [];
	for await (const record of readInstanceTrace(instance)) {
		text.push(record);
	}

	const raw: RawRecord[] = [];
	for await (const record of readTraceRaw(instance, {untilEmpty: true})) {
		raw.push(record);
	}

	t.false(text.some(r => r.kind === 'lost'), 'no loss in a 4 MB buffer');
	const textEvents = text.filter(isEvent);
	const rawEvents = raw.filter(isEvent);
	for (const [label, events] of [['text', textEvents], ['binary', rawEvents]] as const) {
		checkBlock(t, events, dev, 100, writes, label);
		const mine = events.filter(e => e.pid === childPid);
		t.true(mine.filter(e => e.event === 'sys_exit_openat' && e.fields['ret'] === -2).length >= 5, `${label}: 5 failed opens`);
		t.truthy(mine.find(e => e.event === 'sys_enter_write' && e.fields['count'] === 12_345), `${label}: write of 12345`);
		t.truthy(mine.find(e => e.event === 'sched_process_exec' && e.fields['filename'] === process.execPath && e.fields['pid'] === childPid), `${label}: exec`);
		t.truthy(events.find(e => e.event === 'sched_process_fork' && e.fields['child_pid'] === childPid), `${label}: fork`);
		t.truthy(events.find(e => e.event === 'sched_process_exit' && e.fields['pid'] === childPid), `${label}: exit`);
		t.true(events.every(e => e.decoded), `${label}: every event decoded`);
	}

	// The same events, field by field.
	let compared = 0;
	const paired = new Set<TraceEvent>();
	for (const event of textEvents.filter(e => e.pid === childPid || e.comm === 'dd')) {
		// Events within the same µs pair up in order.
		const twin = rawEvents.find(r => !paired.has(r) && r.cpu === event.cpu && r.event === event.event && r.pid === event.pid && (r.timestampNs + 500n) / 1000n === event.timestampNs / 1000n); // the kernel prints µs rounded
		t.truthy(twin, `binary twin of ${event.event} at ${event.timestamp} cpu ${event.cpu} pid ${event.pid}: ${rawEvents.filter(r => r.event === event.event && r.pid === event.pid).map(r => `${r.cpu}@${r.timestampNs}`).join(' ')}`);
		if (twin) {
			paired.add(twin);
		}

		for (const [name, value] of Object.entries(event.fields)) {
			t.deepEqual(twin?.fields[name], value, `${event.event}.${name}`);
		}

		compared++;
	}

	t.true(compared > writes * 2);
});

test.serial('live: trace_pipe and trace_pipe_raw stream while activity happens and stop on abort', async t => {
	const {instance, device, dev} = await setup(t, 'stream');
	for (const [label, read] of [
		['trace_pipe', (signal: AbortSignal) => readInstanceTrace(instance, {file: 'trace_pipe', signal, pollIntervalMs: 20})],
		['trace_pipe_raw', (signal: AbortSignal) => readTraceRaw(instance, {signal, pollIntervalMs: 20})],
	] as const) {
		const controller = new AbortController();
		const seen: TraceEvent[] = [];
		const reading = (async () => {
			for await (const record of read(controller.signal)) {
				if (record.kind === 'event') {
					seen.push(record);
					if (seen.filter(e => e.event === 'block_rq_complete').length >= 4) {
						controller.abort();
					}
				}
			}
		})();
		const seek = label === 'trace_pipe' ? 300 : 400;
		setTimeout(() => {
			dd(device, seek, 4);
		}, 100);
		const timeout = setTimeout(() => {
			controller.abort();
		}, 10_000);
		// eslint-disable-next-line no-await-in-loop
		await reading;
		clearTimeout(timeout);
		checkBlock(t, seen, dev, seek, 4, label);

		// Abort with nothing to read ends the iterator promptly.
		const idle = new AbortController();
		const started = Date.now();
		setTimeout(() => {
			idle.abort();
		}, 50);
		// eslint-disable-next-line no-await-in-loop
		for await (const _ of read(idle.signal)) {
			// Nothing expected.
		}

		t.true(Date.now() - started < 2000, `${label}: abort is prompt`);
	}
});

test.serial('live: a capture recorded from an instance replays with the same decoded events', async t => {
	const {instance, device, dev} = await setup(t, 'capture');
	const path = `${tmpdir()}/ftrace-ts-test-capture-${process.pid}.ftcap`;
	t.teardown(() => {
		rmSync(path, {force: true});
	});
	dd(device, 500, 8);
	const summary = await recordCapture(instance, path, {untilEmpty: true});
	t.true(summary.pages > 0);
	t.is(summary.statsLost, 0);
	const events: TraceEvent[] = [];
	const progress: Array<[number, number]> = [];
	for await (const record of readTraceRaw(path, {progress: (done, total) => progress.push([done, total])})) {
		if (record.kind === 'event') {
			events.push(record);
		}
	}

	checkBlock(t, events, dev, 500, 8, 'capture');
	// Progress in page bytes: rising, up to every page read.
	t.true(progress.length > 0);
	t.true(progress.every(([done, total], i) => done <= total && (i === 0 || done >= progress[i - 1]![0])));
	t.is(progress.at(-1)![0], progress.at(-1)![1]);
});

test.serial('live: per-CPU stats are read for every CPU', async t => {
	const tracefs = await Tracefs.find();
	const instance = await Instance.create(tracefs, `ftrace-ts-test-stats-${process.pid}`);
	t.teardown(async () => instance.destroy());
	const cpus = await instanceCpus(instance);
	const stats = await readAllCpuStats(instance);
	t.deepEqual(stats.map(s => s.cpu), cpus);
	t.true(stats.every(s => s.overrun === 0 && s.dropped === 0 && s.entries === 0));
});

test.serial('live: trace_pipe reports the losses from before the reader started with statsFromZero, only the later ones without', async t => {
	const tracefs = await Tracefs.find();
	const instance = await Instance.create(tracefs, `ftrace-ts-test-early-loss-${process.pid}`);
	t.teardown(async () => instance.destroy());
	// The smallest buffer, flooded before any reader opens trace_pipe.
	await instance.setBufferSizeKb(4);
	const event = {system: 'syscalls', event: 'sys_enter_getppid'};
	await instance.enableEvent(event);
	// Each perl getppid() is one event: far more than 4 KB per CPU holds.
	const perl = spawnSync('perl', ['-e', 'getppid() for 1..20000'], {encoding: 'utf8'});
	t.is(perl.status, 0, perl.stderr);
	await instance.disableEvent(event);
	const overrun = (await readAllCpuStats(instance)).reduce((sum, stats) => sum + stats.overrun, 0);
	t.true(overrun > 1000, `${overrun} events overwritten before reading`);
	const lostIn = async (statsFromZero: boolean): Promise<number> => {
		let lost = 0;
		for await (const record of readInstanceTrace(instance, {file: 'trace_pipe', untilEmpty: true, pollIntervalMs: 10, statsFromZero})) {
			if (record.kind === 'lost') {
				lost += record.count ?? 0;
			}
		}

		return lost;
	};

	// Nothing more is overwritten while reading (the event is off): from zero, every overwritten event; else none.
	t.is(await lostIn(true), overrun);
	t.is(await lostIn(false), 0);
});
