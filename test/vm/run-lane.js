#!/usr/bin/env node
// The real-kernel lane: boots Debian's stock kernel under qemu (test/vm/lane.sh)
// with the built project (no build here: `npm test` runs `tsc -b` first) and
// runs test/vm/guest.js inside it against that kernel's tracefs. Streams the
// guest's output, ends with "N passed, N failed", exits non-zero on any failure.
//
//   node test/vm/run-lane.js [substring...]     only vm test files whose path contains one
//
// Env: LANE_TIMEOUT_S (whole guest run, default 900), LANE_DISK_MB (scratch
// NVMe disk, default 64), LANE_MEM_MB (default 2048), VMLANE_DIR (kernel and
// initramfs cache, default /tmp/vmlane), VMLANE_KEEP=1 (keep the run dir).
import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, closeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const timeoutS = Number(process.env.LANE_TIMEOUT_S ?? 900);
const diskMb = Number(process.env.LANE_DISK_MB ?? 64);
const memMb = Number(process.env.LANE_MEM_MB ?? 2048);
const started = Date.now();

function readJson(path) {
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch {
		return undefined;
	}
}

/** What the guest needs, relative to root: built output, package manifests, runtime dependencies. Never the 200+ MB of dev dependencies. */
function laneFiles() {
	const rootPackage = readJson(join(root, 'package.json')) ?? {};
	const list = new Set(['package.json', 'test/vm/guest.js', 'test/dist', 'test/fixtures']);
	const pending = [];
	const workspaceNames = [];
	for (const workspace of rootPackage.workspaces ?? []) {
		const manifest = readJson(join(root, workspace, 'package.json'));
		if (!manifest) {
			continue;
		}

		for (const part of ['package.json', 'dist', 'node_modules', 'test/fixtures']) {
			list.add(`${workspace}/${part}`);
		}

		if (manifest.name) {
			list.add(`node_modules/${manifest.name}`);
			workspaceNames.push(manifest.name);
		}

		pending.push(...Object.keys(manifest.dependencies ?? {}));
	}

	// Runtime dependencies, hoisted to the root node_modules, and theirs.
	const seen = new Set(workspaceNames);
	while (pending.length > 0) {
		const name = pending.pop();
		if (seen.has(name)) {
			continue;
		}

		seen.add(name);
		const dir = `node_modules/${name}`;
		const manifest = readJson(join(root, dir, 'package.json'));
		if (!manifest) {
			continue;
		}

		list.add(dir);
		pending.push(...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}));
	}

	return [...list].filter(path => existsSync(join(root, path)));
}

function hasVmTests() {
	const dirs = [join(root, 'test/dist/vm'), ...readdirSync(join(root, 'packages')).map(pkg => join(root, 'packages', pkg, 'dist/test/vm'))];
	return dirs.some(dir => existsSync(dir) && readdirSync(dir, {recursive: true}).some(file => String(file).endsWith('.vm.js')));
}

if (!hasVmTests()) {
	console.error('run-lane: no compiled vm tests (test/dist/vm/*.vm.js): run `npx tsc -b` first');
	console.log('0 passed, 1 failed');
	process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'ftrace-ts-lane-'));
const listFile = join(work, 'files');
const outFile = join(work, 'out');
writeFileSync(listFile, `${laneFiles().join('\n')}\n`);
writeFileSync(outFile, '');

const args = [
	join(root, 'test/vm/lane.sh'), '-C', root, '-t', String(timeoutS), '-m', String(memMb), '-D', String(diskMb),
	'-L', listFile, '-O', outFile, '-e', 'FORCE_COLOR=0', '-e', 'NO_COLOR=1', '--', 'node', 'test/vm/guest.js', ...process.argv.slice(2),
];
console.log(`run-lane: booting the lane kernel (timeout ${timeoutS}s, scratch disk ${diskMb} MiB)`);
const child = spawn('bash', args, {stdio: ['ignore', 'inherit', 'inherit']});

// Follow the guest's output as the serial port delivers it.
let offset = 0;
let text = '';
function drain() {
	const fd = openSync(outFile, 'r');
	try {
		const buffer = Buffer.alloc(65_536);
		for (;;) {
			const n = readSync(fd, buffer, 0, buffer.length, offset);
			if (n <= 0) {
				break;
			}

			offset += n;
			const chunk = buffer.subarray(0, n).toString('utf8').replaceAll('\r', '');
			text += chunk;
			process.stdout.write(chunk);
		}
	} finally {
		closeSync(fd);
	}
}

const timer = setInterval(drain, 250);
const forward = signal => () => child.kill(signal);
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));

const code = await new Promise(resolve => {
	child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
});
clearInterval(timer);
drain();
if (process.env.VMLANE_KEEP !== '1') {
	rmSync(work, {recursive: true, force: true});
}

const result = /LANE-RESULT passed=(\d+) failed=(\d+)/.exec(text);
let passed = result ? Number(result[1]) : 0;
let failed = result ? Number(result[2]) : 0;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (code === 124) {
	console.error(`run-lane: the guest did not finish within ${timeoutS}s (LANE_TIMEOUT_S)`);
} else if (code === 125 || !result) {
	console.error(`run-lane: the lane itself failed (exit ${code}): qemu-system-x86 and busybox-static installed? see the console tail above`);
}

if (code !== 0 && failed === 0) {
	failed = 1;
}

console.log(`run-lane: ${seconds}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
