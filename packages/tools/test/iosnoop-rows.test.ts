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
	const writer = new RowWriter(false, false, bytes => parts.push(bytes));
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
