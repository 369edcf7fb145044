import {spawn} from 'node:child_process';
import {once} from 'node:events';
import test from 'ava';
import {
	Instance,
	ProbeDefinitionError,
	ProbeGroup,
	TracefsError,
	UndoJournal,
	listProbeEvents,
	ownedName,
	ownerPidOf,
	readProbeHits,
	reclaimStaleGroups,
	type Tracefs,
} from '../src/index.js';
import {liveTracefs, testInstanceName, tracefsState} from './helpers.js';
import {compileCounted, ownState} from './probe-helpers.js';

/** Run the counted binary: it waits for a line on stdin, then makes `n` calls. */
async function runCounted(binary: string, n: number, beforeGo: (pid: number) => Promise<void> = async () => undefined): Promise<string> {
	const child = spawn(binary, [String(n), 'wait'], {stdio: ['pipe', 'pipe', 'inherit']});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	await beforeGo(child.pid!);
	child.stdin.end('go\n');
	const [code] = await once(child, 'exit') as [number];
	if (code !== 0) {
		throw new Error(`${binary} exited ${code}`);
	}

	return output;
}

function countEvents(trace: string, event: string): number {
	return trace.split('\n').filter(line => line.includes(` ${event}: (`)).length;
}

async function uprobeLines(tracefs: Tracefs): Promise<string[]> {
	return ((await tracefs.readIfExists('uprobe_events')) ?? '').split('\n').filter(Boolean);
}

test.serial('ownership names: ownerPidOf reads the PID back, foreign names are not ours', t => {
	t.is(ownedName(), `ftrace_ts_${process.pid}`);
	t.is(ownedName('funccount'), `ftrace_ts_${process.pid}_funccount`);
	t.is(ownerPidOf(ownedName('x')), process.pid);
	t.is(ownerPidOf('ftrace_ts_42'), 42);
	t.is(ownerPidOf('ftrace_ts_42_opensnoop'), 42);
	t.is(ownerPidOf('ftrace_ts_'), undefined);
	t.is(ownerPidOf('ftrace_ts_x1'), undefined);
	t.is(ownerPidOf('uprobes'), undefined);
	t.is(ownerPidOf('myftrace_ts_42'), undefined);
	t.throws(() => ownedName('bad name'), {instanceOf: TracefsError});
});

test.serial('uprobe and uretprobe on a compiled function: trace, uprobe_profile and $retval agree', async t => {
	const tracefs = await liveTracefs();
	const binary = compileCounted(false);
	t.deepEqual(ownState(tracefsState()), []);
	const journal = new UndoJournal();
	const group = ProbeGroup.open(tracefs, {journal});
	const instance = await Instance.create(tracefs, testInstanceName('uprobe'), {journal});
	journal.record('destroy test instance', async () => {
		await instance.destroy();
	});
	try {
		const entry = await group.add(`p:${binary}:ftts_target i=%di:s32`, 'uprobe');
		const exit = await group.add(`r:${binary}:ftts_target ret=$retval:s32`, 'uprobe');
		t.is(entry.system, ownedName());
		t.is(entry.event, 'ftts_target');
		t.is(exit.event, 'ftts_target_ret');
		t.regex(entry.command, new RegExp(`^p:${ownedName()}/ftts_target ${binary}:0x[\\da-f]+ i=%di:s32$`));
		t.true((await uprobeLines(tracefs)).some(line => line.startsWith(`p:${ownedName()}/ftts_target `)));

		// The probe's event is a normal event: format and filter work per instance.
		const format = await instance.eventFormat(entry);
		t.true(format.byName.has('i'));
		await instance.enableEvent(entry);
		await instance.enableEvent(exit);
		await instance.setEventFilter(exit, 'ret >= 7');

		const calls = 7;
		await runCounted(binary, calls);
		const trace = await instance.read('trace');
		t.is(countEvents(trace, 'ftts_target'), calls, 'one entry event per call');
		// ret = 2i+1 for i=0..6: 1 3 5 7 9 11 13; the filter keeps 7, 9, 11, 13.
		t.is(countEvents(trace, 'ftts_target_ret'), 4, 'the filter applies to the uretprobe event');
		t.regex(trace, /ftts_target_ret: \(.*\) ret=13/);
		const hits = await readProbeHits(tracefs, 'uprobe', ['ftts_target', 'ftts_target_ret']);
		t.is(hits.get('ftts_target'), calls);
		t.is(hits.get('ftts_target_ret'), calls, 'uprobe_profile counts before the filter');
	} finally {
		const report = await journal.restore();
		t.deepEqual(report.failures, []);
	}

	t.false((await uprobeLines(tracefs)).some(line => line.includes(ownedName())), 'the group is gone');
	t.deepEqual(ownState(tracefsState()), [], 'nothing of ours left behind');
});

test.serial('libc:malloc with a fetch arg, filtered to one PID', async t => {
	const tracefs = await liveTracefs();
	const binary = compileCounted(true);
	t.deepEqual(ownState(tracefsState()), []);
	const journal = new UndoJournal();
	const group = ProbeGroup.open(tracefs, {journal});
	const instance = await Instance.create(tracefs, testInstanceName('malloc'), {journal});
	journal.record('destroy test instance', async () => {
		await instance.destroy();
	});
	try {
		const malloc = await group.add('p:libc:malloc size=%di:u64', 'uprobe');
		t.regex(malloc.command, /\/libc\.so\.6:0x[\da-f]+ size=%di:u64$/);
		await instance.enableEvent(malloc);
		const calls = 5;
		await runCounted(binary, calls, async pid => {
			await instance.setEventFilter(malloc, `common_pid == ${pid}`);
		});
		const trace = await instance.read('trace');
		const ours = trace.split('\n').filter(line => / malloc: \(.*\) size=12345$/.test(line));
		t.is(ours.length, calls, 'each malloc(12345) of the workload');
	} finally {
		await journal.restore();
	}

	t.deepEqual(ownState(tracefsState()), []);
});

test.serial('removal goes on while other tracers\' instances vanish', async t => {
	const tracefs = await liveTracefs();
	t.deepEqual(ownState(tracefsState()), []);
	{
		await using group = ProbeGroup.open(tracefs);
		// The removal disables the event in every instance: one removed meanwhile answers ENODEV or is gone.
		for (let delay = 0; delay < 20; delay++) {
			// eslint-disable-next-line no-await-in-loop
			const probe = await group.add('p:bash:readline', 'uprobe');
			// eslint-disable-next-line no-await-in-loop
			const vanishing = await Promise.all([0, 1, 2].map(async i => Instance.create(tracefs, testInstanceName(`gone${i}`))));
			const removal = group.remove(probe);
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => setTimeout(resolve, delay % 4));
			// eslint-disable-next-line no-await-in-loop
			await Promise.all(vanishing.map(async instance => instance.destroy()));
			// eslint-disable-next-line no-await-in-loop
			t.true(await removal, `removed (instances destroyed after ${delay % 4} ms)`);
			// eslint-disable-next-line no-await-in-loop
			t.false(await Instance.top(tracefs).eventExists(probe));
		}
	}

	t.deepEqual(ownState(tracefsState()), []);
});

test.serial('bash:readline resolves through PATH and the probe is created and removed', async t => {
	const tracefs = await liveTracefs();
	t.deepEqual(ownState(tracefsState()), []);
	{
		await using group = ProbeGroup.open(tracefs);
		const probe = await group.add('p:bash:readline', 'uprobe');
		t.regex(probe.command, /^p:ftrace_ts_\d+\/readline \/\S*bash:0x[\da-f]+$/);
		t.true(await Instance.top(tracefs).eventExists(probe));
		// Enabled in two instances: removal disables it in both first.
		const a = await Instance.create(tracefs, testInstanceName('rl_a'));
		await a.enableEvent(probe);
		await Instance.top(tracefs).enableEvent(probe);
		t.deepEqual(await group.destroy(), []);
		t.false(await Instance.top(tracefs).eventExists(probe));
		await a.destroy();
	}

	t.deepEqual(ownState(tracefsState()), []);
});

test.serial('kernel refusals come back with error_log and a caret on the user\'s text', async t => {
	const tracefs = await liveTracefs();
	await using group = ProbeGroup.open(tracefs);
	// Our validation passes it; the kernel refuses: $comm takes only string types.
	const text = 'p:/bin/true:0x10    c=$comm:u32';
	const error = await t.throwsAsync(group.add(text, 'uprobe'), {instanceOf: ProbeDefinitionError});
	t.log(error?.message);
	t.is(error?.definition, text);
	t.regex(error?.written ?? '', /^p:ftrace_ts_\d+\/p_true_0x10 \/bin\/true:0x10 c=\$comm:u32$/);
	t.regex(error?.kernel?.message ?? '', /\$comm/);
	t.is(error?.kernel?.command, text);
	t.is(error?.kernel?.caret, text.indexOf('u32'), 'the caret lands on the type in the user\'s own text');
	t.is(error?.usage, true);
	t.log(error?.display());

	await t.throwsAsync(group.add('p:libc:no_such_function_xyz', 'uprobe'), {message: /not found/});
	await t.throwsAsync(group.add('p:other_group/x /bin/true:0x10', 'uprobe'), {message: /probes go in this process's group/});
	t.deepEqual(await group.destroy(), []);
});

test.serial('reclaimStaleGroups removes dead owners\' groups and instances, nothing else', async t => {
	const tracefs = await liveTracefs();
	const binary = compileCounted(false);
	t.deepEqual(ownState(tracefsState()), []);
	// A PID that is certainly dead: a child we ran and reaped.
	const child = spawn('true');
	await once(child, 'exit');
	const dead = child.pid!;
	const staleGroup = `ftrace_ts_${dead}`;
	const staleInstance = `ftrace_ts_${dead}_tool`;
	await tracefs.write('uprobe_events', `p:${staleGroup}/left_over ${binary}:0x1000`, {append: true});
	await tracefs.mkdir(`instances/${staleInstance}`);
	await tracefs.write(`instances/${staleInstance}/events/${staleGroup}/left_over/enable`, '1');
	await using mine = ProbeGroup.open(tracefs);
	const live = await mine.add(`p:${binary}:ftts_target`, 'uprobe');
	const report = await reclaimStaleGroups(tracefs);
	t.true(report.instances.includes(staleInstance));
	t.true(report.probes.includes(`${staleGroup}/left_over`));
	t.false(report.probes.some(name => name.startsWith(`${ownedName()}/`)), 'our own group is not stale');
	t.deepEqual(report.failures, []);
	const remaining = await listProbeEvents(tracefs);
	t.true(remaining.some(probe => probe.system === live.system && probe.event === live.event), 'a live owner\'s probe stays');
	t.false(remaining.some(probe => probe.system === staleGroup));
	await mine.destroy();
	t.deepEqual(ownState(tracefsState()), []);
});
