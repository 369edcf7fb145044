/**
 * Every installed bin runs through its own #! line (as `sudo funccount`
 * runs it, not as `node bin.js`): it starts and prints its usage for
 * --help and -h, as perf-tools prints it: the usage text from its first
 * line, "USAGE: name", with no package description above it and no indent.
 * The tools' commands (bundles, see scripts/bundle-bins.js) start as
 * `#!/bin/sh` scripts whose second line execs node without
 * NODE_EXTRA_CA_CERTS, which node otherwise loads at start-up (~50 ms per
 * run here) though they make no TLS connection; with the node flags the
 * pipeline tools need. They run so with BusyBox's sh and env too (whose env
 * has no -S). The TUI uses plain `#!/usr/bin/env node`.
 */
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {accessSync, constants, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const repo = resolve(fileURLToPath(import.meta.url), '../../../../..');
const bins = ['tools', 'tui'].flatMap(name => {
	const manifest = JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8')) as {bin: Record<string, string>};
	return Object.entries(manifest.bin).map(([command, path]) => ({command, path: join(repo, 'packages', name, path), tool: name === 'tools'}));
});

// A CA file that cannot load: node warns about it at start-up when it reads the variable.
const env = {...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem'};

test('control: node itself warns about an unloadable NODE_EXTRA_CA_CERTS at start-up', t => {
	const result = spawnSync(process.execPath, ['-e', '0'], {env, encoding: 'utf8'});
	t.regex(result.stderr, /extra certs/);
});

const pipelineFlags = ' --max-semi-space-size=1 --single-threaded';

for (const {command, path, tool} of bins) {
	const pipeline = command === 'stackcollapse-perf' || command === 'flamegraph';
	test(`${command}: runs through its #! line and prints its usage for --help${tool ? ', without loading NODE_EXTRA_CA_CERTS' : ''}`, t => {
		const [first, second] = readFileSync(path, 'utf8').split('\n', 2);
		if (tool) {
			t.is(first, '#!/bin/sh');
			t.is(second, `":" //; exec env -u NODE_EXTRA_CA_CERTS node${pipeline ? pipelineFlags : ''} "$0" "$@"`);
		} else {
			t.is(first, '#!/usr/bin/env node');
		}

		t.notThrows(() => accessSync(path, constants.X_OK));
		const result = spawnSync(path, ['--help'], {env: tool ? env : process.env, encoding: 'utf8', timeout: 30_000});
		t.is(result.status, 0, result.stderr);
		t.regex(result.stdout, new RegExp(`^USAGE: ${command} `));
		t.is(result.stderr, '');

		const short = spawnSync(path, ['-h'], {encoding: 'utf8', timeout: 30_000});
		t.is(short.status, 0, short.stderr);
		t.is(short.stdout, result.stdout);
	});
}

test('a command runs through BusyBox\'s sh and env, its arguments as given, without NODE_EXTRA_CA_CERTS', t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-busybox-'));
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	for (const applet of ['sh', 'env']) {
		symlinkSync('/bin/busybox', join(dir, applet));
	}

	t.is(spawnSync(join(dir, 'env'), ['--help'], {encoding: 'utf8'}).stderr.split('\n', 1)[0]!.startsWith('BusyBox'), true);
	const iosnoop = bins.find(bin => bin.command === 'iosnoop')!.path;
	// The #! line's /bin/sh is the system's: BusyBox's sh runs the script itself here, and its exec finds BusyBox's env first.
	const run = (...args: string[]) => spawnSync(join(dir, 'sh'), [iosnoop, ...args], {env: {...env, PATH: `${dir}:${process.env['PATH'] ?? ''}`}, encoding: 'utf8', timeout: 30_000});
	const bad = run('-d', 'x y');
	t.is(bad.stdout, '');
	t.is(bad.stderr, 'iosnoop: device must be "major,minor" (eg, "202,1"), got "x y"\n');
	t.is(bad.status, 2);
	const trace = join(dir, 'my trace');
	writeFileSync(trace, [
		'# tracer: nop',
		'              dd-1234  [000] d... 5.000000: block_rq_issue: 8,16 W 0 () 800 + 8 [dd]',
		'          <idle>-0     [000] d.h. 5.001250: block_rq_complete: 8,16 W () 800 + 8 [0]',
		'',
	].join('\n'));
	const good = run('--replay', trace);
	t.is(good.stderr, '');
	t.is(good.status, 0);
	t.true(good.stdout.includes('\ndd           1234   W    8,16     800          4096       1.25\n'), good.stdout);
});
