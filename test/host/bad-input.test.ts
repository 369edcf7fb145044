/**
 * The bad-input corpus: malformed probe definitions, filters, globs, PIDs,
 * durations, intervals, device numbers, newline injection, huge values and
 * unknown flags, replays of missing files, across the tools. Each must give
 * one line on stderr that starts with the tool's name, exit status 2, no
 * stack trace, nothing on stdout, and leave the tracing state exactly as it
 * was.
 */
import test from 'ava';
import {runTool, stateDiff, toolBin, tracingState, withoutOthers} from '../lib/harness.js';

type Case = readonly [tool: string, args: readonly string[], names: RegExp];

const pidTools = ['iosnoop', 'opensnoop', 'tpoint', 'funcgraph', 'kprobe', 'uprobe', 'functrace', 'funcslower'];
const tidTools = ['opensnoop', 'tpoint', 'funcgraph', 'kprobe', 'uprobe', 'functrace', 'funcslower'];
const durationTools = ['opensnoop', 'tpoint', 'funccount', 'funcgraph', 'kprobe', 'uprobe', 'functrace', 'funcslower', 'execsnoop'];
const allTools = ['iosnoop', 'iolatency', 'opensnoop', 'execsnoop', 'tpoint', 'funccount', 'funcgraph', 'kprobe', 'uprobe', 'functrace', 'funcslower', 'reset-ftrace'];

/** A minimal valid rest-of-command for a tool, so only the bad part is bad. */
const tail: Record<string, readonly string[]> = {
	tpoint: ['sched:sched_switch'], funccount: ['vfs_read'], funcgraph: ['vfs_read'], kprobe: ['p:vfs_read'],
	uprobe: ['p:libc:malloc'], functrace: ['vfs_read'], funcslower: ['vfs_read', '100'],
};
const withTail = (tool: string, args: readonly string[]) => [...args, ...(tail[tool] ?? [])];

const cases: Case[] = [];
for (const tool of allTools) {
	cases.push([tool, withTail(tool, ['-Z']), /-Z|option/], [tool, withTail(tool, ['--no-such-flag']), /no-such-flag|option/]);
}

for (const tool of pidTools) {
	for (const pid of ['abc', '-1', '12abc', '99999999999', '']) {
		cases.push([tool, withTail(tool, ['-p', pid]), /PID|pid|process/]);
	}
}

for (const tool of tidTools) {
	for (const tid of ['x', '-7', '4294967296']) {
		cases.push([tool, withTail(tool, ['-L', tid]), /TID|tid|thread/]);
	}
}

for (const tool of durationTools) {
	for (const duration of ['0', '-1', 'abc', '1e999', '99999999999999999999']) {
		cases.push([tool, withTail(tool, ['-d', duration]), /duration|seconds|secs|-d/]);
	}
}

cases.push(
	// iosnoop: devices, iotypes, durations, names
	['iosnoop', ['-d', '8'], /device/],
	['iosnoop', ['-d', '8,'], /device/],
	['iosnoop', ['-d', 'a,b'], /device/],
	['iosnoop', ['-d', '8,1,2'], /device/],
	['iosnoop', ['-d', '99999999,1'], /device/],
	['iosnoop', ['-i', 'R\nW'], /newline|iotype|type/],
	['iosnoop', ['-i', 'R"; echo'], /iotype|type|character/],
	['iosnoop', ['-n', 'dd\nx'], /newline|name/],
	['iosnoop', ['-p', '1', '-n', 'dd'], /-p|-n|either/],
	['iosnoop', ['0'], /duration/],
	['iosnoop', ['soon'], /duration/],
	// iolatency: intervals and counts
	['iolatency', ['0'], /interval/],
	['iolatency', ['-1'], /interval|option/],
	['iolatency', ['x'], /interval/],
	['iolatency', ['1', '0'], /count/],
	['iolatency', ['1', 'x'], /count/],
	['iolatency', ['1e12'], /interval/],
	['iolatency', ['-d', '8:1'], /device/],
	['iolatency', ['-i', 'W\n'], /newline|iotype|type/],
	// tpoint: tracepoints and filters
	['tpoint', ['nosuch:event'], /nosuch/],
	['tpoint', ['sched:no_such_event'], /no_such_event/],
	['tpoint', ['sched'], /subsystem:event|tracepoint/],
	['tpoint', ['../../etc:passwd'], /tracepoint|subsystem|valid/],
	['tpoint', ['sched:sched_switch', 'bogus_field == 1'], /Field not found|bogus_field|filter/],
	['tpoint', ['sched:sched_switch', 'prev_pid =='], /filter|value/],
	['tpoint', ['sched:sched_switch', 'prev_pid == 1\nenable'], /newline/],
	['tpoint', ['-l', 'sched:[', '-v'], /glob|bracket|pattern|option|-l/],
	// opensnoop / execsnoop
	['opensnoop', ['-n', 'a\nb'], /newline|name/],
	['opensnoop', ['foo\nbar'], /newline|filename/],
	['execsnoop', ['-a', '0'], /argc|-a/],
	['execsnoop', ['-a', '100000000'], /argc|-a/],
	['execsnoop', ['-a', 'many'], /argc|-a/],
	['execsnoop', ['bash\nsh'], /newline|name/],
	// function globs
	['funccount', ['vfs_['], /unbalanced|glob|pattern/],
	['funccount', ['vfs read'], /character|glob|pattern/],
	['funccount', ['vfs_*\nschedule'], /newline/],
	['funccount', ['-i', '0', 'vfs_read'], /interval|-i/],
	['funccount', ['-t', 'x', 'vfs_read'], /top|-t/],
	['funccount', [], /funcstring|pattern|function|usage/i],
	['funccount', ['--folded', 'vfs_read'], /--folded needs -s/],
	['funccount', ['-s', '--folded', '--json', 'vfs_read'], /--folded.*--json/],
	['funccount', ['-s', '--folded', '-i', '1', 'vfs_read'], /--folded.*-i/],
	['funccount', ['-s', '--mechanism', 'kprobe-profile', 'vfs_read'], /-s .*hist triggers.*kprobe-profile/],
	['funcgraph', ['-m', '-3', 'vfs_read'], /depth|-m/],
	['funcgraph', ['-m', 'deep', 'vfs_read'], /depth|-m/],
	['funcgraph', ['vfs_read;ls'], /character|glob|pattern/],
	['functrace', ['vfs_read\n'], /newline/],
	['funcslower', ['vfs_read'], /latency|usage/i],
	['funcslower', ['vfs_read', 'slow'], /latency/],
	['funcslower', ['vfs_read', '-5'], /latency|option/],
	['funcslower', ['vfs_read', '99999999999999'], /latency/],
	// probe definitions
	['kprobe', ['q:do_sys_openat2'], /definition|probe type|p:|r:/],
	['kprobe', ['p:'], /definition|symbol|empty/],
	['kprobe', ['p:do_sys_openat2 filename=+0(%zz):string'], /register|%zz/],
	['kprobe', ['p:do_sys_openat2 filename=+0(%si):strnig'], /type|strnig/],
	['kprobe', ['p:do_sys_openat2 x=+0(%si'], /parenthes|\(|unbalanced/],
	['kprobe', ['p:do_sys_openat2\nr:vfs_read'], /newline/],
	['kprobe', ['p:do_sys_openat2 $retval'], /retval|return/],
	['kprobe', ['r99999999:vfs_read'], /maxactive|MAXACTIVE|too/],
	['kprobe', ['p:bad-name/x vfs_read'], /name|group/],
	['uprobe', ['p:libc:no_such_function_here'], /no_such_function_here|symbol/],
	['uprobe', ['p:/no/such/binary:main'], /no\/such|not found|file/],
	['uprobe', ['p:libc:malloc size=%zz'], /register|%zz/],
	['uprobe', ['p:libc:malloc', 'size =='], /filter|value/],
	['uprobe', ['p:libc:malloc\n-:x'], /newline/],
	['uprobe', ['x:libc:malloc'], /definition|probe type|p:|r:/],
	['uprobe', ['-l', 'no_such_library_here'], /no_such_library_here|not found/],
	['uprobe', ['p:libc:0xzz'], /offset|symbol|0xzz/],
	// reset-ftrace takes no arguments
	['reset-ftrace', ['now'], /argument/],
);

// A replay of a file that is not there, or not a file: refused before anything is printed.
for (const tool of ['iosnoop', 'iolatency', 'opensnoop', 'execsnoop', 'tpoint']) {
	cases.push([tool, withTail(tool, ['--replay', '/nonexistent/trace']), /cannot read trace file \/nonexistent\/trace: ENOENT/]);
	cases.push([tool, withTail(tool, ['--replay', '/tmp']), /cannot read trace file \/tmp: EISDIR/]);
}

test('the corpus has at least 100 cases', t => {
	t.true(cases.length >= 100, `${cases.length} cases`);
});

for (const [tool, args, names] of cases) {
	test.serial(`${tool} ${JSON.stringify(args)}: refused with status 2`, async t => {
		const before = tracingState();
		const result = await runTool(toolBin(tool), args, {timeoutMs: 20_000});
		t.is(result.code, 2, `status; stderr: ${result.stderr}`);
		const lines = result.stderr.trimEnd().split('\n');
		t.is(lines.length, 1, `one line: ${result.stderr}`);
		t.regex(lines[0]!, new RegExp(`^${tool}: `));
		t.regex(lines[0]!, names, 'the message names the problem');
		t.notRegex(result.stderr, /\bat .*:\d+:\d+/, 'no stack trace');
		t.is(result.stdout, '', 'nothing printed before the error');
		t.deepEqual(stateDiff(withoutOthers(before, result.pid), withoutOthers(tracingState(), result.pid)), [], 'nothing left behind');
	});
}

export const badInputCount = cases.length;
