/**
 * The installed commands are bundles (scripts/bundle-bins.js): one file
 * each, loading nothing of ours at run time (only node's modules and,
 * lazily, meow), and the worker scripts they start are beside them. A
 * bundled iosnoop prints what the unbundled one prints, with each of its
 * threads forced on (the printing thread, the gap-counting thread, the
 * decoding threads, the split replay), which start those worker scripts.
 */
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Worker} from 'node:worker_threads';

const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {bin: Record<string, string>; files: string[]};
const bundled = (command: string): string => join(packageRoot, manifest.bin[command]!);

/** The modules a bundle loads: its static imports and its import() calls. */
function loads(code: string): string[] {
	const found = [
		...code.matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm),
		...code.matchAll(/^\s*export\s+[^'"]*?\s+from\s+["']([^"']+)["']/gm),
		...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
	];
	return found.map(match => match[1]!);
}

test('control: the import finder sees static, re-exported and dynamic imports', t => {
	t.deepEqual(loads('import {a} from "./a.js";\nimport "b";\nexport {c} from \'../c.js\';\nconst d = await import("d");'), ['./a.js', 'b', '../c.js', 'd']);
});

for (const command of Object.keys(manifest.bin)) {
	test(`${command}: one file that loads only node's modules and meow`, t => {
		const path = bundled(command);
		t.regex(path, /\/dist\/bundle\/[\w-]+\.js$/);
		const imports = loads(readFileSync(path, 'utf8'));
		t.true(imports.length > 0);
		t.deepEqual(imports.filter(name => !name.startsWith('node:') && name !== 'meow'), []);
	});
}

test('the package ships every command it installs (its files hold the bundles)', t => {
	for (const [command, target] of Object.entries(manifest.bin)) {
		const path = target.replace(/^\.\//, '');
		t.true(manifest.files.some(entry => path === entry || path.startsWith(`${entry.replace(/\/$/, '')}/`)), `${command}: ${target} is not in files ${JSON.stringify(manifest.files)}`);
	}
});

test('every worker script a bundle starts is beside it', t => {
	const dir = dirname(bundled('iosnoop'));
	const started = new Set<string>();
	for (const file of readdirSync(dir)) {
		for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g)) {
			started.add(match[1]!);
		}
	}

	t.deepEqual([...started].sort(), ['gap-lines-worker.js', 'iosnoop-rows-worker.js', 'iosnoop-split-worker.js', 'text-worker.js']);
	for (const name of started) {
		t.true(existsSync(join(dir, name)), name);
	}
});

test('bundled iosnoop prints what the unbundled one prints, with each of its threads forced on; each thread needs its worker script beside the bundle', t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-bundle-'));
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	const lines = ['# tracer: nop', '#'];
	for (let i = 0; i < 20_000; i++) {
		const us = 1_000_000 + (i * 7);
		const stamp = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
		const sector = (i >> 1) * 8;
		lines.push(i % 2 === 0
			? `              dd-${1000 + (i % 7)}  [001] d... ${stamp}: block_rq_issue: 8,16 W 0 () ${sector} + 8 [dd]`
			: `          <idle>-0     [000] d.h. ${stamp}: block_rq_complete: 8,16 W () ${sector} + 8 [0]`);
	}

	const file = join(dir, 'block.trace');
	writeFileSync(file, `${lines.join('\n')}\n`);
	const run = (bin: string, env: Record<string, string>) => spawnSync(process.execPath, [bin, '--replay', file], {env: {...process.env, ...env}, encoding: 'utf8', timeout: 60_000});
	const expected = run(join(packageRoot, 'dist/src/bin/iosnoop.js'), {});
	t.is(expected.status, 0, expected.stderr);
	t.is(expected.stdout.split('\n').filter(line => line.startsWith('dd ')).length, 10_000);
	t.is(run(bundled('iosnoop'), {}).stdout, expected.stdout);

	// Each thread forced on, and the worker script it starts.
	const modes: Array<[string, Record<string, string>]> = [
		['iosnoop-rows-worker.js', {FTRACE_TS_IOSNOOP_ROWS_THREAD: '1', FTRACE_TS_IOSNOOP_SPLIT: '0'}],
		// (Without its script the count fails and iosnoop holds every row to the end: the same output. See below.)
		['gap-lines-worker.js', {FTRACE_TS_GAPS_THREAD: '1', FTRACE_TS_GAPS_HOLD_ROWS: '1', FTRACE_TS_IOSNOOP_SPLIT: '0'}],
		['text-worker.js', {FTRACE_TS_REPLAY_WORKERS: '2', FTRACE_TS_REPLAY_SEGMENT: '65536', FTRACE_TS_IOSNOOP_SPLIT: '0'}],
		['iosnoop-split-worker.js', {FTRACE_TS_IOSNOOP_SPLIT: '100000'}],
	];
	for (const [worker, env] of modes) {
		const result = run(bundled('iosnoop'), env);
		t.is(result.status, 0, `${worker}: ${result.stderr}`);
		t.is(result.stdout, expected.stdout, worker);
		t.is(result.stderr, expected.stderr, worker);

		if (worker === 'gap-lines-worker.js') {
			continue;
		}

		// Control: the same bundles without that worker script fail, naming it.
		const copy = join(dir, worker);
		cpSync(dirname(bundled('iosnoop')), copy, {recursive: true});
		rmSync(join(copy, worker));
		const without = run(join(copy, 'iosnoop.js'), env);
		t.not(without.status, 0, worker);
		t.true(without.stderr.includes(join(copy, worker)), `${worker}: ${without.stderr}`);
	}
});

test('the bundled gap-counting worker script counts the gap lines of a file', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-bundle-'));
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	const file = join(dir, 'gaps.trace');
	writeFileSync(file, [
		'# tracer: nop',
		'          <idle>-0     [000] d.h. 1.000001: block_rq_complete: 8,16 W () 8 + 8 [0]',
		'##### CPU 1 buffer started ####',
		'CPU:0 [LOST 12 EVENTS]',
		'          <idle>-0     [000] d.h. 1.000002: block_rq_complete: 8,16 W () 16 + 8 [0]',
		'',
	].join('\n'));
	const worker = new Worker(join(dirname(bundled('iosnoop')), 'gap-lines-worker.js'), {workerData: file});
	const reply = await new Promise(resolve => worker.once('message', resolve));
	await worker.terminate();
	t.deepEqual(reply, {count: 2});
});
