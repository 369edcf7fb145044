import test from 'ava';
import {Instance, TracefsError, UndoJournal, parseEventFormat, probeCapabilities, type EventId} from '../src/index.js';
import {liveTracefs, testInstanceName, tracefsState} from './helpers.js';

const sched: EventId = {system: 'sched', event: 'sched_switch'};
const blockIssue: EventId = {system: 'block', event: 'block_rq_issue'};
const openat: EventId = {system: 'syscalls', event: 'sys_enter_openat'};

test.serial('instance lifecycle: create twice, destroy twice, top cannot be destroyed', async t => {
	const tracefs = await liveTracefs();
	const name = testInstanceName('life');
	const first = await Instance.create(tracefs, name);
	t.true(first.isNew);
	t.true(await tracefs.isDirectory(`instances/${name}`));
	const second = await Instance.create(tracefs, name);
	t.false(second.isNew, 'a second create opens the existing instance');
	await t.throwsAsync(Instance.create(tracefs, name, {exclusive: true}), {instanceOf: TracefsError, message: /EEXIST/});
	const opened = await Instance.open(tracefs, name);
	t.is(opened.name, name);
	t.true(await first.destroy());
	t.false(await first.destroy(), 'destroying twice is harmless');
	t.false(await tracefs.isDirectory(`instances/${name}`));
	await t.throwsAsync(Instance.open(tracefs, name), {message: /does not exist/});
	const top = Instance.top(tracefs);
	t.true(top.isTop);
	await t.throwsAsync(top.destroy(), {message: /top instance cannot be destroyed/});
	t.true(await tracefs.exists('trace'));
});

test.serial('await using destroys only what it created', async t => {
	const tracefs = await liveTracefs();
	const name = testInstanceName('using');
	{
		await using created = await Instance.create(tracefs, name);
		{
			await using reopened = await Instance.create(tracefs, name);
			t.false(reopened.isNew);
		}

		t.true(await tracefs.isDirectory(`instances/${name}`), 'the non-new handle left it alone');
		t.true(created.isNew);
	}

	t.false(await tracefs.isDirectory(`instances/${name}`));
});

test.serial('tracers, tracing_on, buffer size, clock and options in a private instance', async t => {
	const tracefs = await liveTracefs();
	await using instance = await Instance.create(tracefs, testInstanceName('tracer'), {journal: new UndoJournal()});
	t.true((await instance.availableTracers()).includes('nop'));
	t.is(await instance.currentTracer(), 'nop');
	await t.throwsAsync(instance.setTracer('no_such_tracer'), {message: /not available/});
	await instance.setTracingOn(false);
	t.false(await instance.isTracingOn());
	await instance.setTracingOn(true);
	t.true(await instance.isTracingOn());
	await instance.setBufferSizeKb(64);
	t.true(await instance.bufferSizeKb() >= 64, 'the kernel rounds up to whole pages');
	await t.throwsAsync(instance.setBufferSizeKb(-1), {message: /integer/});
	const clock = await instance.traceClock();
	t.true(clock.available.includes('mono'));
	await instance.setTraceClock('mono');
	t.is((await instance.traceClock()).current, 'mono');
	const options = await instance.options();
	t.is(typeof options['record-cmd'], 'boolean');
	const before = await instance.option('record-tgid');
	await instance.setOption('record-tgid', !before);
	t.is(await instance.option('record-tgid'), !before);
	await t.throwsAsync(instance.option('no-such-option'), {message: /does not exist/});
	await instance.journal!.restore();
	t.is((await instance.traceClock()).current, clock.current);
	t.is(await instance.option('record-tgid'), before);
});

for (const where of ['private', 'top'] as const) {
	test.serial(`enable, disable, filter, trigger on block, sched and syscalls events (${where} instance)`, async t => {
		const tracefs = await liveTracefs();
		const journal = new UndoJournal();
		await using instance = where === 'top'
			? Instance.top(tracefs, {journal})
			: await Instance.create(tracefs, testInstanceName('events'), {journal});
		if (where === 'top') {
			// The kernel expands the top buffer on its first use, once and for
			// good; let that happen before the state is taken.
			await instance.enableEvent(openat);
			await instance.disableEvent(openat);
		}

		const stateBefore = tracefsState();
		for (const id of [sched, blockIssue, openat]) {
			t.false(await instance.isEventEnabled(id), `${id.event} starts disabled`);
			await instance.enableEvent(id);
			t.true(await instance.isEventEnabled(id));
		}

		await instance.setEventFilter(sched, 'prev_pid != 0 && next_comm != "swapper/0"');
		t.is(await instance.eventFilter(sched), 'prev_pid != 0 && next_comm != "swapper/0"');
		await instance.setEventFilter(blockIssue, 'nr_sector > 8');
		await instance.setEventFilter(openat, 'dfd == 100');
		const trigger = await instance.addTrigger(sched, 'stacktrace:5');
		t.true((await instance.eventTriggers(sched)).some(line => /^stacktrace:(count=)?\d+/.test(line)));
		await instance.addTrigger(blockIssue, 'traceoff');
		await instance.addTrigger(openat, `enable_event:sched:sched_process_exec`);
		t.true((await instance.eventTriggers(openat)).some(line => line.startsWith('enable_event:sched:sched_process_exec')));
		await instance.removeTrigger(sched, trigger);
		t.false((await instance.eventTriggers(sched)).some(line => line.startsWith('stacktrace')));
		await instance.clearEventFilter(openat);
		t.is(await instance.eventFilter(openat), undefined);
		await instance.disableEvent(openat);
		t.false(await instance.isEventEnabled(openat));
		await instance.setSystemEnabled('block', true);
		t.true(await instance.isEventEnabled({system: 'block', event: 'block_rq_complete'}));
		await instance.setEventPids([process.pid]);
		t.deepEqual(await instance.eventPids(), [process.pid]);
		t.not(tracefsState(), stateBefore);
		const report = await journal.restore();
		t.deepEqual(report.failures, []);
		t.is(tracefsState(), stateBefore, 'the journal put everything back');
	});
}

test.serial('a bad filter comes back with the kernel error_log message', async t => {
	const tracefs = await liveTracefs();
	await using instance = await Instance.create(tracefs, testInstanceName('badfilter'), {journal: new UndoJournal()});
	const error = await t.throwsAsync(instance.setEventFilter(sched, 'bogus_field == 1'), {instanceOf: TracefsError});
	t.is(error.code, 'EINVAL');
	t.true(error.usage);
	t.is(error.kernel?.message, 'Field not found');
	t.is(error.kernel?.command, 'bogus_field == 1');
	t.is(typeof error.kernel?.caret, 'number');
	t.regex(error.oneLine(), /Field not found/);
	t.notRegex(error.oneLine(), /\n/);
	t.is(await instance.eventFilter(sched), undefined, 'nothing was half-set');
	await t.throwsAsync(instance.setEventFilter(sched, 'prev_pid == 1\n'), {message: /newline/});
	await t.throwsAsync(instance.setEventFilter(sched, 'prev_pid == 1\nnext_pid == 2'), {message: /newline/});
	await t.throwsAsync(instance.enableEvent({system: 'sched', event: 'no_such_event'}), {message: /no tracepoint sched:no_such_event/});
	await t.throwsAsync(instance.enableEvent({system: 'nosys', event: 'x'}), {message: /no tracepoint subsystem "nosys"/});
	await t.throwsAsync(instance.addTrigger(sched, 'traceon\nstacktrace'), {message: /newline/});
});

test.serial('the format of every event the kernel lists parses', async t => {
	const tracefs = await liveTracefs();
	const top = Instance.top(tracefs);
	const events = await top.allEvents();
	t.true(events.length > 500, `kernel lists ${events.length} events`);
	let parsed = 0;
	const failures: string[] = [];
	await Promise.all(events.map(async ({system, event}) => {
		try {
			const format = parseEventFormat(await tracefs.read(`events/${system}/${event}/format`), system);
			if (format.name !== event || format.fields.length < 1 || format.fields.some(field => field.size < 0 || field.name === '')) {
				failures.push(`${system}:${event}`);
			}

			parsed++;
		} catch (error) {
			failures.push(`${system}:${event}: ${String(error)}`);
		}
	}));
	t.deepEqual(failures, []);
	t.is(parsed, events.length);
});

test.serial('function filters and search report this kernel honestly', async t => {
	const tracefs = await liveTracefs();
	const caps = await probeCapabilities(tracefs);
	const top = Instance.top(tracefs);
	if (caps.filterFunctions) {
		t.true((await top.searchFunctions('vfs_*')).includes('vfs_read'));
	} else {
		// Here available_filter_functions is refused (EPERM): the error must say so, not crash.
		const error = await t.throwsAsync(top.searchFunctions('vfs_*'), {instanceOf: TracefsError});
		t.is(error.code, 'EPERM');
	}

	await t.throwsAsync(top.setFunctionFilter('set_ftrace_filter', ['bad glob!']), {message: /invalid character/});
});

test.serial('capabilities describe this kernel without changing it', async t => {
	const tracefs = await liveTracefs();
	const before = tracefsState();
	const caps = await probeCapabilities(tracefs);
	t.is(tracefsState(), before);
	t.true(caps.instances);
	t.true(caps.traceRaw);
	t.true(caps.syscallTracepoints);
	t.true(caps.eventSystems.includes('block'));
	t.true(caps.tracers.includes('nop'));
	t.is(caps.kprobeEvents, await tracefs.exists('kprobe_events'));
	t.is(caps.uprobeEvents, await tracefs.exists('uprobe_events'));
	t.is(caps.functionProfiler, await tracefs.exists('function_profile_enabled'));
});
