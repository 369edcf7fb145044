import {execFile, execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const bin = (name: string) => new URL(`../src/bin/${name}.js`, import.meta.url).pathname;

test.serial('tpoint -s --folded: kernel stacks of known I/O, folded for flamegraph, no perf', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-folded-'));
	const image = join(dir, 'disk.img');
	execFileSync('truncate', ['-s', '16M', image]);
	const device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	try {
		const minor = Number(readFileSync(`/sys/class/block/${device.slice(5)}/dev`, 'utf8').split(':')[1]);
		const tracing = run('node', [bin('tpoint'), '-s', '--folded', '-d', '3', 'block:block_rq_issue', `dev == ${(7 << 20) + minor}`]);
		await new Promise(resolve => setTimeout(resolve, 1500));
		for (let i = 0; i < 6; i++) {
			execFileSync('dd', ['if=/dev/zero', `of=${device}`, 'bs=4k', 'count=1', `seek=${i * 3}`, 'oflag=direct', 'status=none']);
		}

		const {stdout, stderr} = await tracing;
		t.regex(stderr, /^Tracing block:block_rq_issue stacks for 3 seconds/);
		const lines = stdout.trimEnd().split('\n');
		const total = lines.reduce((sum, line) => sum + Number(/ (\d+)$/.exec(line)?.[1] ?? Number.NaN), 0);
		t.is(total, 6, stdout);
		for (const line of lines) {
			t.regex(line, /^dd;entry_SYSCALL_64\w*;.*;vfs_write;.*;blk_mq_start_request;\w+ \d+$/, 'comm first, outermost to innermost');
		}

		const folded = join(dir, 'folded.txt');
		writeFileSync(folded, stdout);
		const {stdout: svg} = await run('node', [bin('flamegraph'), '--title', 'I/O issue stacks', folded]);
		t.regex(svg, /<svg /);
		t.regex(svg, /vfs_write/);
		t.regex(svg, /I\/O issue stacks/);
	} finally {
		execFileSync('losetup', ['-d', device]);
		rmSync(dir, {recursive: true, force: true});
	}
});

test.serial('tpoint --folded without -s is refused', async t => {
	const error = await t.throwsAsync(run('node', [bin('tpoint'), '--folded', 'block:block_rq_issue'])) as Error & {code: number; stderr: string};
	t.is(error.code, 2);
	t.regex(error.stderr, /^tpoint: --folded needs -s/);
});
