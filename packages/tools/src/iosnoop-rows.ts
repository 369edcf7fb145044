/**
 * iosnoop's rows as the original printed them, written into large buffers:
 * shared by the CLI and the threads of a split replay.
 */
import {left, right} from './format-columns.js';
import {printedSeconds, type IosnoopRow} from './iosnoop.js';

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

/** A copy of `bytes` in memory of its own (never the shared pool), by memcpy (Buffer.from of a view copies element by element). */
function ownCopy(bytes: Buffer): Buffer {
	const copy = Buffer.allocUnsafeSlow(bytes.length);
	bytes.copy(copy);
	return copy;
}

/**
 * The original's rows, printf "%-12.12s %-6s %-4s %-8s %-12s %-6s %8s\n"
 * (after "%-15s " start and end times with -s, -t), written into a large
 * buffer without a string per row; stdout gets it when full or flushed.
 */
export class RowWriter {
	readonly #buffer = Buffer.allocUnsafe(1 << 16);
	#at = 0;

	/** `write` gets each full buffer: a copy in memory of its own (never pooled), which it may keep or transfer. */
	constructor(readonly showStart: boolean, readonly showEnd: boolean, readonly write: (bytes: Buffer) => void) {}

	row(row: IosnoopRow): void {
		if (this.#at > this.#buffer.length - 1024) {
			this.flush();
		}

		const from = this.#at;
		const latency = printedLatency(row);
		const ok = (!this.showStart || this.#seconds(row.startSeconds, row.startNanoseconds)) && (!this.showEnd || this.#seconds(row.endSeconds, row.endNanoseconds))
			&& this.#left(row.comm, 12, 12) && this.#leftNumber(row.pid, 6) && this.#left(row.rwbs, 4) && this.#dev(row.dev)
			&& this.#leftNumber(row.sector, 12) && this.#leftNumber(row.bytes, 6) && this.#latency(latency);
		if (!ok) {
			// Not ASCII, or values out of the common range: as text.
			this.#at = from;
			this.#text(rowText(row, this.showStart, this.showEnd, latency));
		}
	}

	flush(): void {
		if (this.#at > 0) {
			this.write(ownCopy(this.#buffer.subarray(0, this.#at)));
			this.#at = 0;
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

	/** printf "%-W.Ps " for ASCII text of up to 64 characters. */
	#left(text: string, width: number, precision = 64): boolean {
		if (text.length > 64) {
			return false;
		}

		const buffer = this.#buffer;
		let at = this.#at;
		const length = Math.min(text.length, precision);
		for (let i = 0; i < length; i++) {
			const code = text.charCodeAt(i);
			if (code > 127) {
				return false;
			}

			buffer[at++] = code;
		}

		for (let i = length; i < width; i++) {
			buffer[at++] = 32;
		}

		buffer[at++] = 32;
		this.#at = at;
		return true;
	}

	/** printf "%-Ws " for a non-negative safe integer. */
	#leftNumber(value: number, width: number): boolean {
		if (!Number.isSafeInteger(value) || value < 0) {
			return false;
		}

		this.#pad(this.#digits(value), width);
		return true;
	}

	/** DEV, "%-8s ": major,minor. */
	#dev(dev: number): boolean {
		if (!Number.isSafeInteger(dev) || dev < 0) {
			return false;
		}

		let length = this.#digits(Math.floor(dev / 1_048_576));
		this.#buffer[this.#at++] = 44;
		length += 1 + this.#digits(dev % 1_048_576);
		this.#pad(length, 8);
		return true;
	}

	/** STARTs or ENDs, "%-15s ": seconds as the kernel printed them. */
	#seconds(seconds: number, nanoseconds: number): boolean {
		if (!Number.isSafeInteger(seconds) || seconds < 0) {
			return false;
		}

		const length = this.#digits(seconds);
		const micros = Math.floor(nanoseconds / 1000);
		this.#buffer[this.#at++] = 46;
		for (let power = 100_000; power >= 1; power /= 10) {
			this.#buffer[this.#at++] = 48 + (Math.floor(micros / power) % 10);
		}

		this.#pad(length + 7, 15);
		return true;
	}

	/** Spaces after `length` characters up to `width`, then the column's space. */
	#pad(length: number, width: number): void {
		for (let i = length; i < width; i++) {
			this.#buffer[this.#at++] = 32;
		}

		this.#buffer[this.#at++] = 32;
	}

	/** printf "%8s\n" of printf "%.2f" of the latency, where rounding r * 100 is exact; false otherwise. */
	#latency(value: number): boolean {
		const scaled = value * 100;
		const fraction = scaled - Math.floor(scaled);
		// Away from ties, and small enough that scaling kept the side of the tie.
		if (!(Math.abs(value) < 1e7) || Math.abs(fraction - 0.5) < 1e-6 || Object.is(value, -0)) {
			return false;
		}

		const hundredths = Math.abs(Math.round(scaled));
		const negative = value < 0;
		const whole = Math.floor(hundredths / 100);
		let length = (negative ? 1 : 0) + 4;
		for (let power = 10; power <= whole; power *= 10) {
			length++;
		}

		for (let i = length; i < 8; i++) {
			this.#buffer[this.#at++] = 32;
		}

		if (negative) {
			this.#buffer[this.#at++] = 45;
		}

		this.#digits(whole);
		const cents = hundredths % 100;
		this.#buffer[this.#at++] = 46;
		this.#buffer[this.#at++] = 48 + Math.floor(cents / 10);
		this.#buffer[this.#at++] = 48 + (cents % 10);
		this.#buffer[this.#at++] = 10;
		return true;
	}

	/** The decimal digits of a non-negative safe integer; returns how many. */
	#digits(value: number): number {
		const buffer = this.#buffer;
		if (value < 10) {
			buffer[this.#at++] = 48 + value;
			return 1;
		}

		let length = 2;
		for (let power = 100; power <= value; power *= 10) {
			length++;
		}

		let at = this.#at + length;
		if (value < 2_147_483_648) {
			let rest = value | 0;
			while (rest > 0) {
				const tenth = (rest / 10) | 0;
				buffer[--at] = 48 + rest - (tenth * 10);
				rest = tenth;
			}
		} else {
			let rest = value;
			while (rest > 0) {
				buffer[--at] = 48 + (rest % 10);
				rest = Math.floor(rest / 10);
			}
		}

		this.#at += length;
		return length;
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

