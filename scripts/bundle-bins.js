// After tsc: bundle each of the tools' commands into one file
// (packages/tools/dist/bundle/NAME.js, the package's bin targets), so that
// a command starts without node's ES module loader resolving, reading and
// linking some fifty modules (about 20 to 40 ms less per start). The
// bundles are built from tsc's output (dist/src/bin/NAME.js), which the
// tests also run. The worker scripts the code starts are found next to the
// code that starts them (new URL('NAME-worker.js', import.meta.url)), so
// every worker script of tools and tracefs is bundled beside the commands;
// the build fails if a bundle names a worker that is not there. meow stays
// outside (loaded from node_modules, only for the flags node's parseArgs
// refuses), and so would Ink and React (the tools must not load them: the
// bundles test and the tui-startup bench would see them).
//
// Each command's #! line becomes a /bin/sh line that runs node without
// NODE_EXTRA_CA_CERTS (with the node flags the source's #! line gives):
// node loads that file at start-up, ~50 ms, and the tools make no TLS
// connection. The second line is a no-op for sh before its exec, and a
// string statement and a comment for JavaScript. env -S is not used:
// BusyBox's env has no -S (it has -u).
import {existsSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {basename, join} from 'node:path';
import {build} from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const tools = join(root, 'packages/tools');
const outdir = join(tools, 'dist/bundle');
const manifest = JSON.parse(readFileSync(join(tools, 'package.json'), 'utf8'));

const entryPoints = {};
for (const [command, target] of Object.entries(manifest.bin)) {
	if (target !== `./dist/bundle/${command}.js`) {
		throw new Error(`bundle-bins: bin ${command} should be ./dist/bundle/${command}.js, not ${target}`);
	}

	entryPoints[command] = join(tools, 'dist/src/bin', `${command}.js`);
}

for (const dir of ['packages/tools/dist/src', 'packages/tracefs/dist/src']) {
	for (const file of readdirSync(join(root, dir))) {
		if (file.endsWith('-worker.js')) {
			const name = basename(file, '.js');
			if (entryPoints[name]) {
				throw new Error(`bundle-bins: two scripts named ${file}`);
			}

			entryPoints[name] = join(root, dir, file);
		}
	}
}

rmSync(outdir, {recursive: true, force: true});
await build({
	entryPoints,
	outdir,
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	external: ['meow', 'ink', 'react'],
	logLevel: 'warning',
});

// Each worker a bundle starts must be beside it.
for (const file of readdirSync(outdir)) {
	const code = readFileSync(join(outdir, file), 'utf8');
	for (const match of code.matchAll(/new URL\(\s*["'`]([^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g)) {
		if (!existsSync(join(outdir, match[1]))) {
			throw new Error(`bundle-bins: ${file} starts ${match[1]}, which is not bundled`);
		}
	}
}

/** The sh lines that start a bundle whose source's #! line is `line`. */
function startLines(line) {
	const match = /^#!\/usr\/bin\/env (?:node|-S (?:-u NODE_EXTRA_CA_CERTS )?node((?: --[\w-]+(?:=[\w.-]+)?)+))$/.exec(line);
	if (!match) {
		throw new Error(`bundle-bins: cannot rewrite the #! line ${JSON.stringify(line)}`);
	}

	return `#!/bin/sh\n":" //; exec env -u NODE_EXTRA_CA_CERTS node${match[1] ?? ''} "$0" "$@"`;
}

for (const command of Object.keys(manifest.bin)) {
	const path = join(outdir, `${command}.js`);
	const code = readFileSync(path, 'utf8');
	const end = code.indexOf('\n');
	writeFileSync(path, `${startLines(code.slice(0, end))}${code.slice(end)}`);
}
