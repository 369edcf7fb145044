import {execFileSync, spawn} from 'node:child_process';
import {rmSync, writeFileSync} from 'node:fs';
import test from 'ava';
import {assertStateRestored, drive, fixtures, rows, run, sleep, start, tracingState} from './snoop-helpers.js';

const header = /^COMM\s+PID\s+FD FILE$/m;
const unique = `/tmp/opensnoop-test-${process.pid}`;
const present = `${unique}-present.txt`;
const absent = `${unique}-absent.txt`;

test.before(() => {
	writeFileSync(present, 'x\n');
});

test.after.always(() => {
	rmSync(present, {force: true});
});

function openBoth(): void {
	execFileSync('cat', [present]);
	try {
		execFileSync('cat', [absent], {stdio: 'ignore'});
	} catch {}
}

function parse(line: string) {
	const match = /^(.{16}) (\S+)\s+(-?\d+) (.*)$/.exec(line);
	return match ? {comm: match[1]!.trim(), pid: Number(match[2]), fd: Number(match[3]), file: match[4]!} : undefined;
}

test.serial('buffered: real file names of known opens, FD for success and -1 for failure; mechanism on stderr', async t => {
	const before = tracingState();
	const result = await drive('opensnoop', ['-d', '3', `opensnoop-test-${process.pid}`], {ready: header, end: 'exit', during: openBoth});
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, new RegExp(`^Tracing open\\(\\)s for filenames containing "opensnoop-test-${process.pid}" for 3 seconds \\(buffered\\)\\.\\.\\.$`, 'm'));
	t.regex(result.stderr, /opensnoop: (uprobes on \S*libc\S* .*\+ syscall tracepoints; limitation: .*static|kprobe on do_sys_open)/);
	const opens = rows(result.stdout, header).map(line => parse(line));
	t.deepEqual(opens.map(open => open && [open.comm, open.file, open.fd >= 0]), [['cat', present, true], ['cat', absent, false]], result.stdout + result.stderr);
	t.is(opens[1]?.fd, -1);
	assertStateRestored(t, before, result.pid);
});

test.serial('live -x -t: only the failed open, with a time column; SIGINT', async t => {
	const before = tracingState();
	const running = start('opensnoop', ['-x', '-t', unique]);
	await running.waitFor(/^TIMEs/m);
	openBoth();
	await running.waitFor(/absent\.txt/);
	running.child.kill('SIGINT');
	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /^TIMEs {12}COMM {13}PID {6}FD FILE$/m);
	const lines = rows(result.stdout, /^TIMEs/);
	t.is(lines.length, 1, result.stdout);
	t.regex(lines[0]!, new RegExp(`^\\d+\\.\\d{6} +cat +\\d+ +-1 ${absent}$`));
	assertStateRestored(t, before, result.pid);
});

test.serial('-p PID covers the process; --json has ret and syscall', async t => {
	const marker = `${unique}-pid.txt`;
	const helper = spawn(process.execPath, ['-e', `const fs=require('fs');setInterval(()=>{try{fs.closeSync(fs.openSync(${JSON.stringify(marker)},'w'))}catch{}},100)`], {stdio: 'ignore'});
	try {
		await sleep(300);
		const before = tracingState();
		const result = await drive('opensnoop', ['--json', '-d', '2', '-p', String(helper.pid)], {ready: /"type":"start"/, end: 'exit'});
		t.is(result.code, 0, result.stderr);
		const opens = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>).filter(record => record['type'] === 'open');
		t.true(opens.length >= 3, result.stdout);
		t.true(opens.every(open => open['pid'] === helper.pid || String(open['comm']).startsWith('node')));
		t.like(opens.find(open => open['file'] === marker), {comm: 'node', syscall: 'openat'});
		t.true(opens.filter(open => open['file'] === marker).every(open => typeof open['ret'] === 'number' && (open['ret'] as number) >= 0));
		assertStateRestored(t, before, result.pid);
	} finally {
		helper.kill();
		rmSync(marker, {force: true});
	}
});

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
	test.serial(`exit path ${signal}: probes and instance removed`, async t => {
		const before = tracingState();
		const result = await drive('opensnoop', ['-n', 'nothing-matches'], {ready: header, end: signal, settleMs: 300});
		t.is(result.code, 0, result.stderr);
		assertStateRestored(t, before, result.pid);
	});
}

test.serial('exit path: closed pipe', async t => {
	const before = tracingState();
	const running = start('opensnoop', [unique]);
	await running.waitFor(header);
	running.child.stdout!.destroy();
	for (let i = 0; i < 20 && running.child.exitCode === null; i++) {
		openBoth();
		// eslint-disable-next-line no-await-in-loop
		await sleep(100);
	}

	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	assertStateRestored(t, before, result.pid);
});

for (const [args, message] of [
	[['-p', '999999'], /PID 999999 does not exist/],
	[['-L', 'abc'], /TID must be a process id/],
	[['-p', '1', '-n', 'x'], /at most one of -p, -n, -L/],
	[['('], /not a valid regular expression/],
	[['-n', 'a\u001Bb'], /control character/],
	[['-d', '-1'], /option -d needs a value|duration/],
	[['-d', 'soon'], /duration \(-d\) must be a positive number/],
	[['--mechanism', 'ebpf'], /--mechanism must be kprobe or uprobe/],
	[['--mechanism', 'kprobe'], /no kprobe events \(CONFIG_KPROBE_EVENTS\)/],
	[['a', 'b'], /unexpected argument "b"/],
] as Array<[string[], RegExp]>) {
	test.serial(`bad input ${JSON.stringify(args)}: exit 2, one line, nothing left`, async t => {
		if (args.includes('kprobe') && execFileSync('sh', ['-c', 'test -e /sys/kernel/tracing/kprobe_events && echo yes || echo no'], {encoding: 'utf8'}).trim() === 'yes') {
			t.pass('this kernel has kprobes');
			return;
		}

		const before = tracingState();
		const result = await run('opensnoop', args);
		t.is(result.code, 2, result.stderr);
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1);
		assertStateRestored(t, before, result.pid);
	});
}

test('replay: a trace recorded here with the uprobe mechanism gives the same opens', async t => {
	const trace = `${fixtures}opensnoop-uprobe.trace`;
	const result = await run('opensnoop', ['--replay', trace, 'osnfix_']);
	t.is(result.code, 0, result.stderr);
	t.deepEqual(rows(result.stdout, header), [
		'cat              32152     3 /tmp/osnfix_present',
		'cat              32158    -1 /tmp/osnfix_absent',
		'python3          32160     3 /tmp/osnfix_present',
	]);
	const failed = await run('opensnoop', ['-x', '--replay', trace, '-p', '32158']);
	t.true(rows(failed.stdout, header).every(line => parse(line)?.fd === -1));
	t.true(rows(failed.stdout, header).some(line => line.endsWith('/tmp/osnfix_absent')));
});

test.serial('the tool leaves its own process out (set_event_notrace_pid): opens made in-process are not listed, a child\'s are', async t => {
	const {opensnoop} = await import('../src/opensnoop.js');
	const {instanceNameFor} = await import('../src/session.js');
	const {openSync, closeSync, readFileSync: read} = await import('node:fs');
	const self = `${unique}-self.txt`;
	const child = `${unique}-child.txt`;
	const before = tracingState();
	const controller = new AbortController();
	const files: string[] = [];
	const instance = instanceNameFor('opensnoop');
	let started = false;
	try {
		for await (const record of opensnoop({filename: `${unique}-`}, controller.signal)) {
			if (record.type === 'start') {
				started = true;
				// Tracing is on: our threads are listed, in-process opens are not traced.
				const ignored = read(`/sys/kernel/tracing/instances/${instance}/set_event_notrace_pid`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
				t.true(ignored.includes(process.pid), `notrace pids: ${ignored.join(' ')}`);
				for (let i = 0; i < 5; i++) {
					closeSync(openSync(self, 'w'));
				}

				execFileSync('sh', ['-c', `: > ${child}`]);
			} else if (record.type === 'open') {
				files.push(record.file ?? '');
				if (record.file === child) {
					controller.abort();
				}
			}
		}
	} finally {
		rmSync(self, {force: true});
		rmSync(child, {force: true});
	}

	t.true(started);
	t.deepEqual(files, [child]);
	assertStateRestored(t, before, process.pid);
});

test.serial('the tool\'s own setup is not traced: tracing starts once its events are enabled', async t => {
	const {opensnoop} = await import('../src/opensnoop.js');
	const {instanceNameFor} = await import('../src/session.js');
	const before = tracingState();
	// Setting up opens many files of the tool's instance (enable, filter, format, error_log).
	const files: string[] = [];
	for await (const record of opensnoop({filename: instanceNameFor('opensnoop'), durationSeconds: 1})) {
		if (record.type === 'open') {
			files.push(record.file ?? '');
		}
	}

	t.deepEqual(files, []);
	assertStateRestored(t, before, process.pid);
});
