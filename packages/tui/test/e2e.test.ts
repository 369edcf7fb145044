/**
 * End to end in a real terminal: tmux runs the installed ftrace-tui, send-keys
 * drives it, capture-pane reads the screen, and the kernel's tracing state
 * (tracefs-state) must be the same afterwards. Needs root, tracefs, tmux.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {coreBindings} from '../src/bindings.js';

const repo = new URL('../../../../', import.meta.url).pathname;
const bin = join(repo, 'node_modules/.bin/ftrace-tui');
const stateTool = '/work/shared/tools/tracefs-state';
const runnable = process.getuid?.() === 0 && existsSync('/usr/bin/tmux') && existsSync(bin) && existsSync(stateTool)
	&& (existsSync('/sys/kernel/tracing/trace') || existsSync('/sys/kernel/debug/tracing/trace'));
const e2e = runnable ? test.serial : test.skip;

/**
 * The tracing state with other processes' ftrace_ts_<pid> objects left out
 * (other tests may run beside us); ours must be gone like everything else.
 */
function state(ours: number | undefined): string {
	const text = execFileSync(stateTool, {encoding: 'utf8'});
	const foreign = (name: string) => /^ftrace_ts_\d+/.test(name) && !name.startsWith(`ftrace_ts_${ours ?? -1}`);
	return text.split('\n')
		.filter(line => !(line.startsWith('[') && foreign(line.slice(1))))
		.map(line => line.replace(/^instances: (.*)$/, (_m, rest: string) => `instances: ${rest.split(' ').filter(name => name !== '' && !foreign(name)).join(' ')}`))
		.map(line => line.replace(/^(uprobe_events|kprobe_events|dynamic_events): (.*)$/, (_m, key: string, rest: string) =>
			`${key}: ${rest.split('|').filter(entry => entry !== '' && !foreign(entry.replace(/^[a-z]\d*:/, ''))).join('|')}`))
		.join('\n');
}

class Terminal {
	readonly socket = `ftrace_tui_e2e_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
	readonly dir = mkdtempSync(join(tmpdir(), 'ftrace-tui-e2e-'));

	tmux(...args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8'});
	}

	start(args: string): void {
		const pidFile = join(this.dir, 'pid');
		this.tmux('new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40',
			// A person's terminal, not CI: Ink renders only the last frame when CI is set.
			`sh -c 'echo $$ > ${pidFile}; exec env -u CI -u CONTINUOUS_INTEGRATION ${bin} ${args} 2>${join(this.dir, 'stderr')}'; echo TUI-EXIT=$?; sleep 120`);
	}

	get pid(): number | undefined {
		try {
			return Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
		} catch {
			return undefined;
		}
	}

	screen(): string {
		return this.tmux('capture-pane', '-p', '-t', 'e2e');
	}

	keys(...keys: string[]): void {
		this.tmux('send-keys', '-t', 'e2e', ...keys);
	}

	type(text: string): void {
		this.tmux('send-keys', '-t', 'e2e', '-l', text);
	}

	async waitFor(t: ExecutionContext, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
		const end = Date.now() + timeoutMs;
		let screen = '';
		while (Date.now() < end) {
			screen = this.screen();
			if (pattern.test(screen)) {
				return screen;
			}

			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => {
				setTimeout(resolve, 200);
			});
		}

		t.log(screen);
		try {
			t.log(`stderr: ${readFileSync(join(this.dir, 'stderr'), 'utf8')}`);
		} catch {}

		throw new Error(`timed out waiting for ${String(pattern)}`);
	}

	close(): void {
		try {
			this.tmux('kill-server');
		} catch {}

		rmSync(this.dir, {recursive: true, force: true});
	}
}

e2e('iosnoop on a loop device: rows appear, q quits, the tracing state is unchanged', async t => {
	t.true(coreBindings['iosnoop'] !== undefined && coreBindings['iosnoop'].replayOnly !== true, 'the live iosnoop core is bound');
	const before = state(undefined);
	const term = new Terminal();
	const image = join(term.dir, 'disk.img');
	execFileSync('truncate', ['-s', '64M', image]);
	const loop = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	t.teardown(() => {
		term.close();
		execFileSync('losetup', ['-d', loop]);
	});
	const minor = Number(execFileSync('stat', ['-c', '%T', loop], {encoding: 'utf8'}).trim());
	term.start('iosnoop');
	await term.waitFor(t, /iosnoop: block I\/O events with latency/);
	term.keys('Down');
	await term.waitFor(t, /› device/);
	const device = `7,${Number.parseInt(String(minor), 16)}`;
	term.type(device);
	await term.waitFor(t, new RegExp(`› device\\s+-d\\s+${device}▏`));
	await term.waitFor(t, /ready: ↵ to start/);
	term.keys('Enter');
	await term.waitFor(t, /iosnoop running · live/);
	execFileSync('dd', ['if=/dev/zero', `of=${loop}`, 'bs=4k', 'count=50', 'oflag=direct', 'status=none']);
	const screen = await term.waitFor(t, /dd\s+\d+\s+WS?\s+7,\d+\s+\d+\s+4096\s+\d+\.\d\d/);
	t.regex(screen, /COMM\s+PID\s+TYPE\s+DEV\s+BLOCK\s+BYTES\s+LATms/);
	const pid = term.pid;
	term.keys('q');
	await term.waitFor(t, /TUI-EXIT=0/);
	t.is(state(pid), before);
});

e2e('uprobe on libc getpid from the probe builder\'s syntax: events appear, Ctrl-C restores the state', async t => {
	const before = state(undefined);
	const term = new Terminal();
	t.teardown(() => term.close());
	term.start('uprobe');
	await term.waitFor(t, /uprobe: a user-level function call or return/);
	term.type('p:libc.so.6:getpid');
	await term.waitFor(t, /ready: ↵ to start/);
	term.keys('Enter');
	await term.waitFor(t, /uprobe running · live/);
	for (let i = 0; i < 3; i++) {
		execFileSync('python3', ['-c', 'import os; os.getpid()']);
	}

	// Short-lived processes may show as <...> (their comm was not saved): any call will do.
	await term.waitFor(t, /\d+\.\d{6}\s+\S+\s+\d+\s+\(0x[\da-f]+\)/);
	const pid = term.pid;
	t.not(state(pid), before);
	term.keys('C-c');
	await term.waitFor(t, /TUI-EXIT=0/);
	t.is(state(pid), before);
});

e2e('replay a shipped sample without touching the kernel, help overlay, quit', async t => {
	const before = state(undefined);
	const term = new Terminal();
	t.teardown(() => term.close());
	term.start(`--replay ${join(repo, 'packages/tui/samples/sched.trace')}`);
	await term.waitFor(t, /tpoint ended · replay/);
	t.regex(term.screen(), /sched_switch\s+prev_comm=/);
	t.notRegex(term.screen(), /sched_wakeup/);
	term.keys('?');
	await term.waitFor(t, /ftrace-tui keys/);
	term.keys('x');
	await term.waitFor(t, /\d+ rows · space pause/);
	term.keys('q');
	await term.waitFor(t, /TUI-EXIT=0/);
	t.is(state(term.pid), before);
});

test('--replay of a file that cannot be read: one line naming it, exit 2, before the UI starts', t => {
	for (const [path, reason] of [['/nonexistent/trace', 'ENOENT'], ['/tmp', 'EISDIR']] as const) {
		const result = spawnSync(bin, ['--replay', path], {encoding: 'utf8', timeout: 30_000});
		t.is(result.status, 2, result.stderr);
		t.is(result.stderr, `ftrace-tui: cannot read trace file ${path}: ${reason}: ${reason === 'ENOENT' ? 'no such file or directory' : 'illegal operation on a directory'}\n`);
		t.is(result.stdout, '');
	}
});
