// funccount -s: the hist stacktrace parser against real hist files from the
// vm lane kernel (test/fixtures/funccount), folding for flamegraph, and on
// this machine (no hist triggers) the refusal and the usage errors of -s and
// --folded: one line, the right exit status, nothing left behind.
import {execFile, execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {parseHist, type Histogram} from '@ftrace-ts/tracefs';
import {countedStack, foldStackCounts, stackCountsFromHist} from '../src/funccount.js';

const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const stateScript = resolve(packageRoot, '../../../shared/tools/tracefs-state');
const tracing = '/sys/kernel/tracing';
const isRoot = process.getuid?.() === 0 && existsSync(`${tracing}/trace`);
const hasHist = isRoot && readFileSync(`${tracing}/README`, 'utf8').includes('hist:keys');

function fixture(name: string): string {
	return readFileSync(resolve(packageRoot, 'test/fixtures/funccount', name), 'utf8');
}

/** The histogram of the trigger funccount -s adds (keys common_pid.execname and the stack). */
function stackHistogram(text: string): Histogram {
	const histogram = parseHist(text).find(candidate => candidate.keys.some(key => key.field === 'common_pid'));
	if (!histogram) {
		throw new Error('no common_pid.execname,stacktrace histogram in the fixture');
	}

	return histogram;
}

const vfsReadStack = ['vfs_read', 'ksys_read', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'];

test('a kprobe\'s hist stacks: the probe\'s own frames dropped, offsets stripped, offsets-only differences added up', t => {
	const histogram = stackHistogram(fixture('hist-stacktrace-kprobe-vfs_read-6.1.txt'));
	t.is(histogram.records.length, 2);
	t.deepEqual(histogram.records[0]!.key['stacktrace']?.frames?.slice(0, 3), ['kprobe_ftrace_handler+0x10b/0x1b0', '0xffffffffc045f0c8', 'vfs_read+0x5/0x310']);
	t.deepEqual(stackCountsFromHist(histogram, 'vfs_read', {isFunction: true}), [
		{func: 'vfs_read', stack: vfsReadStack, comm: 'node', count: 104},
	]);
	t.deepEqual(stackCountsFromHist(histogram, 'vfs_read', {isFunction: true, perProcess: true}), [
		{func: 'vfs_read', stack: vfsReadStack, comm: 'node', pid: 93, count: 1},
		{func: 'vfs_read', stack: vfsReadStack, comm: 'node', pid: 106, count: 103},
	]);
	t.is(histogram.totals.hits, 104, 'every hit is in a stack');
});

test('a tracepoint\'s hist stacks: the tracepoint is the leaf, above the function that hit it', t => {
	const histogram = stackHistogram(fixture('hist-stacktrace-sys_enter_read-6.1.txt'));
	t.deepEqual(stackCountsFromHist(histogram, 'syscalls:sys_enter_read', {isFunction: false}), [
		{func: 'syscalls:sys_enter_read', stack: ['syscalls:sys_enter_read', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'], comm: 'node', count: 106},
	]);
});

test('Linux 6.5+ names the key common_stacktrace: the same stacks', t => {
	const text = fixture('hist-stacktrace-kprobe-vfs_read-6.1.txt').replaceAll('stacktrace', 'common_stacktrace');
	t.deepEqual(stackCountsFromHist(stackHistogram(text), 'vfs_read', {isFunction: true}), [
		{func: 'vfs_read', stack: vfsReadStack, comm: 'node', count: 104},
	]);
});

test('folded for flamegraph: comm first (comm-PID with -P), root to leaf, as tpoint -s --folded writes it', t => {
	const histogram = stackHistogram(fixture('hist-stacktrace-kprobe-vfs_read-6.1.txt'));
	t.is(foldStackCounts(stackCountsFromHist(histogram, 'vfs_read', {isFunction: true})).toString(),
		'node;entry_SYSCALL_64_after_hwframe;do_syscall_64;ksys_read;vfs_read 104\n');
	t.is(foldStackCounts(stackCountsFromHist(histogram, 'vfs_read', {isFunction: true, perProcess: true}), true).toString(),
		'node-106;entry_SYSCALL_64_after_hwframe;do_syscall_64;ksys_read;vfs_read 103\n'
		+ 'node-93;entry_SYSCALL_64_after_hwframe;do_syscall_64;ksys_read;vfs_read 1\n');
});

test('a stack-only histogram (no task key): every record, no comm in the folded line', t => {
	const [histogram] = parseHist(fixture('hist-stacktrace-sched_switch-6.1.txt'));
	const stacks = stackCountsFromHist(histogram!, 'sched:sched_switch', {isFunction: false});
	t.is(stacks.length, 5);
	t.is(stacks.reduce((sum, entry) => sum + entry.count, 0), histogram!.totals.hits);
	t.true(foldStackCounts(stacks).lines().includes('ret_from_fork;kthread;worker_thread;schedule;__schedule;sched:sched_switch 2'));
});

const stackCases: Array<[string, string[], boolean, string[]]> = [
	['a kprobe via ftrace', ['kprobe_ftrace_handler+0x10b/0x1b0', '0xffffffffc045f0c8', 'vfs_read+0x5/0x310', 'ksys_read+0x6b/0xf0'], true, ['vfs_read', 'ksys_read']],
	['a recursive function: its innermost call', ['kprobe_ftrace_handler+0x1/0x2', 'walk+0x5/0x10', 'walk+0x20/0x40', 'start+0x1/0x2'], true, ['walk', 'walk', 'start']],
	['a function missing from its stack', ['caller+0x10/0x20 [mod]'], true, ['func', 'caller']],
	['a tracepoint', ['do_syscall_64+0x3e/0x90'], false, ['func', 'do_syscall_64']],
	['a tracepoint named like a frame', ['func+0x3e/0x90'], false, ['func', 'func']],
];

for (const [title, frames, isFunction, expected] of stackCases) {
	test(`countedStack: ${title}`, t => {
		t.deepEqual(countedStack(expected[0]!, frames, isFunction), expected);
	});
}

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
	pid: number;
}

async function funccount(args: readonly string[]): Promise<Run> {
	return new Promise(done => {
		const child = execFile(process.execPath, [resolve(packageRoot, 'dist/src/bin/funccount.js'), ...args], {timeout: 60_000}, (error, stdout, stderr) => {
			done({code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, pid: child.pid!});
		});
	});
}

/** The top instance's lines of the state dump (other tools' instances come and go), and anything named after the run. */
function topState(): string[] {
	return execFileSync('bash', [stateScript], {encoding: 'utf8'}).split('\n').filter(line => !line.startsWith('[') && !line.startsWith('instances:'));
}

function leftovers(pid: number): string[] {
	return execFileSync('bash', [stateScript], {encoding: 'utf8'}).split('\n').filter(line => line.includes(`ftrace_ts_${pid}`));
}

const usageCases: Array<[string[], RegExp]> = [
	[['--folded', 'vfs_read'], /^funccount: --folded needs -s/],
	[['-s', '--folded', '--json', 'vfs_read'], /^funccount: --folded needs -s .*--json/],
	[['-s', '--folded', '-i', '1', 't:sched:sched_switch'], /^funccount: --folded needs -s .*-i/],
	[['-s', '--folded', '-T', 'vfs_read'], /^funccount: --folded needs -s .*-T/],
	[['-s', '--mechanism', 'kprobe-profile', 'vfs_read'], /^funccount: -s counts stacks with hist triggers, not kprobe-profile/],
	[['-s', '-p', '1', '-L', '1', 'vfs_read'], /^funccount: use -p or -L/],
	[['-s', 'vfs read'], /^funccount: .*function pattern/],
];

for (const [args, message] of usageCases) {
	test.serial(`funccount ${args.join(' ')}: one line, exit 2, nothing left`, async t => {
		const before = isRoot ? topState() : [];
		const result = await funccount(args);
		t.is(result.code, 2, result.stderr);
		t.regex(result.stderr, message);
		t.is(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
		if (isRoot) {
			t.deepEqual(topState(), before);
			t.deepEqual(leftovers(result.pid), []);
		}
	});
}

const refusals: Array<[string[], RegExp]> = [
	[['-s', 't:syscalls:sys_enter_read'], /by kernel stack \(-s\) needs hist triggers.*CONFIG_HIST_TRIGGERS.*tpoint -s --folded/],
	[['-s', '--folded', '-d', '1', 't:sched:sched_switch'], /needs hist triggers.*CONFIG_HIST_TRIGGERS.*tpoint -s --folded/],
	[['-s', '-P', 'vfs_read'], /needs hist triggers.*CONFIG_HIST_TRIGGERS.*kprobe -s --folded/],
];

for (const [args, message] of refusals) {
	test.serial(`funccount ${args.join(' ')} without hist triggers: one line naming CONFIG_HIST_TRIGGERS, exit 1, nothing left`, async t => {
		if (!isRoot || hasHist) {
			t.pass('only on a kernel without hist triggers (the development VM)');
			return;
		}

		const before = topState();
		const result = await funccount(args);
		t.is(result.code, 1, result.stderr);
		t.regex(result.stderr, message);
		t.is(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
		t.is(result.stdout, '');
		t.deepEqual(topState(), before);
		t.deepEqual(leftovers(result.pid), []);
	});
}

test('funccount --man documents -s, --folded and the missing-hist refusal', async t => {
	const result = await funccount(['--man']);
	t.is(result.code, 0);
	t.regex(result.stdout, /^FUNCCOUNT\(8\)/);
	t.regex(result.stdout, /--folded/);
	t.regex(result.stdout, /CONFIG_HIST_TRIGGERS/);
	t.regex(result.stdout, /OVERHEAD/);
});
