/**
 * The fault matrix: every tool x every exit path, with a full tracing-state
 * dump before and after. Zero difference is the only pass. Tools whose kernel
 * features this machine lacks are run here for their error path and in the
 * vm lane for the rest.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import {Activity, runIntoHead, runTool, startTool, stateDiff, toolBin, tracingState, withoutOthers, type RunResult} from '../lib/harness.js';

interface ToolCase {
	readonly tool: string;
	/** Arguments for a live (until signalled) run. */
	readonly live: readonly string[];
	/** Arguments for a run that ends by itself (duration). */
	readonly timed: readonly string[];
	/** Bad inputs: each must exit 2 with one line on stderr. */
	readonly bad: ReadonlyArray<readonly string[]>;
}

export const hostTools: readonly ToolCase[] = [
	{tool: 'iosnoop', live: [], timed: ['1'], bad: [['-d', 'sda'], ['-p', 'abc'], ['-i', 'W\nR']]},
	{tool: 'iolatency', live: [], timed: ['1', '1'], bad: [['0'], ['-d', '8,x'], ['1', 'many']]},
	{tool: 'tpoint', live: ['sched:sched_switch'], timed: ['-d', '1', 'sched:sched_switch'], bad: [['nosuch:event'], ['sched:sched_switch', 'bogus_field == 1'], ['-p', '-5', 'sched:sched_switch']]},
	{tool: 'opensnoop', live: [], timed: ['-d', '1'], bad: [['-p', '0x'], ['-d', '-1'], ['-L', 'abc']]},
	{tool: 'execsnoop', live: [], timed: ['-d', '1'], bad: [['-a', 'x'], ['-d', 'soon'], ['--bogus']]},
	{tool: 'uprobe', live: ['p:libc:malloc'], timed: ['-d', '1', 'p:libc:malloc'], bad: [['p:libc:no_such_function_here'], ['q:libc:malloc'], ['p:libc:malloc', 'size ==']]},
];

/** Tools that need kprobes, function or function_graph: here they must fail cleanly. */
export const vmOnlyTools: ReadonlyArray<{tool: string; args: readonly string[]}> = [
	{tool: 'funccount', args: ['-d', '1', 'vfs_*']},
	{tool: 'funcgraph', args: ['-d', '1', 'vfs_read']},
	{tool: 'kprobe', args: ['-d', '1', 'p:do_sys_openat2']},
	{tool: 'functrace', args: ['-d', '1', 'vfs_read']},
	{tool: 'funcslower', args: ['-d', '1', 'vfs_read', '1000']},
];

let activity: Activity;
test.before(async () => {
	activity = await Activity.start();
});
test.after.always(async () => {
	await activity?.stop();
});

function assertClean(t: ExecutionContext, before: string, result: RunResult & {pid?: number | undefined}, label: string) {
	const after = tracingState();
	t.deepEqual(stateDiff(withoutOthers(before, result.pid), withoutOthers(after, result.pid)), [], `${label}: tracing state changed; stderr: ${result.stderr}`);
	t.notRegex(result.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, `${label}: no stack trace`);
}

async function signalled(t: ExecutionContext, tool: ToolCase, signal: NodeJS.Signals) {
	const before = tracingState();
	const run = startTool(toolBin(tool.tool), tool.live);
	await Promise.race([run.started, sleep(15_000)]);
	await sleep(700);
	run.child.kill(signal);
	const result = await run.done;
	t.is(result.code, 0, `${tool.tool} exits 0 on ${signal}; stderr: ${result.stderr}`);
	assertClean(t, before, result, `${tool.tool} ${signal}`);
}

for (const tool of hostTools) {
	test.serial(`${tool.tool}: normal end (duration) leaves nothing behind`, async t => {
		const before = tracingState();
		const result = await runTool(toolBin(tool.tool), tool.timed);
		t.is(result.code, 0, result.stderr);
		assertClean(t, before, result, 'end');
	});

	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		test.serial(`${tool.tool}: ${signal} leaves nothing behind`, async t => {
			await signalled(t, tool, signal);
		});
	}

	test.serial(`${tool.tool}: a closed stdout pipe (| head -1) leaves nothing behind`, async t => {
		const before = tracingState();
		const result = await runIntoHead(toolBin(tool.tool), tool.live);
		t.true(result.pipeStatus === 0 || result.pipeStatus === 141, `exit ${result.pipeStatus}`);
		t.is(result.stdout.split('\n').filter(Boolean).length, 1);
		assertClean(t, before, result, 'pipe');
	});

	test.serial(`${tool.tool}: an internal error half-way through setup leaves nothing behind`, async t => {
		const before = tracingState();
		const result = await runTool(toolBin(tool.tool), tool.timed, {env: {FTRACE_TS_FAULT_AFTER: '1'}});
		t.is(result.code, 1, `status 1 for a runtime failure: ${result.stderr}`);
		t.regex(result.stderr, /internal error injected/);
		t.is(result.stderr.trim().split('\n').length, 1, 'one line');
		assertClean(t, before, result, 'internal error');
	});

	for (const args of tool.bad) {
		test.serial(`${tool.tool}: bad input ${JSON.stringify(args)} is refused with status 2`, async t => {
			const before = tracingState();
			const result = await runTool(toolBin(tool.tool), args);
			t.is(result.code, 2, result.stderr);
			t.is(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
			t.regex(result.stderr, new RegExp(`^${tool.tool}: `));
			assertClean(t, before, result, 'bad input');
		});
	}

	test.serial(`${tool.tool}: kill -9 leaves residue only in its own instance and group, reclaimed by the next run`, async t => {
		const before = tracingState();
		const run = startTool(toolBin(tool.tool), tool.live);
		await Promise.race([run.started, sleep(15_000)]);
		await sleep(500);
		const pid = run.child.pid!;
		run.child.kill('SIGKILL');
		await run.done;
		// Without every ftrace_ts_<pid> instance and probe group (the killed
		// run's among them), the dump must be what it was before.
		const withoutOurs = withoutOthers(tracingState(), undefined);
		t.true(tracingState().includes(`ftrace_ts_${pid}_`), 'kill -9 left the run\'s own instance');
		t.deepEqual(stateDiff(withoutOthers(before, undefined), withoutOurs), [], 'residue belongs to the killed run only');
		const next = await runTool(toolBin(tool.tool), tool.timed);
		t.is(next.code, 0, next.stderr);
		t.false(tracingState().includes(`ftrace_ts_${pid}_`), 'the next run reclaimed the killed run\'s instance');
		assertClean(t, before, next, 'after reclaim');
	});
}

for (const {tool, args} of vmOnlyTools) {
	test.serial(`${tool}: without the kernel feature it fails in one line and leaves nothing behind`, async t => {
		const before = tracingState();
		const result = await runTool(toolBin(tool), args);
		t.is(result.code, 1, result.stderr);
		t.is(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
		t.regex(result.stderr, /function|kprobe|CONFIG_|not available|lacks|EPERM/i);
		assertClean(t, before, result, 'missing feature');
	});
}
