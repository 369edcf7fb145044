/**
 * iosnoop's rows as the original printed them, written into large buffers:
 * shared by the CLI and the threads of a split replay.
 */
import {left, right} from './format-columns.js';
import type {IosnoopRow} from './iosnoop.js';

/** Seconds as the kernel prints them with its µs clocks ("7269912.982162"; secondsText without BigInt). */
export function printedSeconds(seconds: number, nanoseconds: number): string {
	const micros = Math.floor(nanoseconds / 1000);
	return `${seconds}.${micros >= 100_000 ? micros : String(micros).padStart(6, '0')}`;
}

/**
 * C's printf("%.2f"): the double's exact value rounded to 2 decimals, ties
 * to even. toFixed differs only on exact ties (values k/8 with k odd, as
 * 1.125), which it rounds away from zero.
 */
function printf2f(value: number): string {
	const eighths = Math.abs(value) * 8;
	if (!Number.isInteger(eighths) || eighths % 2 === 0 || eighths > 2 ** 48) {
		return Object.is(value, -0) ? '-0.00' : value.toFixed(2);
	}

	// |value| * 100 is exactly k + 0.5 here: the even neighbour.
	const below = Math.floor(Math.abs(value) * 100);
	const hundredths = below % 2 === 0 ? below : below + 1;
	const text = `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
	return value < 0 ? `-${text}` : text;
}

/**
 * LATms as the original computed it: from the printed seconds, as awk
 * reads them (the nearest doubles, which micros / 1e6 are), in floating point.
 */
function printedLatency(row: IosnoopRow): number {
	const start = (row.startSeconds * 1e6) + Math.floor(row.startNanoseconds / 1000);
	const end = (row.endSeconds * 1e6) + Math.floor(row.endNanoseconds / 1000);
	return 1000 * ((end / 1e6) - (start / 1e6));
}

/** The size of a RowWriter's buffer. */
const bufferBytes = 1 << 16;

/** A copy of `bytes` in memory of its own (never the shared pool), by memcpy (Buffer.from of a view copies element by element). */
function ownCopy(bytes: Buffer): Buffer {
	const copy = Buffer.allocUnsafeSlow(bytes.length);
	bytes.copy(copy);
	return copy;
}

/** The decimal digits of a non-negative safe integer at `at`; returns where they end. */
function putDigits(buffer: Buffer, at: number, value: number): number {
	if (value < 2_147_483_648) {
		// Counted by comparisons, written from the last.
		let rest = value | 0;
		const end = at + (rest < 10 ? 1 : rest < 100 ? 2 : rest < 1000 ? 3 : rest < 10_000 ? 4 : rest < 100_000 ? 5
			: rest < 1_000_000 ? 6 : rest < 10_000_000 ? 7 : rest < 100_000_000 ? 8 : rest < 1_000_000_000 ? 9 : 10);
		let to = end;
		do {
			const tenth = (rest / 10) | 0;
			buffer[--to] = 48 + rest - (tenth * 10);
			rest = tenth;
		} while (rest > 0);

		return end;
	}

	let end = at + 10;
	for (let power = 1e10; power <= value; power *= 10) {
		end++;
	}

	let to = end;
	let rest = value;
	while (rest > 0) {
		buffer[--to] = 48 + (rest % 10);
		rest = Math.floor(rest / 10);
	}

	return end;
}

/** Spaces from `at` up to column `from + width`, then the column's space; returns where they end. */
function putPad(buffer: Buffer, from: number, at: number, width: number): number {
	let to = at;
	for (const end = from + width; to < end; to++) {
		buffer[to] = 32;
	}

	buffer[to] = 32;
	return to + 1;
}

/** printf "%-W.Ps " of ASCII text of up to 64 characters at `at`; returns where it ends, -1 for other text. */
function putLeft(buffer: Buffer, at: number, text: string, width: number, precision: number): number {
	if (text.length > 64) {
		return -1;
	}

	const length = Math.min(text.length, precision);
	for (let i = 0; i < length; i++) {
		const code = text.charCodeAt(i);
		if (code > 127) {
			return -1;
		}

		buffer[at + i] = code;
	}

	return putPad(buffer, at, at + length, width);
}

/** printf "%-Ws " of a non-negative safe integer at `at`; returns where it ends, -1 for other values. */
function putLeftNumber(buffer: Buffer, at: number, value: number, width: number): number {
	if (!Number.isSafeInteger(value) || value < 0) {
		return -1;
	}

	return putPad(buffer, at, putDigits(buffer, at, value), width);
}

/** STARTs or ENDs, "%-15s ": seconds as the kernel printed them; -1 for values out of range. */
function putSeconds(buffer: Buffer, at: number, seconds: number, nanoseconds: number): number {
	if (!Number.isSafeInteger(seconds) || seconds < 0) {
		return -1;
	}

	let to = putDigits(buffer, at, seconds);
	// Integer arithmetic (a double's % is a call to fmod).
	let micros = Math.floor(nanoseconds / 1000) | 0;
	buffer[to] = 46;
	for (let i = 6; i >= 1; i--) {
		const tenth = (micros / 10) | 0;
		buffer[to + i] = 48 + micros - (tenth * 10);
		micros = tenth;
	}

	return putPad(buffer, at, to + 7, 15);
}

/**
 * printf "%8s\n" of printf "%.2f" of the latency at `at`, where rounding
 * r * 100 is exact; returns where it ends, -1 otherwise.
 */
function putLatency(buffer: Buffer, at: number, value: number): number {
	const scaled = value * 100;
	const fraction = scaled - Math.floor(scaled);
	// Away from ties, and small enough that scaling kept the side of the tie.
	if (!(Math.abs(value) < 1e7) || Math.abs(fraction - 0.5) < 1e-6 || Object.is(value, -0)) {
		return -1;
	}

	// Under 10^9: integer arithmetic (a double's % is a call to fmod).
	const hundredths = Math.abs(Math.round(scaled)) | 0;
	const negative = value < 0;
	const whole = (hundredths / 100) | 0;
	let length = (negative ? 1 : 0) + 4;
	for (let power = 10; power <= whole; power *= 10) {
		length++;
	}

	let to = at;
	for (let i = length; i < 8; i++) {
		buffer[to++] = 32;
	}

	if (negative) {
		buffer[to++] = 45;
	}

	to = putDigits(buffer, to, whole);
	const cents = hundredths - (whole * 100);
	const tens = (cents / 10) | 0;
	buffer[to] = 46;
	buffer[to + 1] = 48 + tens;
	buffer[to + 2] = 48 + cents - (tens * 10);
	buffer[to + 3] = 10;
	return to + 4;
}

/**
 * The original's rows, printf "%-12.12s %-6s %-4s %-8s %-12s %-6s %8s\n"
 * (after "%-15s " start and end times with -s, -t), written into a large
 * buffer without a string per row; stdout gets it when full or flushed.
 */
export class RowWriter {
	#buffer = Buffer.allocUnsafeSlow(bufferBytes);
	#at = 0;

	/**
	 * `write` gets each full buffer, in memory of its own (never pooled),
	 * which it may keep or transfer; it returns true when it is done with
	 * the bytes (written out), and the writer then fills the same memory
	 * again (hot in cache, no new pages).
	 */
	constructor(readonly showStart: boolean, readonly showEnd: boolean, readonly write: (bytes: Buffer) => boolean | void) {}

	row(row: IosnoopRow): void {
		if (this.#at > this.#buffer.length - 1024) {
			this.flush();
		}

		// Each column at once after the last (a row is at most 1024 bytes: every text is
		// at most 64 characters, every number at most 16 digits); -1 once one cannot be.
		const buffer = this.#buffer;
		const latency = printedLatency(row);
		let at = this.#at;
		if (this.showStart) {
			at = putSeconds(buffer, at, row.startSeconds, row.startNanoseconds);
		}

		if (this.showEnd && at !== -1) {
			at = putSeconds(buffer, at, row.endSeconds, row.endNanoseconds);
		}

		if (at !== -1) {
			at = putLeft(buffer, at, row.comm, 12, 12);
		}

		if (at !== -1) {
			at = putLeftNumber(buffer, at, row.pid, 6);
		}

		if (at !== -1) {
			at = putLeft(buffer, at, row.rwbs, 4, 64);
		}

		const {dev} = row;
		if (at !== -1 && Number.isSafeInteger(dev) && dev >= 0) {
			// DEV, "%-8s ": major,minor.
			const from = at;
			// Under 2^32 (a kernel's dev_t) by bit operations (a double's % is a call to fmod).
			const small = dev < 4_294_967_296;
			at = putDigits(buffer, at, small ? dev >>> 20 : Math.floor(dev / 1_048_576));
			buffer[at++] = 44;
			at = putPad(buffer, from, putDigits(buffer, at, small ? dev & 1_048_575 : dev % 1_048_576), 8);
		} else {
			at = -1;
		}

		if (at !== -1) {
			at = putLeftNumber(buffer, at, row.sector, 12);
		}

		if (at !== -1) {
			at = putLeftNumber(buffer, at, row.bytes, 6);
		}

		if (at !== -1) {
			at = putLatency(buffer, at, latency);
		}

		if (at === -1) {
			// Not ASCII, or values out of the common range: as text.
			this.#text(rowText(row, this.showStart, this.showEnd, latency));
		} else {
			this.#at = at;
		}
	}

	flush(): void {
		if (this.#at === 0) {
			return;
		}

		const full = this.#at >= bufferBytes / 2;
		const bytes = full ? this.#buffer.subarray(0, this.#at) : ownCopy(this.#buffer.subarray(0, this.#at));
		this.#at = 0;
		// A short buffer is copied (kept, its memory would be mostly unused); a full one goes as it is.
		if (this.write(bytes) !== true && full) {
			this.#buffer = Buffer.allocUnsafeSlow(bufferBytes);
		}
	}

	#text(line: string): void {
		const bytes = Buffer.from(`${line}\n`);
		if (bytes.length > this.#buffer.length - this.#at) {
			this.flush();
			// Buffer.from may have used the shared pool.
			this.write(ownCopy(bytes));
			return;
		}

		this.#at += bytes.copy(this.#buffer, this.#at);
	}
}

/** A row as text (the general case of RowWriter.row). */
function rowText(row: IosnoopRow, showStart: boolean, showEnd: boolean, latency: number): string {
	let line = '';
	if (showStart) {
		line += `${left(printedSeconds(row.startSeconds, row.startNanoseconds), 15)} `;
	}

	if (showEnd) {
		line += `${left(printedSeconds(row.endSeconds, row.endNanoseconds), 15)} `;
	}

	const dev = `${Math.floor(row.dev / 1_048_576)},${row.dev % 1_048_576}`;
	return `${line}${left(row.comm, 12, 12)} ${left(row.pid, 6)} ${left(row.rwbs, 4)} ${left(dev, 8)} ${left(row.sector, 12)} ${left(row.bytes, 6)} ${right(printf2f(latency), 8)}`;
}

