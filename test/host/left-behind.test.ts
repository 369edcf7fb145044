/**
 * When something outside the tool keeps it from undoing a change (here a
 * reader holding a file of its instance open, so the kernel refuses to
 * remove the instance), the tool says what it could not undo, on one line,
 * and exits 1; reset-ftrace then removes what is left.
 */
import {closeSync, openSync} from 'node:fs';
import {setTimeout as sleep} from 'node:timers/promises';
import test from 'ava';
import {runTool, startTool, toolBin, tracingState} from '../lib/harness.js';

const T = '/sys/kernel/tracing';

for (const tool of ['execsnoop', 'tpoint'] as const) {
	test.serial(`${tool} that cannot remove its instance says so and exits 1; reset-ftrace removes it`, async t => {
		const before = tracingState();
		const run = startTool(toolBin(tool), tool === 'tpoint' ? ['sched:sched_process_exec'] : []);
		await Promise.race([run.started, sleep(20_000)]);
		const instance = `ftrace_ts_${run.child.pid!}_${tool}`;
		// Holding the instance's trace file open keeps the kernel from removing the instance.
		const held = openSync(`${T}/instances/${instance}/trace`, 'r');
		let result;
		try {
			run.child.kill('SIGINT');
			result = await run.done;
		} finally {
			closeSync(held);
		}

		t.is(result.code, 1, result.stderr);
		const complaints = result.stderr.split('\n').filter(line => line.includes('could not undo'));
		t.is(complaints.length, 1, result.stderr);
		t.regex(complaints[0]!, new RegExp(`^${tool}: could not undo instance ${instance}: .*EBUSY.*reset-ftrace removes what is left\\)$`));
		t.true(tracingState().includes(instance), 'the instance is still there');
		// Once the file is let go (the kernel drops its reference a moment later).
		let reset;
		for (let attempt = 0; attempt < 20; attempt++) {
			// eslint-disable-next-line no-await-in-loop
			reset = await runTool(toolBin('reset-ftrace'), []);
			if (!tracingState().includes(instance)) {
				break;
			}

			// eslint-disable-next-line no-await-in-loop
			await sleep(100);
		}

		t.is(reset!.code, 0, reset!.stderr);
		t.is(tracingState(), before);
	});
}
