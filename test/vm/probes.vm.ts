// Probes and in-kernel summaries on a real, fully featured kernel (the vm
// lane: kprobes, kprobe_profile and hist triggers exist there, not on the
// development VMs). Runs inside the guest with node:test; see README.md.
import assert from 'node:assert/strict';
import {closeSync, openSync, readSync, writeFileSync} from 'node:fs';
import test from 'node:test';
import {
	HistTrigger,
	Instance,
	ProbeDefinitionError,
	ProbeGroup,
	Tracefs,
	UndoJournal,
	listProbeEvents,
	ownedName,
	readProbeHits,
} from '@ftrace-ts/tracefs';

const reads = 200;

/** `count` read(2) calls through vfs_read, from this process (comm "node"). */
function readFileTimes(path: string, count: number): void {
	const fd = openSync(path, 'r');
	try {
		const buffer = Buffer.alloc(16);
		for (let i = 0; i < count; i++) {
			readSync(fd, buffer, 0, buffer.length, 0);
		}
	} finally {
		closeSync(fd);
	}
}

async function ownLines(tracefs: Tracefs): Promise<string[]> {
	const text = `${await tracefs.readIfExists('kprobe_events') ?? ''}${await tracefs.readIfExists('uprobe_events') ?? ''}`;
	return text.split('\n').filter(line => line.includes(ownedName()));
}

test('kprobe_profile and a hist trigger keyed by comm count a known number of reads', async () => {
	const tracefs = await Tracefs.find();
	const journal = new UndoJournal();
	try {
		const group = ProbeGroup.open(tracefs, {journal});
		const probe = await group.add('p:ftts_vfs_read vfs_read', 'kprobe');
		const instance = await Instance.create(tracefs, ownedName('vm_count'), {journal});
		journal.record('destroy instance', async () => {
			await instance.destroy();
		});
		const hist = await HistTrigger.create(instance, probe, {keys: ['common_pid.execname'], sort: [{field: 'hitcount', descending: true}]});
		// kprobes count only while enabled somewhere.
		await instance.enableEvent(probe);
		const file = `/tmp/ftrace-ts-vm-${process.pid}`;
		writeFileSync(file, 'some bytes to read\n');
		const before = (await readProbeHits(tracefs, 'kprobe', [probe.event])).get(probe.event)!;
		readFileTimes(file, reads);
		const after = (await readProbeHits(tracefs, 'kprobe', [probe.event])).get(probe.event)!;
		assert.ok(after - before >= reads, `kprobe_profile: ${after - before} hits for ${reads} reads`);

		const histogram = await hist.read();
		const mine = histogram.records.find(record => record.key['common_pid']?.number === process.pid);
		assert.ok(mine, `a record for pid ${process.pid} in ${JSON.stringify(histogram.records.slice(0, 5))}`);
		assert.equal(mine.key['common_pid']?.comm, 'node');
		assert.ok(mine.hitcount >= reads, `hist: ${mine.hitcount} hits for ${reads} reads`);
		assert.ok(histogram.totals.hits >= mine.hitcount);
		assert.ok(histogram.totals.entries >= 1);

		await hist.pause();
		assert.equal((await hist.read()).paused, true);
		await hist.continue();
		await hist.clear();
		assert.ok(!(await hist.read()).records.some(record => record.hitcount >= reads), 'clear emptied the table');
	} finally {
		const report = await journal.restore();
		assert.deepEqual(report.failures.map(failure => failure.description), []);
	}

	assert.deepEqual(await ownLines(tracefs), [], 'the group is gone');
});

test('do_sys_openat2 with ustring and string fetch args shows the real filename; kretprobe $retval', async () => {
	const tracefs = await Tracefs.find();
	const journal = new UndoJournal();
	const marker = `/tmp/ftrace-ts-vm-open-${process.pid}`;
	writeFileSync(marker, '');
	try {
		const group = ProbeGroup.open(tracefs, {journal});
		const entry = await group.add('p:ftts_open do_sys_openat2 dfd=%di:s32 file=+0(%si):ustring kfile=+0(%si):string', 'kprobe');
		const exit = await group.add('r:ftts_open_ret do_sys_openat2 fd=$retval:s32', 'kprobe');
		const instance = await Instance.create(tracefs, ownedName('vm_open'), {journal});
		journal.record('destroy instance', async () => {
			await instance.destroy();
		});
		const format = await instance.eventFormat(entry);
		assert.ok(format.byName.has('file'));
		await instance.enableEvent(entry);
		await instance.enableEvent(exit);
		await instance.setEventFilter(entry, `common_pid == ${process.pid}`);
		await instance.setEventFilter(exit, `common_pid == ${process.pid}`);
		closeSync(openSync(marker, 'r'));
		const trace = await instance.read('trace');
		const line = trace.split('\n').find(candidate => candidate.includes(` ftts_open: `) && candidate.includes(marker));
		assert.ok(line, `an open of ${marker} in:\n${trace.slice(-2000)}`);
		assert.match(line, new RegExp(`file="${marker}"`));
		console.log(`# string on a user pointer: ${/kfile=("[^"]*"|\S+)/.exec(line)?.[1] ?? '?'}`);
		assert.match(trace, / ftts_open_ret: .* fd=\d+/);
	} finally {
		const report = await journal.restore();
		assert.deepEqual(report.failures.map(failure => failure.description), []);
	}

	assert.deepEqual(await ownLines(tracefs), []);
});

test('a bad definition returns the kernel\'s error_log message with the caret on the user\'s text', async () => {
	const tracefs = await Tracefs.find();
	const group = ProbeGroup.open(tracefs);
	try {
		const text = 'p:no_such_function_xyz   x=%di';
		const error = await group.add(text, 'kprobe').then(() => undefined, (error_: unknown) => error_);
		assert.ok(error instanceof ProbeDefinitionError, String(error));
		assert.match(error.kernel?.message ?? '', /Invalid probed address or symbol/);
		assert.equal(error.kernel?.command, text);
		assert.equal(error.kernel?.caret, 2, 'the caret lands on the function name the user wrote');
		assert.match(error.kernelCommand ?? '', /^p:ftrace_ts_\d+\/no_such_function_xyz no_such_function_xyz x=%di$/);
		console.log(error.display().split('\n').map(line => `# ${line}`).join('\n'));

		// Past the kernel's stack depth: our parser lets it through, the kernel refuses it.
		const typed = 'p:vfs_read   c=$stack9999';
		const typeError = await group.add(typed, 'kprobe').then(() => undefined, (error_: unknown) => error_);
		assert.ok(typeError instanceof ProbeDefinitionError, String(typeError));
		assert.match(typeError.kernel?.message ?? '', /stack/i);
		assert.equal(typeError.kernel?.caret, typed.indexOf('$stack'));
	} finally {
		assert.deepEqual(await group.destroy(), []);
	}

	assert.deepEqual(await ownLines(tracefs), []);
	assert.equal((await listProbeEvents(tracefs)).filter(probe => probe.system === ownedName()).length, 0);
});
