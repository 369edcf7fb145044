// After the build: make every package bin executable (tsc writes plain files)
// and link it into node_modules/.bin, so `npx NAME` and node_modules/.bin/NAME
// work from the repo root. npm links workspace bins only when their targets
// exist at install time, which is before `prepare` has built them.
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync} from 'node:fs';
import {join, relative} from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const binDir = join(root, 'node_modules/.bin');
mkdirSync(binDir, {recursive: true});
for (const name of ['tracefs', 'tools', 'tui']) {
	const manifest = JSON.parse(readFileSync(join(root, `packages/${name}/package.json`), 'utf8'));
	for (const [command, target] of Object.entries(manifest.bin ?? {})) {
		const path = join(root, `packages/${name}`, target);
		if (!existsSync(path)) {
			continue;
		}

		chmodSync(path, 0o755);
		const link = join(binDir, command);
		const wanted = relative(binDir, path);
		let current;
		try {
			current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : undefined;
		} catch {}

		if (current !== wanted) {
			try {
				unlinkSync(link);
			} catch {}

			symlinkSync(wanted, link);
		}
	}
}
