// Tools II on this machine (kernel without kprobes, function_graph or the
// function profiler; the function tracer answers EPERM; uprobes work):
// uprobe traced live, bad input for every tool (one line, exit 2), missing
// kernel features (one line naming the feature, exit 1), and nothing left
// behind in either case.
import test from 'ava';
import {execFile, execFileSync, spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const stateScript = resolve(packageRoot, '../../../shared/tools/tracefs-state');
const isRoot = process.getuid?.() === 0 && existsSync('/sys/kernel/tracing/trace');

function bin(tool: string): string {
	return join(packageRoot, 'dist/src/bin', `${tool}.js`);
}

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
	pid: number;
}

async function run(tool: string, args: readonly string[]): Promise<Run> {
	return new Promise(done => {
		const child = execFile(process.execPath, [bin(tool), ...args], {timeout: 60_000, maxBuffer: 256 * 1024 * 1024}, (error, stdout, stderr) => {
			done({code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, pid: child.pid!});
		});
	});
}

/** The top instance's lines of the state dump (other engineers' instances come and go). */
function topState(): string[] {
	return execFileSync('bash', [stateScript], {encoding: 'utf8'}).split('\n').filter(line => !line.startsWith('[') && !line.startsWith('instances:'));
}

function leftovers(pid: number): string[] {
	return execFileSync('bash', [stateScript], {encoding: 'utf8'}).split('\n').filter(line => line.includes(`ftrace_ts_${pid}`));
}

const badInput: Array<[string, string[]]> = [
	['funccount', []],
	['funccount', ['-t', 'x', 'vfs_*']],
	['funccount', ['-i', '-1', 'vfs_*']],
	['funccount', ['-Z', 'vfs_*']],
	['funccount', ['--mechanism', 'magic', 'vfs_*']],
	['funccount', ['-p', '0', 'vfs_*']],
	['funcgraph', ['-m', 'x', 'vfs_read']],
	['funcgraph', ['-p', '99999999', 'vfs_read']],
	['funcgraph', ['-p', '1', '-L', '1', 'vfs_read']],
	['funcgraph', ['bad;glob']],
	['funcgraph', []],
	['functrace', ['-Q', 'vfs_read']],
	['functrace', ['bad glob with spaces(']],
	['funcslower', ['vfs_read']],
	['funcslower', ['vfs_read', 'slow']],
	['funcslower', ['vfs_read', '0']],
	['kprobe', []],
	['kprobe', ['q:do_sys_open']],
	['kprobe', ['p:vfs_read x=+0(%zz):u32']],
	['kprobe', ['-d', 'soon', 'p:vfs_read']],
	['kprobe', ['-v', '-d', '1', 'p:vfs_read']],
	['uprobe', ['p:libc:no_such_function_xyz']],
	['uprobe', ['p:/no/such/file:main']],
	['uprobe', ['q:libc:malloc']],
	['uprobe', ['-l', '/no/such/file']],
	['uprobe', ['p:libc:malloc x=%qq']],
	['uprobe', ['-p', '4194303', 'p:libc:malloc']],
	['uprobe', ['p:libc:malloc', 'nosuchfield == 1']],
	['uprobe', ['p:libc:malloc', 'common_pid ==']],
];

for (const [tool, args] of badInput) {
	test.serial(`${tool} ${args.join(' ')}: one line, exit 2, nothing left`, async t => {
		if (!isRoot) {
			t.pass('needs root and tracefs');
			return;
		}

		const before = topState();
		const result = await run(tool, args);
		t.is(result.code, 2, result.stderr);
		t.regex(result.stderr, new RegExp(`^${tool}: .+\\n$`));
		t.deepEqual(topState(), before);
		t.deepEqual(leftovers(result.pid), []);
	});
}

const missingFeatures: Array<[string, string[], RegExp]> = [
	['funccount', ['vfs_*'], /function profiler nor kprobes.*CONFIG_KPROBE_EVENTS/],
	['funccount', ['-P', 'vfs_*'], /hist triggers.*CONFIG_HIST_TRIGGERS/],
	['funccount', ['t:syscalls:sys_enter_read'], /hist triggers.*CONFIG_HIST_TRIGGERS/],
	['funcgraph', ['vfs_read'], /function_graph tracer.*CONFIG_FUNCTION_GRAPH_TRACER/],
	['funcslower', ['vfs_read', '100'], /function_graph tracer.*CONFIG_FUNCTION_GRAPH_TRACER/],
	['functrace', ['vfs_read'], /refuses function tracing.*EPERM/],
	['kprobe', ['p:do_sys_open filename=+0(%si):string'], /lacks kprobe events.*CONFIG_KPROBE_EVENTS/],
];

for (const [tool, args, message] of missingFeatures) {
	test.serial(`${tool} ${args.join(' ')} names the missing kernel feature, exit 1`, async t => {
		if (!isRoot || existsSync('/sys/kernel/tracing/kprobe_events')) {
			t.pass('only on a kernel without kprobes (the development VM)');
			return;
		}

		const before = topState();
		const result = await run(tool, args);
		t.is(result.code, 1, result.stderr);
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1);
		t.deepEqual(topState(), before);
		t.deepEqual(leftovers(result.pid), []);
	});
}

const calls = 7;

function compileTarget(): string {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-uprobe-'));
	writeFileSync(join(dir, 'target.c'), `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) int target_func(int x) { __asm__ volatile(""); return x * 2; }
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1, sum = 0;
	usleep(300000);
	for (int i = 0; i < n; i++) sum += target_func(i);
	printf("%d\\n", sum);
	return 0;
}
`);
	execFileSync('gcc', ['-O1', '-o', join(dir, 'target'), join(dir, 'target.c')]);
	return join(dir, 'target');
}

test.serial('uprobe traces a compiled function a known number of times, with its argument; -l lists it', async t => {
	if (!isRoot || !existsSync('/sys/kernel/tracing/uprobe_events')) {
		t.pass('needs root and uprobes');
		return;
	}

	const target = compileTarget();
	const listed = await run('uprobe', ['-l', target]);
	t.is(listed.code, 0);
	t.true(listed.stdout.split('\n').includes('target_func'));

	const before = topState();
	const child = spawn(process.execPath, [bin('uprobe'), `p:${target}:target_func x=%di:s32`], {stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	await new Promise<void>(ready => {
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (stdout.includes('\n')) {
				ready();
			}
		});
	});
	t.regex(stdout, /^Tracing uprobe target_func \(p:target_func .*:0x[\da-f]+ x=%di:s32\)\. Ctrl-C to end\.\n/);
	execFileSync(target, [String(calls)]);
	await new Promise(resolve => setTimeout(resolve, 700));
	child.kill('SIGINT');
	const code = await new Promise(resolve => child.on('close', resolve));
	t.is(code, 0, stderr);
	const hits = stdout.split('\n').filter(line => / target_func: \(0x[\da-f]+\) x=\d+$/.test(line));
	t.is(hits.length, calls, stdout);
	t.deepEqual(hits.map(line => Number(/x=(\d+)$/.exec(line)![1])), Array.from({length: calls}, (_, index) => index));
	t.regex(stdout, /Ending tracing\.\.\.\n$/);
	t.deepEqual(topState(), before);
	t.deepEqual(leftovers(child.pid!), []);
});

test.serial('uprobe on libc malloc returns, buffered (-d), with --json records', async t => {
	if (!isRoot || !existsSync('/sys/kernel/tracing/uprobe_events')) {
		t.pass('needs root and uprobes');
		return;
	}

	const target = compileTarget();
	const before = topState();
	const pending = run('uprobe', ['--json', '-d', '2', 'r:libc:malloc ret=$retval']);
	await new Promise(resolve => setTimeout(resolve, 900));
	execFileSync(target, ['1']);
	const result = await pending;
	t.is(result.code, 0, result.stderr);
	const records = result.stdout.trim().split('\n').map(line => JSON.parse(line) as {kind: string; text?: string});
	t.is(records[0]?.kind, 'start');
	t.true(records.some(record => record.kind === 'line' && /malloc_ret: \(0x[\da-f]+ <- 0x[\da-f]+\) ret=0x/.test(record.text ?? '')), result.stdout.slice(0, 500));
	t.deepEqual(topState(), before);
	t.deepEqual(leftovers(result.pid), []);
});

test.serial('uprobe leaves its own process out: a probe on libc getppid lists a child\'s calls and none of its own', async t => {
	const {probeTrace} = await import('../src/probe-trace.js');
	const {ownThreads} = await import('../src/session.js');
	const before = topState();
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), 15_000);
	const pids: number[] = [];
	let childPid = -1;
	try {
		for await (const record of probeTrace('uprobe', {definition: 'p:libc:getppid', signal: controller.signal})) {
			if (record.kind === 'start') {
				// process.ppid calls getppid() here, in this thread.
				for (let i = 0; i < 50; i++) {
					t.true(process.ppid > 0);
				}

				childPid = spawnSync(process.execPath, ['-e', 'for (let i = 0; i < 5; i++) process.ppid']).pid;
			} else if (record.kind === 'line') {
				const pid = Number(/-(\d+) +\[\d+\]/.exec(record.text)?.[1]);
				pids.push(pid);
				if (pid === childPid) {
					controller.abort();
				}
			}
		}
	} finally {
		clearTimeout(timer);
	}

	t.true(pids.includes(childPid), `pids seen: ${pids.join(' ')}; child ${childPid}`);
	const own = new Set(ownThreads());
	t.deepEqual(pids.filter(pid => own.has(pid)), []);
	t.deepEqual(topState(), before);
	t.deepEqual(leftovers(process.pid), []);
});

test.serial('uprobe -H on this very process (asked for with -p): the header is read up to its first event while the probe floods the buffer; its own calls are listed', async t => {
	const {probeTrace} = await import('../src/probe-trace.js');
	const before = topState();
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), 15_000);
	const headers: string[] = [];
	const pids = new Set<number>();
	try {
		// Each read of trace mallocs in this process, which the probe records: the file grows as it is read.
		for await (const record of probeTrace('uprobe', {definition: 'r:libc:malloc', pid: process.pid, headers: true, signal: controller.signal})) {
			if (record.kind === 'line' && record.header) {
				headers.push(record.text);
			} else if (record.kind === 'line') {
				pids.add(Number(/-(\d+) +\[\d+\]/.exec(record.text)?.[1]));
				controller.abort();
			}
		}
	} finally {
		clearTimeout(timer);
	}

	t.regex(headers[0] ?? '', /^# tracer: nop$/);
	t.true(headers.some(line => /TASK-PID/.test(line)), headers.join('\n'));
	t.true(headers.every(line => line.startsWith('#')));
	t.true(pids.size > 0 && [...pids].every(pid => new Set(readdirSync('/proc/self/task').map(Number)).has(pid)), [...pids].join(' '));
	t.deepEqual(topState(), before);
	t.deepEqual(leftovers(process.pid), []);
});
