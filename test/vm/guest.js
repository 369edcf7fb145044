#!/usr/bin/env node
// The guest side of the real-kernel lane: runs inside the qemu guest (see
// run-lane.js). Mounts tracefs, finds the compiled vm suite, runs it with
// node:test (one process per file, one file at a time: the tests share the
// kernel's global tracing state), prints the spec report and a closing
// machine-readable line for run-lane.js. Exits 1 on any failure.
//
//   node test/vm/guest.js [substring...]   run only files whose path contains one
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {join, relative} from 'node:path';
import {run} from 'node:test';
import {spec} from 'node:test/reporters';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const tracing = '/sys/kernel/tracing';
const fileTimeoutMs = Number(process.env.LANE_FILE_TIMEOUT_MS ?? 240_000);

if (!existsSync(`${tracing}/trace`)) {
	execFileSync('mount', ['-t', 'tracefs', 'nodev', tracing]);
}

/** Every *.vm.js under dir, recursively, sorted. */
function findVmTests(dir) {
	if (!existsSync(dir)) {
		return [];
	}

	const found = [];
	for (const entry of readdirSync(dir).sort()) {
		const path = join(dir, entry);
		if (statSync(path).isDirectory()) {
			found.push(...findVmTests(path));
		} else if (entry.endsWith('.vm.js')) {
			found.push(path);
		}
	}

	return found;
}

const dirs = [join(root, 'test/dist/vm')];
for (const pkg of existsSync(join(root, 'packages')) ? readdirSync(join(root, 'packages')).sort() : []) {
	dirs.push(join(root, 'packages', pkg, 'dist/test/vm'));
}

const filters = process.argv.slice(2);
const files = dirs.flatMap(dir => findVmTests(dir)).filter(file => filters.length === 0 || filters.some(filter => file.includes(filter)));
console.log(`guest: kernel ${execFileSync('uname', ['-r'], {encoding: 'utf8'}).trim()}, ${files.length} vm test file(s)`);
for (const file of files) {
	console.log(`guest:   ${relative(root, file)}`);
}

let passed = 0;
let failed = 0;
const stream = run({files, concurrency: 1, timeout: fileTimeoutMs});
stream.on('test:pass', data => {
	if (data.nesting === 0 && !data.skip) {
		passed++;
	}
});
stream.on('test:fail', data => {
	if (data.nesting === 0) {
		failed++;
	}
});
const report = stream.compose(spec);
report.pipe(process.stdout);
await new Promise(resolve => {
	report.on('end', resolve);
});
if (files.length === 0) {
	console.log('guest: no vm test files found (did `tsc -b` run?)');
	failed++;
}

console.log(`LANE-RESULT passed=${passed} failed=${failed}`);
process.exitCode = failed > 0 ? 1 : 0;
