/**
 * Every installed bin runs through its own #! line (as `sudo funccount`
 * runs it, not as `node bin.js`): it starts and prints its usage for
 * --help and -h, as perf-tools prints it: the usage text from its first
 * line, "USAGE: name", with no package description above it and no indent. The tracing tools and the TUI use plain `#!/usr/bin/env node`
 * (BusyBox's env has no -S). The pipeline tools, stackcollapse-perf and
 * flamegraph, already need `env -S` for their node flags: they also drop
 * NODE_EXTRA_CA_CERTS, which node otherwise loads at start-up (~50 ms per
 * run here) though they make no TLS connection.
 */
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {accessSync, constants, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const repo = resolve(fileURLToPath(import.meta.url), '../../../../..');
const bins = ['tools', 'tui'].flatMap(name => {
	const manifest = JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8')) as {bin: Record<string, string>};
	return Object.entries(manifest.bin).map(([command, path]) => ({command, path: join(repo, 'packages', name, path)}));
});

// A CA file that cannot load: node warns about it at start-up when it reads the variable.
const env = {...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem'};

test('control: node itself warns about an unloadable NODE_EXTRA_CA_CERTS at start-up', t => {
	const result = spawnSync(process.execPath, ['-e', '0'], {env, encoding: 'utf8'});
	t.regex(result.stderr, /extra certs/);
});

for (const {command, path} of bins) {
	const pipeline = command === 'stackcollapse-perf' || command === 'flamegraph';
	test(`${command}: runs through its #! line and prints its usage for --help${pipeline ? ', without loading NODE_EXTRA_CA_CERTS' : ''}`, t => {
		t.regex(readFileSync(path, 'utf8').split('\n', 1)[0]!, pipeline ? /^#!\/usr\/bin\/env -S -u NODE_EXTRA_CA_CERTS node( --[\w-]+(=\S+)?)+$/ : /^#!\/usr\/bin\/env node$/);
		t.notThrows(() => accessSync(path, constants.X_OK));
		const result = spawnSync(path, ['--help'], {env: pipeline ? env : process.env, encoding: 'utf8', timeout: 30_000});
		t.is(result.status, 0, result.stderr);
		t.regex(result.stdout, new RegExp(`^USAGE: ${command} `));
		t.is(result.stderr, '');
		if (pipeline) {
			t.notRegex(result.stderr, /extra certs/);
		}

		const short = spawnSync(path, ['-h'], {encoding: 'utf8', timeout: 30_000});
		t.is(short.status, 0, short.stderr);
		t.is(short.stdout, result.stdout);
	});
}
