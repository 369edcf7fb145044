/**
 * A replay split across threads (iosnoop-split.ts) prints exactly what one
 * thread prints: pieces of many sizes cut through requests that span many
 * pieces, sectors issued again before their completion, completions
 * without an issue, completions of 0 sectors (their bytes from the issue),
 * sectors beyond 2^30, several devices, rows too long for the row writer's
 * buffer, and each filter and column flag.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {replaySplit, splitPlan} from '../src/iosnoop-split.js';

const bin = resolve(fileURLToPath(import.meta.url), '../../src/bin/iosnoop.js');

const header = `# tracer: nop
#
#                              _-----=> irqs-off
#                             / _----=> need-resched
#                            | / _---=> hardirq/softirq
#                            || / _--=> preempt-depth
#                            ||| /     delay
#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION
#              | |       |   ||||       |         |
`;

/** A 3.x-format block trace (issue, insert, complete) with the awkward cases. */
function trace(lines: number): string {
	let seed = 7;
	const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296;
	const tasks = [['dd', 1234], ['kworker/u8:2', 211], ['my prog', 4242], ['jbd2/xvda1', 290]] as const;
	const devs = ['8,16', '202,1', '259,3'];
	const out: string[] = [];
	const flight: Array<{dev: string; sector: number; sectors: number; type: string}> = [];
	const done: typeof flight = [];
	let us = 5_000_000_000;
	const stamp = (): string => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
	while (out.length < lines) {
		us += 1 + Math.floor(random() * 40);
		const cpu = Math.floor(random() * 2);
		const roll = random();
		if (flight.length < 40 && (flight.length === 0 || roll < 0.5)) {
			const [comm, pid] = tasks[Math.floor(random() * tasks.length)]!;
			// Mostly fresh sectors; some reused (issued again before completing); some beyond 2^30.
			const reuse = flight.length > 0 && random() < 0.1 ? flight[Math.floor(random() * flight.length)]! : undefined;
			const request = reuse ?? {
				dev: devs[Math.floor(random() * devs.length)]!,
				sector: random() < 0.05 ? 2 ** 31 + Math.floor(random() * 1e6) : Math.floor(random() * 1e7) * 8,
				sectors: random() < 0.1 ? 0 : 8 * (1 + Math.floor(random() * 16)),
				// Now and then a type too long for a row of the fast row writer: such rows go out alone.
				type: random() < 0.003 ? `W${'S'.repeat(3000)}` : ['R', 'W', 'WS', 'RA'][Math.floor(random() * 4)]!,
			};
			const bytes = request.sectors === 0 ? 4096 : 0;
			const who = `${`${comm}-${pid}`.padStart(16)} [00${cpu}] d... ${stamp()}:`;
			out.push(`${who} block_rq_insert: ${request.dev} ${request.type} ${bytes} () ${request.sector} + ${request.sectors} [${comm}]`);
			us += 1;
			out.push(`${who} block_rq_issue: ${request.dev} ${request.type} ${bytes} () ${request.sector} + ${request.sectors} [${comm}]`);
			if (!reuse) {
				flight.push(request);
			}
		} else if (roll < 0.97) {
			// Completed in any order; the oldest stay in flight for a long time.
			const index = Math.floor(random() ** 0.5 * flight.length);
			const request = flight.splice(index, 1)[0]!;
			out.push(`          <idle>-0     [00${cpu}] d.h. ${stamp()}: block_rq_complete: ${request.dev} ${request.type} () ${request.sector} + ${request.sectors} [0]`);
			done.push(request);
		} else if (roll < 0.985 && done.length > 0) {
			// A sector completed once more, a while later: there is no issue for it
			// (an issue carried from an earlier piece and issued again since must not pair).
			const request = done[Math.floor(random() * done.length)]!;
			out.push(`          <idle>-0     [00${cpu}] d.h. ${stamp()}: block_rq_complete: ${request.dev} ${request.type} () ${request.sector} + ${request.sectors} [0]`);
		} else {
			// A completion whose issue was never traced.
			out.push(`          <idle>-0     [00${cpu}] d.h. ${stamp()}: block_rq_complete: 8,16 R () ${Math.floor(random() * 1e6) * 8 + 3} + 8 [0]`);
		}
	}

	return `${header}${out.join('\n')}\n`;
}

function iosnoop(file: string, args: string[], split: string): {status: number | null; stdout: string; stderr: string} {
	const result = spawnSync(process.execPath, [bin, ...args, '--replay', file], {encoding: 'utf8', env: {...process.env, FTRACE_TS_IOSNOOP_SPLIT: split}, maxBuffer: 1 << 28});
	return {status: result.status, stdout: result.stdout, stderr: result.stderr};
}

const dir = mkdtempSync(join(tmpdir(), 'iosnoop-split-'));
const file = join(dir, 'block.trace');
writeFileSync(file, trace(30_000));
test.after.always(() => {
	rmSync(dir, {recursive: true, force: true});
});

const flagSets = [[], ['-s', '-t'], ['-Q'], ['-d', '202,1'], ['-i', '*W*'], ['-p', '4242'], ['-n', '^k'], ['-Qst', '-d', '8,16']];

for (const args of flagSets) {
	test.serial(`split replay = one thread, byte for byte: iosnoop ${args.join(' ') || '(no flags)'}`, t => {
		const one = iosnoop(file, args, '0');
		t.is(one.status, 0, one.stderr);
		const rows = one.stdout.split('\n').length;
		t.true(rows > 200, `${rows} lines`);
		// Small pieces (a few requests each) for one set: each piece starts a replay of its own.
		for (const piece of args.length === 0 ? ['12000', '65536', '400000'] : ['65536', '400000']) {
			const split = iosnoop(file, args, piece);
			t.is(split.status, 0, split.stderr);
			t.is(split.stdout, one.stdout, `pieces of ${piece} bytes`);
		}
	});
}

test('the split is planned for a gapless text trace (forced piece size), and not for one with a gap', async t => {
	process.env['FTRACE_TS_IOSNOOP_SPLIT'] = '65536';
	try {
		t.deepEqual(await splitPlan(file), {pieceBytes: 65_536, threads: (await splitPlan(file))!.threads});
		const gapped = join(dir, 'gapped.trace');
		const text = trace(5000).split('\n');
		text.splice(2000, 0, 'CPU:1 [LOST 12 EVENTS]');
		writeFileSync(gapped, text.join('\n'));
		t.is(await splitPlan(gapped), undefined);
		t.is(await splitPlan(join(dir, 'missing')), undefined);
	} finally {
		delete process.env['FTRACE_TS_IOSNOOP_SPLIT'];
	}
});

test('replaySplit itself: the rows of a one-thread replay, through its write callback; a bad option fails before any thread starts', async t => {
	const one = iosnoop(file, [], '0');
	const chunks: Uint8Array[] = [];
	await replaySplit(file, {}, {showStart: false, showEnd: false}, {pieceBytes: 100_000, threads: 2}, bytes => chunks.push(bytes));
	// The rows: after the two header lines, up to the blank line before "Ending tracing...".
	const lines = one.stdout.split('\n');
	const rows = lines.slice(2, lines.indexOf('', 2));
	t.true(rows.length > 1000);
	t.is(Buffer.concat(chunks).toString('utf8'), `${rows.join('\n')}\n`);
	await t.throwsAsync(replaySplit(file, {iotype: 'x\ny'}, {showStart: false, showEnd: false}, {pieceBytes: 100_000, threads: 2}, () => undefined));
});
