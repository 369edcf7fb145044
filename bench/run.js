// Run every benchmark (bench/dist/*.js with a default export `run()` that
// returns one line naming the peer and the ratio) and print its line.
import {readdirSync} from 'node:fs';

const dir = new URL('dist/', import.meta.url);
const only = process.argv.slice(2);
let failed = 0;
for (const file of readdirSync(dir).filter(name => name.endsWith('.js')).sort()) {
	if (only.length > 0 && !only.some(name => file.startsWith(name))) {
		continue;
	}

	const module = await import(new URL(file, dir).href);
	if (typeof module.default !== 'function') {
		continue;
	}

	try {
		console.log(await module.default());
	} catch (error) {
		failed++;
		console.log(`${file.replace(/\.js$/, '')}: failed: ${error instanceof Error ? error.message : String(error)}`);
	}
}

process.exitCode = failed > 0 ? 1 : 0;
