/**
 * tui-startup bench: time to the first frame of ftrace-tui (in a pseudo
 * terminal from script(1), until the banner is drawn; then q quits it) and a
 * tool CLI's start-up (`iosnoop --help`, `choose-tracer --help`), as medians,
 * against a bash perf-tools script's start-up (`iosnoop -h`) in the same run.
 * The perf-tools script is read from the mirror into a temp dir (nothing is
 * copied into the repo); without the mirror (CI) a tiny bash usage printer
 * stands in, and the line says so. Ours run as installed bins do, through
 * their #! lines. It also checks that a tool CLI loads
 * neither Ink nor React (a resolve hook reports every module specifier).
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const toolsBin = join(root, 'packages/tools/dist/bundle');
const tuiBin = join(root, 'packages/tui/dist/src/bin/ftrace-tui.js');
const mirror = '/work/.mirror/brendangregg+perf-tools/repo';
const runs = 7;

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall-clock ms of a command run to its end. */
function timeCommand(command: string, args: readonly string[]): number {
	const start = process.hrtime.bigint();
	const result = spawnSync(command, args, {stdio: ['ignore', 'pipe', 'pipe']});
	if (result.status !== 0 && result.status !== 1) {
		throw new Error(`${command} ${args.join(' ')} exited ${String(result.status)}: ${result.stderr.toString().slice(0, 200)}`);
	}

	return Number(process.hrtime.bigint() - start) / 1e6;
}

/** ms until ftrace-tui has drawn its banner in a pseudo terminal. */
async function timeFirstFrame(): Promise<number> {
	return new Promise((resolvePromise, reject) => {
		const start = process.hrtime.bigint();
		// The banner is in the first frame (before the kernel is probed).
		const child = spawn('script', ['-qfec', `${tuiBin} --samples`, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, TERM: 'xterm-256color', COLUMNS: '100', LINES: '40'}});
		let output = '';
		let done = false;
		const timer = setTimeout(() => finish(new Error('no first frame within 20 s')), 20_000);
		function finish(error?: Error, ms?: number) {
			if (done) {
				return;
			}

			done = true;
			clearTimeout(timer);
			child.stdin.write('q');
			setTimeout(() => child.kill('SIGTERM'), 3000).unref();
			child.on('exit', () => (error ? reject(error) : resolvePromise(ms!)));
		}

		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes('ftrace-tui: Linux ftrace')) {
				finish(undefined, Number(process.hrtime.bigint() - start) / 1e6);
			}
		});
		child.on('error', error => finish(error));
	});
}

/** The module specifiers a CLI resolves that name ink or react. */
function uiModulesLoaded(dir: string, bin: string, args: readonly string[]): string[] {
	const hooks = join(dir, 'hooks.mjs');
	writeFileSync(hooks, `export async function resolve(specifier, context, next) {
	if (/^(ink|react)(\\/|$)|ink-testing-library|@ftrace-ts\\/tui/.test(specifier)) process.stderr.write('UI-MODULE ' + specifier + '\\n');
	return next(specifier, context);
}\n`);
	const register = join(dir, 'register.mjs');
	writeFileSync(register, `import {register} from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
	const result = spawnSync(process.execPath, ['--import', `file://${register}`, bin, ...args], {encoding: 'utf8'});
	return [...result.stderr.matchAll(/^UI-MODULE (.*)$/gm)].map(match => match[1]!);
}

export default async function run(): Promise<string> {
	const dir = mkdtempSync(join(tmpdir(), 'tui-startup-'));
	try {
		let baseline = 'perf-tools iosnoop -h (bash)';
		const script = join(dir, 'iosnoop');
		try {
			writeFileSync(script, execFileSync('git', ['--git-dir', mirror, 'show', 'HEAD:iosnoop']));
		} catch {
			baseline = 'a stand-in bash usage printer (perf-tools mirror missing)';
			writeFileSync(script, '#!/bin/bash\nfunction usage {\n\tcat <<-END >&2\n\tUSAGE: iosnoop [-hQst] [-d device] [-i iotype] [-p PID] [-n name] [duration]\n\tEND\n\texit\n}\nwhile getopts hQst opt; do usage; done\n');
		}

		const iosnoop = join(toolsBin, 'iosnoop.js');
		const chooseTracer = join(toolsBin, 'choose-tracer.js');
		const bash: number[] = [];
		const cliIosnoop: number[] = [];
		const cliChoose: number[] = [];
		const frames: number[] = [];
		for (let i = 0; i < runs; i++) {
			bash.push(timeCommand('bash', [script, '-h']));
			cliIosnoop.push(timeCommand(iosnoop, ['--help']));
			cliChoose.push(timeCommand(chooseTracer, ['--help']));
			// eslint-disable-next-line no-await-in-loop
			frames.push(await timeFirstFrame());
		}

		const ui = [...uiModulesLoaded(dir, iosnoop, ['--help']), ...uiModulesLoaded(dir, chooseTracer, ['--help'])];
		const base = median(bash);
		const ms = (value: number) => `${value.toFixed(0)} ms`;
		const ratio = (value: number) => `${(value / base).toFixed(1)}x`;
		return `tui-startup: ftrace-tui first frame ${ms(median(frames))} (${ratio(median(frames))}), iosnoop --help ${ms(median(cliIosnoop))} (${ratio(median(cliIosnoop))}), choose-tracer --help ${ms(median(cliChoose))} (${ratio(median(cliChoose))}) vs ${baseline} ${ms(base)}; medians of ${runs}; tool CLIs load Ink/React: ${ui.length === 0 ? 'no' : `YES (${[...new Set(ui)].join(', ')})`}`;
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
