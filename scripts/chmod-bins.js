// tsc writes files without the execute bit; make every package bin runnable.
import {chmodSync, existsSync, readFileSync} from 'node:fs';

for (const name of ['tracefs', 'tools', 'tui']) {
	const manifest = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8'));
	for (const target of Object.values(manifest.bin ?? {})) {
		const path = `packages/${name}/${target}`;
		if (existsSync(path)) {
			chmodSync(path, 0o755);
		}
	}
}
