// Tools I on the vm lane's kernel (Debian 6.1, with kprobe events): the
// kprobe mechanisms of opensnoop and execsnoop against known opens and
// execs, and nothing of the tool's left in the kernel afterwards.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import test from 'node:test';

const binDir = fileURLToPath(new URL('../../src/bin/', import.meta.url));
const tracing = '/sys/kernel/tracing';

function read(path: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch {
		return '';
	}
}

/** What a tool run owns in the kernel's global namespaces: instances and probe groups named after its PID. */
function ownedBy(pid: number): string[] {
	const mine = (text: string) => text.split(/\s+|\n/).filter(word => word.includes(`ftrace_ts_${pid}`));
	return [...mine(read(`${tracing}/kprobe_events`)), ...mine(read(`${tracing}/uprobe_events`)), ...readdirSync(`${tracing}/instances`).filter(name => name.includes(`ftrace_ts_${pid}`))];
}

function globalState(): string {
	return [read(`${tracing}/kprobe_events`), read(`${tracing}/uprobe_events`), readdirSync(`${tracing}/instances`).join(' '), read(`${tracing}/set_event`), read(`${tracing}/tracing_on`)].join('\n');
}

async function runTool(tool: string, args: string[], during: () => void | Promise<void>): Promise<{code: number | null; stdout: string; stderr: string; pid: number}> {
	const child = spawn(process.execPath, [`${binDir}${tool}.js`, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	const closed = new Promise<number | null>(resolve => child.on('close', code => resolve(code)));
	for (let i = 0; i < 600 && !/ARGS|FILE/.test(stdout) && child.exitCode === null; i++) {
		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => setTimeout(resolve, 100));
	}

	await during();
	const code = await closed;
	return {code, stdout, stderr, pid: child.pid!};
}

test('opensnoop: kprobe mechanism on this kernel shows real file names and results', async () => {
	const present = `/tmp/vm-opensnoop-${process.pid}-present`;
	const absent = `/tmp/vm-opensnoop-${process.pid}-absent`;
	writeFileSync(present, 'x');
	const before = globalState();
	const run = await runTool('opensnoop', ['-d', '8', `vm-opensnoop-${process.pid}`], () => {
		closeSync(openSync(present, 'r'));
		try {
			closeSync(openSync(absent, 'r'));
		} catch {}
	});
	console.log(`# opensnoop stderr: ${run.stderr.trim()}`);
	console.log(`# opensnoop stdout: ${run.stdout.trim().split('\n').join(' | ')}`);
	assert.equal(run.code, 0, run.stderr);
	assert.match(run.stderr, /kprobe on do_sys_open/);
	assert.match(run.stdout, new RegExp(`^node +${process.pid} +\\d+ ${present}$`, 'm'));
	assert.match(run.stdout, new RegExp(`^node +${process.pid} +-1 ${absent}$`, 'm'));
	assert.deepEqual(ownedBy(run.pid), []);
	assert.equal(globalState(), before);
});

test('execsnoop: kprobe mechanism reads argv at the execve syscall', async () => {
	const before = globalState();
	const run = await runTool('execsnoop', ['-d', '8', '-a', '4'], () => {
		spawnSync(process.execPath, ['-e', '0', 'vmArgOne', 'vmArgTwo'], {stdio: 'ignore'});
	});
	console.log(`# execsnoop stderr: ${run.stderr.trim()}`);
	const line = run.stdout.split('\n').find(text => text.includes('vmArgOne'));
	console.log(`# execsnoop row: ${line ?? '(none)'}`);
	assert.equal(run.code, 0, run.stderr);
	assert.match(run.stderr, /kprobes on __x64_sys_execve/);
	assert.ok(line, run.stdout);
	assert.match(line, new RegExp(`^ *\\d+ +${process.pid} \\S*node -e 0 vmArgOne vmArgTwo$`));
	assert.deepEqual(ownedBy(run.pid), []);
	assert.equal(globalState(), before);
});

test('opensnoop --mechanism uprobe works on this kernel too', async () => {
	const present = `/tmp/vm-opensnoop-u-${process.pid}`;
	writeFileSync(present, 'x');
	if (!existsSync(`${tracing}/uprobe_events`)) {
		return;
	}

	const run = await runTool('opensnoop', ['--mechanism', 'uprobe', '-d', '8', `vm-opensnoop-u-${process.pid}`], () => {
		closeSync(openSync(present, 'r'));
	});
	console.log(`# opensnoop uprobe: ${run.stderr.trim()} ${run.stdout.trim().split('\n').join(' | ')}`);
	assert.equal(run.code, 0, run.stderr);
	assert.match(run.stdout, new RegExp(`${present}$`, 'm'));
	assert.deepEqual(ownedBy(run.pid), []);
});
