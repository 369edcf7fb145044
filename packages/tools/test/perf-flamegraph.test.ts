import test from 'ava';
import {execFile} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {perfFlamegraph, isPerfAvailable} from '../src/perf-flamegraph.js';

const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const fixtures = join(packageRoot, 'test/fixtures');
const bin = join(packageRoot, 'dist/src/bin/perf-flamegraph.js');
const fakePerf = join(fixtures, 'fake-perf/perf');
const script = join(fixtures, 'perf/dd-cpu-clock.script');

interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
	return new Promise((done) => {
		execFile(process.execPath, [bin, ...args], {encoding: 'utf8', cwd, env: {...process.env, ...env}}, (error, stdout, stderr) => {
			done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr});
		});
	});
}

test.serial('core: record args, folded output and SVG (fake perf)', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'pfg-'));
	process.env['FAKE_PERF_SCRIPT'] = script;
	process.env['FAKE_PERF_LOG'] = join(dir, 'log');
	try {
		const result = await perfFlamegraph({perf: fakePerf, command: ['dd', 'if=/dev/zero'], frequency: 999, flamegraph: {hash: true}});
		t.regex(readFileSync(join(dir, 'log'), 'utf8'), /^record -F 999 -g -e cpu-clock -o \S+perf\.data -- dd if=\/dev\/zero\n$/);
		t.is(result.folded, readFileSync(join(fixtures, 'perf/expected/dd-cpu-clock.default.folded'), 'latin1'));
		t.true(result.ok);
		t.true(result.frames > 10);
		t.regex(result.svg, /^<\?xml/);
	} finally {
		delete process.env['FAKE_PERF_SCRIPT'];
		delete process.env['FAKE_PERF_LOG'];
		rmSync(dir, {recursive: true, force: true});
	}
});

test('core: missing perf is a clear error', async (t) => {
	await t.throwsAsync(perfFlamegraph({perf: '/nonexistent/perf', duration: 1}), {message: /perf not found: install it \(Debian: apt-get install linux-perf/});
	t.false(isPerfAvailable('/nonexistent/perf'));
});

test('core: needs a command or a duration', async (t) => {
	await t.throwsAsync(perfFlamegraph({perf: fakePerf}), {instanceOf: RangeError});
});

test('CLI: -d with fake perf writes the SVG and folded file', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'pfg-cli-'));
	try {
		const result = await runCli(['-d', '2', '-a', '--all', '-o', 'out.svg', '--folded', 'out.folded'], {PATH: `${join(fixtures, 'fake-perf')}:${process.env['PATH'] ?? ''}`, FAKE_PERF_SCRIPT: script, FAKE_PERF_LOG: join(dir, 'log')}, dir);
		t.is(result.code, 0, result.stderr);
		t.regex(readFileSync(join(dir, 'log'), 'utf8'), /-a -- sleep 2/);
		t.is(readFileSync(join(dir, 'out.folded'), 'latin1'), readFileSync(join(fixtures, 'perf/expected/dd-cpu-clock.all.folded'), 'latin1'));
		t.true(readFileSync(join(dir, 'out.svg'), 'utf8').includes('<g id="frames">'));
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('CLI: no perf on PATH: one line, exit 1', async (t) => {
	const result = await runCli(['-d', '1', '-o', '-'], {PATH: '/nonexistent'});
	t.is(result.code, 1);
	t.regex(result.stderr, /^perf-flamegraph: perf not found: install it/m);
	t.is(result.stderr.trimEnd().split('\n').filter((line) => line.startsWith('perf-flamegraph:')).length, 1);
});

const usageError = test.macro({
	async exec(t, args: string[], message: RegExp) {
		const result = await runCli(args);
		t.is(result.code, 2);
		t.regex(result.stderr, message);
		t.is(result.stderr.trimEnd().split('\n').length, 1);
	},
	title: (_, args: string[]) => `CLI usage error: ${args.join(' ') || '(none)'}`,
});

test(usageError, [], /give a command after -- or a duration/);
test(usageError, ['-d', 'soon'], /--duration soon: expected a positive number/);
test(usageError, ['--frobnicate'], /unknown option --frobnicate/);
test(usageError, ['sleep', '1'], /put the command after --/);

// The real thing, where perf works (it is installed on the dev VM and in CI).
test('real perf: profiles dd into an SVG', async (t) => {
	if (!isPerfAvailable()) {
		t.log('perf is not installed here: only the fake-perf tests ran');
		t.pass();
		return;
	}
	const dir = mkdtempSync(join(tmpdir(), 'pfg-real-'));
	try {
		const result = await runCli(['-F', '499', '-o', join(dir, 'dd.svg'), '--', 'dd', 'if=/dev/zero', 'of=/dev/null', 'count=300000']);
		t.is(result.code, 0, result.stderr);
		t.true(existsSync(join(dir, 'dd.svg')));
		t.regex(readFileSync(join(dir, 'dd.svg'), 'utf8'), /<title>dd \(/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
