/**
 * The replay progress line: drawn on a terminal's stderr only, after a
 * second of quiet, at most five times a second, erased before any other
 * output and at the end; and live, from a replay under a pseudo-terminal.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {ProgressLine} from '../src/progress-line.js';
import {replayProgress} from '../src/replay-progress.js';

const erase = '\r\u001B[K';

/** A stream that keeps what is written to it. */
function fakeStream(isTTY: boolean, columns = 80): NodeJS.WriteStream & {readonly text: () => string} {
	const written: string[] = [];
	return {
		isTTY,
		columns,
		write(chunk: string | Uint8Array) {
			written.push(String(chunk));
			return true;
		},
		text: () => written.join(''),
	} as unknown as NodeJS.WriteStream & {readonly text: () => string};
}

test('drawn after a second of quiet, at most every 200 ms, erased before other output and at the end', t => {
	let now = 0;
	const terminal = fakeStream(true);
	const out = fakeStream(true);
	const line = ProgressLine.start('iolatency', {terminal, out, now: () => now})!;
	t.truthy(line);
	const report = replayProgress('/tmp/x.trace')!;
	t.truthy(report, 'reports while a line watches');
	now = 500;
	report(10e6, 200e6);
	t.is(terminal.text(), '', 'not within the first second');
	now = 1000;
	report(50e6, 200e6);
	t.is(terminal.text(), `${erase}iolatency: replaying /tmp/x.trace: 25% (50 of 200 MB)`);
	now = 1100;
	report(60e6, 200e6);
	t.false(terminal.text().includes('30%'), 'at most every 200 ms');
	// Output to the terminal erases the line first, and the quiet starts again.
	out.write('row\n');
	t.is(out.text(), 'row\n');
	t.true(terminal.text().endsWith(`(50 of 200 MB)${erase}`));
	now = 1500;
	report(100e6, 200e6);
	t.false(terminal.text().includes('50%'), 'not within a second of output');
	now = 2100;
	report(150e6, 200e6);
	t.true(terminal.text().endsWith('75% (150 of 200 MB)'));
	line.stop();
	t.true(terminal.text().endsWith(erase), 'erased at the end');
	t.is(replayProgress('/tmp/x.trace'), undefined, 'nobody watches once stopped');
	out.write('after\n');
	t.is(terminal.text().split(erase).length, 5, 'writes are no longer wrapped');
});

test('nothing on a stderr that is not a terminal; stdout that is not a terminal does not count as output; long lines cut to the width', t => {
	t.is(ProgressLine.start('iosnoop', {terminal: fakeStream(false), out: fakeStream(true), now: () => 0}), undefined);
	let now = 0;
	const terminal = fakeStream(true, 40);
	const out = fakeStream(false);
	const line = ProgressLine.start('iosnoop', {terminal, out, now: () => now})!;
	now = 1000;
	out.write('rows to a file\n');
	replayProgress('/a/very/long/path/to/a/trace/file.trace')!(1, 3);
	t.is(terminal.text(), `${erase}${'iosnoop: replaying /a/very/long/path/to/a/trace/file.trace'.slice(0, 39)}`);
	line.stop();
});

test('live: a replay under a pseudo-terminal draws its progress and erases it; with stderr not a terminal, stderr stays empty', t => {
	const dir = mkdtempSync(join(tmpdir(), 'progress-line-'));
	try {
		const path = join(dir, 'trace');
		const fixture = readFileSync(new URL('../../test/fixtures/tools/iosnoop-3.16.trace', import.meta.url), 'utf8');
		const lines = fixture.split('\n').filter(text => text.includes(': block_rq_')).join('\n');
		// Several 1 MiB read chunks.
		writeFileSync(path, `${Array.from({length: Math.ceil((6 << 20) / lines.length)}, () => lines).join('\n')}\n`);
		const bin = resolve(fileURLToPath(import.meta.url), '../../src/bin/tpoint.js');
		const command = `${process.execPath} ${bin} --replay ${path} block:block_rq_issue -p 1`;
		const env = {...process.env, FTRACE_TS_PROGRESS_AFTER_MS: '0'};
		const pty = spawnSync('script', ['-qec', command, '/dev/null'], {encoding: 'utf8', env});
		t.is(pty.status, 0, pty.stderr);
		t.regex(pty.stdout, /tpoint: replaying \S+trace: \d+% \([\d.]+ of 6\.\d MB\)/);
		// Erased before "Ending tracing..." and the end.
		t.regex(pty.stdout, /\r\u001B\[K\r?\n?Ending tracing\.\.\./);
		const piped = spawnSync(process.execPath, [bin, '--replay', path, 'block:block_rq_issue', '-p', '1'], {encoding: 'utf8', env});
		t.is(piped.status, 0, piped.stderr);
		t.is(piped.stderr, '');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
