import {execFile, spawnSync} from 'node:child_process';
import {appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync} from 'node:fs';
import {promisify} from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const T = '/sys/kernel/tracing';
const bin = new URL('../src/bin/reset-ftrace.js', import.meta.url).pathname;

async function resetFtrace(...args: string[]): Promise<{stdout: string; stderr: string; code: number}> {
	try {
		const {stdout, stderr} = await run('node', [bin, ...args]);
		return {stdout, stderr, code: 0};
	} catch (error) {
		const failed = error as {stdout: string; stderr: string; code: number};
		return {stdout: failed.stdout, stderr: failed.stderr, code: failed.code};
	}
}

function deadPid(): number {
	const child = spawnSync('true');
	return child.pid!;
}

const read = (file: string) => readFileSync(`${T}/${file}`, 'utf8');

test.serial('reclaims dead owners, resets the top instance, keeps other tracers unless -f', async t => {
	const dead = deadPid();
	const stale = `ftrace_ts_${dead}_iosnoop`;
	const foreign = `foreign_${process.pid}`;
	mkdirSync(`${T}/instances/${stale}`);
	mkdirSync(`${T}/instances/${foreign}`);
	appendFileSync(`${T}/uprobe_events`, `p:ftrace_ts_${dead}/stale_probe /bin/true:0x1000\n`);
	appendFileSync(`${T}/uprobe_events`, `p:uprobes/default_probe /bin/true:0x1000\n`);
	appendFileSync(`${T}/uprobe_events`, `p:foreign${process.pid}/kept_probe /bin/true:0x1000\n`);
	try {
		// Leave the top instance the way a killed perf-tools script would.
		writeFileSync(`${T}/events/sched/sched_switch/enable`, '1');
		writeFileSync(`${T}/events/sched/sched_switch/filter`, 'prev_pid == 1');
		appendFileSync(`${T}/events/sched/sched_wakeup/trigger`, 'stacktrace\n');
		writeFileSync(`${T}/options/record-tgid`, '1');
		writeFileSync(`${T}/tracing_on`, '0');

		const {stdout, code} = await resetFtrace();
		t.is(code, 0);
		t.regex(stdout, /^Reseting ftrace state\.\.\./);
		t.regex(stdout, /Done\.\n$/);
		t.regex(stdout, new RegExp(`removed instances/${stale}`));
		t.regex(stdout, new RegExp(`removed ftrace_ts_${dead}/stale_probe`));
		t.regex(stdout, /removed uprobes\/default_probe/);
		t.regex(stdout, new RegExp(`kept instances/${foreign}`));
		t.regex(stdout, /events\/sched\/sched_switch\/filter, before:\n {5}1\tprev_pid == 1\n/);

		t.false(existsSync(`${T}/instances/${stale}`));
		t.true(existsSync(`${T}/instances/${foreign}`), 'another tracer\'s instance is kept');
		const probes = read('uprobe_events');
		t.notRegex(probes, /stale_probe|default_probe/);
		t.regex(probes, /kept_probe/);
		t.is(read('events/sched/sched_switch/enable').trim(), '0');
		t.is(read('events/sched/sched_switch/filter').trim(), 'none');
		t.notRegex(read('events/sched/sched_wakeup/trigger'), /^stacktrace/m);
		t.is(read('options/record-tgid').trim(), '0');
		t.is(read('tracing_on').trim(), '1');

		const forced = await resetFtrace('-fq');
		t.is(forced.code, 0);
		t.is(forced.stdout, '', '-q says nothing');
		t.false(existsSync(`${T}/instances/${foreign}`));
		t.notRegex(read('uprobe_events'), /kept_probe/);
	} finally {
		for (const name of [stale, foreign]) {
			if (existsSync(`${T}/instances/${name}`)) {
				rmdirSync(`${T}/instances/${name}`);
			}
		}

		for (const line of read('uprobe_events').split('\n')) {
			const match = /^p:(\S+)/.exec(line);
			if (match && (match[1]!.startsWith(`ftrace_ts_${dead}/`) || match[1] === 'uprobes/default_probe' || match[1]!.startsWith('foreign'))) {
				appendFileSync(`${T}/uprobe_events`, `-:${match[1]!}\n`);
			}
		}
	}
});

test.serial('a running tool\'s instance is never touched', async t => {
	const mine = `ftrace_ts_${process.pid}_live`;
	mkdirSync(`${T}/instances/${mine}`);
	try {
		const {code} = await resetFtrace('-f', '-q');
		t.is(code, 0);
		t.true(existsSync(`${T}/instances/${mine}`));
	} finally {
		rmdirSync(`${T}/instances/${mine}`);
	}
});

const bad = test.macro({
	async exec(t, args: string[], message: RegExp) {
		const {code, stderr, stdout} = await resetFtrace(...args);
		t.is(code, 2);
		t.is(stdout, '');
		t.regex(stderr, message);
		t.is(stderr.trim().split('\n').length, 1, 'one line');
	},
	title: (_title, args: string[]) => `bad input: reset-ftrace ${args.join(' ')}`,
});
test.serial(bad, ['-x'], /unknown option -x/);
test.serial(bad, ['--frobnicate'], /unknown option --frobnicate/);
test.serial(bad, ['now'], /unexpected argument "now"/);
