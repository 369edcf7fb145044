/**
 * Records every tool core yields besides its own: the start of tracing
 * (with the mechanism chosen) and gaps of lost events. Plus field accessors
 * over decoded events.
 */
import type {FieldValue, InputEvent} from './trace-input.js';

/** Tracing has started: setup is done and the tool's header may be printed. */
export interface ToolStart {
	readonly type: 'start';
	/** live (trace_pipe), buffered (trace after a duration) or replay (a file). */
	readonly mode: 'live' | 'buffered' | 'replay';
	/** Which kernel mechanism supplies the data, eg "block:block_rq_issue -> block:block_rq_complete". */
	readonly mechanism: string;
	/** What the mechanism cannot see, when it has blind spots. */
	readonly limitation?: string | undefined;
}

/** The kernel dropped events here (count undefined: it did not say how many). */
export interface ToolLost {
	readonly type: 'lost';
	readonly count: number | undefined;
	readonly cpu?: number | undefined;
}

/**
 * Lost events as every CLI reports them: a line on stderr per gap
 * ("WARNING: N events lost (CPU c)"), and the total at the end
 * ("WARNING: N events lost in total", "N+" when a gap had no count).
 */
export class LostReport {
	#count = 0;
	#uncounted = false;

	/** Note a gap; returns its stderr line (with the newline). */
	gap(count: number | undefined, cpu?: number): string {
		if (count === undefined) {
			this.#uncounted = true;
		} else {
			this.#count += count;
		}

		return `WARNING: ${count ?? 'some'} events lost${cpu === undefined ? '' : ` (CPU ${cpu})`}\n`;
	}

	/** Whether any gap was noted. */
	get any(): boolean {
		return this.#count > 0 || this.#uncounted;
	}

	/** The closing stderr line, or '' when nothing was lost. */
	totalLine(): string {
		return this.any ? `WARNING: ${this.#count}${this.#uncounted ? '+' : ''} events lost in total\n` : '';
	}

	/** The total for JSON output: count, and whether some gaps were not counted (the count is then a minimum). */
	total(): {count: number; uncounted: boolean} {
		return {count: this.#count, uncounted: this.#uncounted};
	}
}

/** An integer field as a number (undefined when absent or not an integer). */
export function fieldNumber(record: InputEvent, name: string): number | undefined {
	const value: FieldValue | undefined = record.fields[name];
	if (typeof value === 'number') {
		return Number.isInteger(value) ? value : undefined;
	}

	if (typeof value === 'bigint') {
		return Number(value);
	}

	if (typeof value === 'string' && /^-?(?:0x[\da-f]+|\d+)$/i.test(value.trim())) {
		return Number(value.trim().startsWith('-') ? -BigInt(value.trim().slice(1)) : BigInt(value.trim()));
	}

	return undefined;
}

/** A string field (undefined when absent); numbers are given as text. */
export function fieldString(record: InputEvent, name: string): string | undefined {
	const value = record.fields[name];
	if (value === undefined) {
		return undefined;
	}

	if (Array.isArray(value)) {
		return String.fromCodePoint(...value.filter(code => code !== 0));
	}

	return String(value);
}

/** Seconds as the kernel prints them with its µs clocks: "7269912.982162". */
export function secondsText(ns: bigint): string {
	const micros = ns / 1000n;
	return `${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, '0')}`;
}

/** JSON for one record: bigints become strings. */
export function recordJson(record: object): string {
	return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
