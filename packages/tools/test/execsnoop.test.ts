import {copyFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {execFileSync, spawn} from 'node:child_process';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {commAfterExec} from '../src/execsnoop.js';
import {assertStateRestored, drive, fixtures, samples, rows, run, sleep, start, tracingState} from './snoop-helpers.js';

const header = /^\s+PID\s+PPID ARGS$/m;
let dir: string;
let program: string;
let sleeper: string;

test.before(() => {
	dir = mkdtempSync(join(tmpdir(), 'execsnoop-test-'));
	program = join(dir, `xsnp${process.pid}`);
	sleeper = join(dir, `xsnpsleep${process.pid}`);
	copyFileSync('/bin/true', program);
	copyFileSync('/bin/sleep', sleeper);
	execFileSync('chmod', ['755', program, sleeper]);
});

test.after.always(() => {
	rmSync(dir, {recursive: true, force: true});
});

function parse(line: string) {
	const match = /^\s*(\d+)\s+(\d+) (.*)$/.exec(line);
	return match ? {pid: Number(match[1]), ppid: Number(match[2]), args: match[3]!} : undefined;
}

test.serial('buffered: known execs with their arguments, PID and PPID', async t => {
	const before = tracingState();
	let parent = 0;
	const result = await drive('execsnoop', ['-d', '3', `xsnp${process.pid}$`], {
		ready: header,
		end: 'exit',
		async during() {
			const child = spawn(program, ['alpha', 'beta gamma', 'delta'], {stdio: 'ignore'});
			parent = process.pid;
			await new Promise(resolve => child.on('close', resolve));
		},
	});
	t.is(result.code, 0, result.stderr);
	t.regex(result.stderr, /execsnoop: (uprobes on \S*libc|kprobes on __x64_sys_execve)/);
	const execs = rows(result.stdout, header).map(line => parse(line));
	t.is(execs.length, 1, result.stdout);
	// With stderr (mechanism, lost events) to tell why, should the arguments ever be missing.
	t.is(execs[0]?.args, `${program} alpha beta gamma delta`, result.stderr);
	t.is(execs[0]?.ppid, parent);
	assertStateRestored(t, before, result.pid);
});

test.serial('-a 2 cuts the arguments with [...]; -t adds TIMEs; live, SIGINT', async t => {
	const before = tracingState();
	const running = start('execsnoop', ['-t', '-a', '2', `xsnp${process.pid}$`]);
	await running.waitFor(/TIMEs/);
	execFileSync(program, ['1', '2', '3', '4', '5']);
	await running.waitFor(/\[\.\.\.\]/);
	running.child.kill('SIGINT');
	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /^TIMEs {15}PID {3}PPID ARGS$/m);
	const lines = rows(result.stdout, /^TIMEs/);
	t.regex(lines[0]!, new RegExp(`^\\d+\\.\\d{6} +\\d+ +${process.pid} ${program} 1 2 \\[\\.\\.\\.\\]$`));
	assertStateRestored(t, before, result.pid);
});

test.serial('--mechanism proc: arguments from /proc/PID/cmdline of a live process; --json', async t => {
	const result = await drive('execsnoop', ['--json', '--mechanism', 'proc', `xsnpsleep${process.pid}`], {
		ready: /"type":"start"/,
		end: 'SIGTERM',
		settleMs: 1000,
		during() {
			spawn(sleeper, ['0.5'], {stdio: 'ignore'});
		},
	});
	t.is(result.code, 0, result.stderr);
	const records = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
	t.like(records[0], {type: 'start', mechanism: 'sched:sched_process_exec + /proc/PID/cmdline read at the event'});
	t.like(records.find(record => record['type'] === 'exec'), {args: [sleeper, '0.5'], argsFrom: 'proc', ppid: process.pid, filename: sleeper});
});

test.serial('-r includes re-execs (sh exec-ing the program keeps its PID)', async t => {
	const script = `exec ${program} again`;
	const plain = await drive('execsnoop', ['-d', '2'], {ready: header, end: 'exit', during() {
		execFileSync('sh', ['-c', script]);
	}});
	const reexec = await drive('execsnoop', ['-r', '-d', '2'], {ready: header, end: 'exit', during() {
		execFileSync('sh', ['-c', script]);
	}});
	const pick = (stdout: string) => rows(stdout, header).map(line => parse(line)).filter(exec => exec && (exec.args.includes(script) || exec.args.startsWith(`${program} again`)));
	const plainRows = pick(plain.stdout);
	const reexecRows = pick(reexec.stdout);
	t.is(plainRows.length, 1, plain.stdout);
	t.is(reexecRows.length, 2, reexec.stdout);
	t.is(reexecRows[0]?.pid, reexecRows[1]?.pid);
});

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
	test.serial(`exit path ${signal}: nothing left behind`, async t => {
		const before = tracingState();
		const result = await drive('execsnoop', ['nothing-matches'], {ready: header, end: signal, settleMs: 300});
		t.is(result.code, 0, result.stderr);
		assertStateRestored(t, before, result.pid);
	});
}

test.serial('exit path: closed pipe', async t => {
	const before = tracingState();
	const running = start('execsnoop', []);
	await running.waitFor(header);
	running.child.stdout!.destroy();
	for (let i = 0; i < 20 && running.child.exitCode === null; i++) {
		execFileSync(program);
		// eslint-disable-next-line no-await-in-loop
		await sleep(100);
	}

	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	assertStateRestored(t, before, result.pid);
});

test.serial('exit path: closed stderr (its reader gone before the first line) ends it at once, nothing left behind', async t => {
	const before = tracingState();
	// Live (no duration): only the closed pipe can end it.
	const running = start('execsnoop', []);
	running.child.stderr!.destroy();
	const result = await Promise.race([running.done, sleep(15_000).then(() => undefined)]);
	t.truthy(result, 'it ended by itself');
	running.child.kill('SIGKILL');
	t.is(result?.code, 0);
	t.is(result?.signal, null);
	assertStateRestored(t, before, running.child.pid!);
});

for (const [args, message] of [
	[['-a', '17'], /max -a argc is 16/],
	[['-a', '0'], /argc \(-a\) must be an integer from 1 to 16/],
	[['-a', 'x'], /argc \(-a\) must be an integer/],
	[['-d', '0'], /duration \(-d\) must be a positive number/],
	[['a\nb'], /newline/],
	[['[z-a]'], /not a valid regular expression/],
	[['--mechanism', 'magic'], /--mechanism must be kprobe, uprobe or proc/],
	[['-p', '1'], /unknown option -p/],
] as Array<[string[], RegExp]>) {
	test.serial(`bad input ${JSON.stringify(args)}: exit 2, one line, nothing left`, async t => {
		const before = tracingState();
		const result = await run('execsnoop', args);
		t.is(result.code, 2, result.stderr);
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1);
		assertStateRestored(t, before, result.pid);
	});
}

test('replay: a trace recorded here gives the execs with arguments and parents', async t => {
	const result = await run('execsnoop', ['--replay', `${fixtures}execsnoop-uprobe.trace`, 'xsnfix']);
	t.is(result.code, 0, result.stderr);
	t.deepEqual(rows(result.stdout, header), [
		'  1834   1153 /tmp/xsnfix_prog one two three',
		'  1835   1153 /tmp/xsnfix_prog four five',
	]);
});

test('replay: a probe line whose unused argv slots fetched garbage (\\r, control bytes, broken UTF-8) still gives its arguments', async t => {
	// Recorded here: node spawned five execs; argv ends at a4 (NULL), and a6 of the second one holds "\r\t\x03".
	const result = await run('execsnoop', ['--replay', `${fixtures}execsnoop-uprobe-garbage.trace`]);
	t.is(result.code, 0, result.stderr);
	t.deepEqual(rows(result.stdout, header), [0, 1, 2, 3, 4].map(n => `${String(32_557 + n).padStart(6)}  32455 /tmp/xs/xsnpREPRO alpha beta gamma ${n}`));
});

test('replay: the TUI sample (tracepoints only) shows "name [?]" without arguments and PPIDs from fork events', async t => {
	const result = await run('execsnoop', ['--replay', `${samples}execsnoop.trace`]);
	t.is(result.code, 0, result.stderr);
	const execs = rows(result.stdout, header).map(line => parse(line)!);
	t.true(execs.length > 0);
	t.true(execs.every(exec => exec.args.endsWith(' [?]')));
	t.true(execs.some(exec => exec.ppid > 0));
});

test('the name after an exec comes from its file name, not from the line\'s comm (the kernel\'s comm cache may lag: "<...>" or the parent\'s)', async t => {
	t.is(commAfterExec('/tmp/xsnp_lag', 'node'), 'xsnp_lag');
	t.is(commAfterExec('/usr/lib/a-very-long-program-name', '<...>'), 'a-very-long-pro', 'cut to 15 bytes, as TASK_COMM_LEN');
	t.is(commAfterExec('/dev/fd/3', 'script'), 'script', 'fexecve: named after the file, which the event does not give');
	t.is(commAfterExec(undefined, 'sh'), 'sh');
	const dir = mkdtempSync(join(tmpdir(), 'execsnoop-lag-'));
	try {
		const trace = join(dir, 'trace');
		writeFileSync(trace, [
			'# tracer: nop',
			'            node-4252    [001] .....  29193.914997: sched_process_exec: filename=/tmp/xsnp_lag pid=4252 old_pid=4252',
			'           <...>-4253    [000] .....  29193.915997: sched_process_exec: filename=/tmp/xsnp_lag pid=4253 old_pid=4253',
			'           <...>-4254    [000] .....  29193.916997: sched_process_exec: filename=/tmp/other pid=4254 old_pid=4254',
			'',
		].join('\n'));
		const result = await run('execsnoop', ['--replay', trace, 'xsnp_lag$']);
		t.is(result.code, 0, result.stderr);
		t.deepEqual(rows(result.stdout, header).map(line => line.trim().split(/\s+/).slice(0, 1).concat(line.trim().split(/\s+/).slice(2)).join(' ')), ['4252 xsnp_lag [?]', '4253 xsnp_lag [?]']);
		const json = await run('execsnoop', ['--replay', trace, '--json']);
		t.deepEqual(json.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; comm?: string}).filter(record => record.type === 'exec').map(record => record.comm), ['xsnp_lag', 'xsnp_lag', 'other']);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
