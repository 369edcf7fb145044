// Run every benchmark (bench/dist/*.js with a default export `run()` that
// returns one line naming the peer and the ratio) and print its line. Each
// runs in a process of its own: what one leaves in the heap must not show
// in another's memory figures.
import {spawnSync} from 'node:child_process';
import {readdirSync} from 'node:fs';

const dir = new URL('dist/', import.meta.url);
const only = process.argv.slice(2);
let failed = 0;
const runOne = `
const module = await import(process.argv[1]);
if (typeof module.default === 'function') {
	try {
		console.log(await module.default());
	} catch (error) {
		console.log(process.argv[2] + ': failed: ' + (error instanceof Error ? error.message : String(error)));
		process.exitCode = 1;
	}
}`;
for (const file of readdirSync(dir).filter(name => name.endsWith('.js')).sort()) {
	if (only.length > 0 && !only.some(name => file.startsWith(name))) {
		continue;
	}

	const result = spawnSync(process.execPath, ['--input-type=module', '-e', runOne, new URL(file, dir).href, file.replace(/\.js$/, '')], {stdio: 'inherit'});
	if (result.status !== 0) {
		failed++;
	}
}

process.exitCode = failed > 0 ? 1 : 0;
