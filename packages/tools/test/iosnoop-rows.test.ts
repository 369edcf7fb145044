/**
 * iosnoop's row writer: its bytes are the original's printf
 * "%-12.12s %-6s %-4s %-8s %-12s %-6s %8s\n" of each value, over every
 * magnitude the number columns take.
 */
import test from 'ava';
import {RowWriter} from '../src/iosnoop-rows.js';
import type {IosnoopRow} from '../src/iosnoop.js';

function written(rows: readonly IosnoopRow[]): string {
	const parts: Buffer[] = [];
	const writer = new RowWriter(false, false, bytes => {
		parts.push(bytes);
	});
	for (const row of rows) {
		writer.row(row);
	}

	writer.flush();
	return Buffer.concat(parts).toString('latin1');
}

test('numbers of every length print as printf prints them, and rows stay in their columns', t => {
	const values = [0, 1, 9, 10, 99, 100];
	for (let power = 1000; power <= 2 ** 53; power *= 10) {
		values.push(power - 1, power, power + 1);
	}

	values.push(2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32, 2 ** 53 - 1);
	const rows = values.map((value, i): IosnoopRow => ({
		comm: `c${i}`, pid: value, rwbs: 'W', dev: (202 * 1_048_576) + (value % 1_048_576), sector: value, bytes: value,
		startSeconds: 100, startNanoseconds: 0, endSeconds: 100, endNanoseconds: 1_500_000,
	}));
	const pad = (text: string, width: number) => text.padEnd(width);
	const expected = rows.map(row => `${pad(row.comm, 12)} ${pad(String(row.pid), 6)} ${pad(row.rwbs, 4)} ${pad(`202,${row.dev % 1_048_576}`, 8)} ${pad(String(row.sector), 12)} ${pad(String(row.bytes), 6)} ${'1.50'.padStart(8)}\n`);
	t.is(written(rows), expected.join(''));
});

test('a writer done with its bytes gets the same memory again; one that keeps them keeps them intact', t => {
	const rows = Array.from({length: 5000}, (_, i): IosnoopRow => ({
		comm: `task${i}`, pid: i, rwbs: 'R', dev: (8 * 1_048_576) + 16, sector: i * 8, bytes: 4096,
		startSeconds: 100, startNanoseconds: 0, endSeconds: 100, endNanoseconds: 2_000_000,
	}));
	const expected = rows.map(row => `${row.comm.padEnd(12)} ${String(row.pid).padEnd(6)} R    8,16     ${String(row.sector).padEnd(12)} 4096   ${'2.00'.padStart(8)}\n`).join('');

	const texts: string[] = [];
	const memory = new Set<ArrayBufferLike>();
	const done = new RowWriter(false, false, bytes => {
		texts.push(bytes.toString('latin1'));
		memory.add(bytes.buffer);
		return true;
	});
	const kept: Buffer[] = [];
	const keeping = new RowWriter(false, false, bytes => {
		kept.push(bytes);
	});
	for (const [i, row] of rows.entries()) {
		done.row(row);
		keeping.row(row);
		if (i === 4321) {
			// A short flush: a copy, the buffer stays.
			done.flush();
			keeping.flush();
		}
	}

	done.flush();
	keeping.flush();
	t.true(texts.length > 3);
	// One buffer filled again and again, and the short flush's copy.
	t.is(memory.size, 2);
	t.is(texts.join(''), expected);
	t.is(Buffer.concat(kept).toString('latin1'), expected);
	t.is(new Set(kept.map(bytes => bytes.buffer)).size, kept.length);
});

test('DEV, LATms and the -s/-t times at every magnitude print as printf prints them', t => {
	let seed = 99;
	const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296;
	const devs = [0, 1, (2 ** 20) - 1, 2 ** 20, (2 ** 31) - 1, 2 ** 31, (2 ** 32) - 1, 2 ** 32, (2 ** 32) + (2 ** 20) + 3, (2 ** 40) + 7];
	const seconds = [0, 1, 99, 123_456_789, (2 ** 31) + 5, 2 ** 40];
	const rows: IosnoopRow[] = [];
	for (let i = 0; i < 20_000; i++) {
		const startSeconds = seconds[i % seconds.length]!;
		// Latencies from 0 to ~10^8 ms, either sign.
		const span = Math.floor(random() * (10 ** Math.floor(random() * 12)));
		const startMicros = Math.floor(random() * 1e6);
		const endTotal = (startSeconds * 1e6) + startMicros + (random() < 0.1 ? -span : span);
		if (endTotal < 0) {
			continue;
		}

		rows.push({
			comm: 'dd', pid: i, rwbs: 'W', dev: devs[i % devs.length]!, sector: i, bytes: 512,
			startSeconds, startNanoseconds: (startMicros * 1000) + (i % 1000),
			endSeconds: Math.floor(endTotal / 1e6), endNanoseconds: ((endTotal % 1e6) * 1000) + 999,
		});
	}

	const micros = (s: number, ns: number): number => (s * 1e6) + Math.floor(ns / 1000);
	const time = (s: number, ns: number): string => `${s}.${String(Math.floor(ns / 1000)).padStart(6, '0')}`.padEnd(15);
	const expected: string[] = [];
	const printed: IosnoopRow[] = [];
	for (const row of rows) {
		const latency = 1000 * ((micros(row.endSeconds, row.endNanoseconds) / 1e6) - (micros(row.startSeconds, row.startNanoseconds) / 1e6));
		// Exact ties (k/8, k odd) are the printf2f test's; toFixed rounds them otherwise.
		if (Number.isInteger(latency * 8) && (latency * 8) % 2 !== 0) {
			continue;
		}

		printed.push(row);
		const dev = `${Math.floor(row.dev / (2 ** 20))},${row.dev % (2 ** 20)}`;
		expected.push(`${time(row.startSeconds, row.startNanoseconds)} ${time(row.endSeconds, row.endNanoseconds)} dd           ${String(row.pid).padEnd(6)} W    ${dev.padEnd(8)} ${String(row.sector).padEnd(12)} 512    ${(Object.is(latency, -0) ? 0 : latency).toFixed(2).padStart(8)}\n`);
	}

	const parts: Buffer[] = [];
	const writer = new RowWriter(true, true, bytes => {
		parts.push(bytes);
	});
	for (const row of printed) {
		writer.row(row);
	}

	writer.flush();
	t.true(printed.length > 15_000);
	const lines = Buffer.concat(parts).toString('latin1').split(/(?<=\n)/);
	t.is(lines.length, expected.length);
	for (const [i, line] of lines.entries()) {
		if (line !== expected[i]) {
			t.is(line, expected[i]!);
			return;
		}
	}

	t.pass();
});
