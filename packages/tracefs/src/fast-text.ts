/**
 * The text reader's fast path, for long recorded traces. Fields still come
 * by name from each event's print fmt: a print fmt made only of integer and
 * string conversions between literal separators is compiled to a scanner
 * that finds the separators with indexOf (backtracking over string
 * conversions exactly as the general decoder's regular expression would,
 * within a small budget) and reads integers from the character codes. The
 * line prefix (comm-pid, tgid, [cpu], flags, timestamp, event name) is read
 * in place, without a regular expression or a copy of the line.
 *
 * Every line it cannot decode exactly as the general reader would (other
 * conversions, prefixes it is unsure of, syscall events, stack traces,
 * comments, lost-events markers, formats still to load) goes to the general
 * reader, so the records are the same in every case.
 */
import {createReadStream} from 'node:fs';
import {StringDecoder} from 'node:string_decoder';
import {TracefsError, errnoCode} from './errors.js';
import type {EventFormat} from './format.js';
import type {FormatCache} from './format-cache.js';
import type {BodyDecoder, DecodedFields, FieldPlan} from './print-format.js';
import {decodeBody, parseTraceLine, TraceTextDecoder, type TextReaderOptions} from './text-reader.js';
import type {FieldValue, TraceEvent, TraceRecord} from './trace-record.js';

// Capture groups of the general decoder's pattern that the scanner reproduces.
const intCapture = ' *(-?\\d+)';
const lazyCapture = '(.*?)';
const restCapture = '(.*)';

const kindInt = 0;
const kindLazy = 1;
const kindRest = 2;

const takeInt = 0;
const takeText = 1;
const takePlan = 2;

/** String conversions may try this many positions of their separator per body before the scanner gives up (the general decoder then decides). */
const stepBudget = 64;

/** Backslash-s of JavaScript regular expressions. */
function isSpace(code: number): boolean {
	return code === 32 || (code >= 9 && code <= 13) || code === 0xA0 || code === 0x16_80 || (code >= 0x20_00 && code <= 0x20_0A)
		|| code === 0x20_28 || code === 0x20_29 || code === 0x20_2F || code === 0x20_5F || code === 0x30_00 || code === 0xFE_FF;
}

function isDigit(code: number): boolean {
	return code >= 48 && code <= 57;
}

/** [.a-zA-Z0-9]: a character of the irq-info flags column. */
function isFlag(code: number): boolean {
	return code === 46 || isDigit(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** What "." of a regular expression does not match. */
function hasLineTerminator(text: string, start: number, end: number): boolean {
	for (let i = start; i < end; i++) {
		const code = text.charCodeAt(i);
		if (code === 10 || code === 13 || code === 0x20_28 || code === 0x20_29) {
			return true;
		}
	}

	return false;
}

/** The character code at `i`, or -1 from `end` on (reads past a string's end make optimized code slow). */
function codeAt(text: string, i: number, end: number): number {
	return i < end ? text.charCodeAt(i) : -1;
}

/** Whether `text` holds `codes` at `at` (short literals: cheaper than startsWith). */
function holds(text: string, at: number, codes: Uint16Array): boolean {
	if (at + codes.length > text.length) {
		return false;
	}

	for (let i = 0; i < codes.length; i++) {
		if (text.charCodeAt(at + i) !== codes[i]) {
			return false;
		}
	}

	return true;
}

function codesOf(text: string): Uint16Array {
	return Uint16Array.from({length: text.length}, (_, i) => text.charCodeAt(i));
}

/** A non-negative decimal integer of at most 15 digits (exact as a double). */
function digitsValue(text: string, start: number, end: number): number {
	let value = 0;
	for (let i = start; i < end; i++) {
		value = (value * 10) + text.charCodeAt(i) - 48;
	}

	return value;
}

/** Widths of the irq-info flags column, in the order the general decoder's regex tries them (none last). */
const flagWidths = [5, 4, 0] as const;

const powersOfTen = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/**
 * A print fmt compiled to a scanner. scan() answers as the general
 * decoder's regular expression would (1 match, 0 no match) or -1 when it
 * cannot tell cheaply; after a match, fields() decodes them from the texts
 * found, by name, with the general decoder's own rules for anything but
 * plain integers and strings.
 */
class BodyScanner {
	readonly format: EventFormat;
	readonly #literals: Uint16Array[];
	readonly #kinds: number[];
	readonly #count: number;
	readonly #plans: readonly FieldPlan[];
	readonly #takes: number[];
	/** Per plan: the conversion it reads (direct plans) and the field's size and sign. */
	readonly #slots: number[];
	/** Per plan, for signed fields of up to 4 bytes: 2^bits (values from 2^(bits-1) on are negative); else 0. */
	readonly #ranges: number[];
	/** Start and end of each conversion's text in the last body scanned. */
	readonly #bounds: Int32Array;
	/** Captured texts for the general rules (only the slots a plan reads are filled). */
	readonly #texts: string[];
	/** Per plan printed in two integer parts (dev as major,minor): values by the two numbers. */
	readonly #pairs: Array<Map<number, FieldValue> | undefined>;
	/** Builds the fields object from the values in plan order. */
	readonly #make: ((values: FieldValue[]) => DecodedFields) | undefined;
	readonly #values: FieldValue[];
	#steps = 0;
	readonly #needed: string;
	readonly #neededCount: number;

	constructor(decoder: BodyDecoder, kinds: number[]) {
		this.format = decoder.format;
		this.#literals = decoder.literals.map(literal => codesOf(literal));
		this.#kinds = kinds;
		this.#count = kinds.length;
		this.#plans = decoder.fields;
		this.#bounds = new Int32Array(Math.max(1, kinds.length * 2));
		this.#texts = Array.from({length: kinds.length}, () => '');
		this.#pairs = [];
		const counts = new Map<string, number>();
		for (const literal of decoder.literals) {
			for (const character of literal) {
				counts.set(character, (counts.get(character) ?? 0) + 1);
			}
		}

		const [needed, count] = [...counts].filter(([character]) => character !== ' ').sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
		this.#needed = count >= 2 ? needed : '';
		this.#neededCount = count;
		this.#values = decoder.fields.map(() => 0);
		this.#make = fieldsMaker(decoder.fields.map(plan => plan.name));
		this.#takes = [];
		this.#slots = [];
		this.#ranges = [];
		for (const plan of decoder.fields) {
			const slot = plan.conversions[0]!;
			const conversion = decoder.conversions[slot]!;
			const {field} = plan;
			let take = takePlan;
			if (plan.direct && (conversion.conv === 's' || conversion.conv === 'c' || field.isString)) {
				take = takeText;
			} else if (plan.direct && kinds[slot] === kindInt && 'diu'.includes(conversion.conv) && field.arrayLength === undefined
				&& (field.size === 1 || field.size === 2 || field.size === 4 || field.size === 8)) {
				take = takeInt;
			}

			const pair = !plan.direct && plan.conversions.length === 2 && plan.conversions.every(index => kinds[index] === kindInt);
			this.#pairs.push(pair ? new Map() : undefined);
			this.#takes.push(take);
			this.#slots.push(slot);
			this.#ranges.push(field.signed && field.size <= 4 ? 2 ** (field.size * 8) : 0);
		}
	}

	/** Match a body free of line terminators: 1, 0, or -1 (cannot tell). */
	scan(body: string): number {
		// The literals' most repeated character must be there as often (a cheap no for another kernel's lines).
		if (this.#needed !== '') {
			for (let found = 0, at = body.indexOf(this.#needed); found < this.#neededCount; at = body.indexOf(this.#needed, at + 1), found++) {
				if (at === -1) {
					return 0;
				}
			}
		}

		this.#steps = 0;
		return this.#match(body, 0, 0);
	}

	#match(body: string, index: number, position: number): number {
		const literal = this.#literals[index]!;
		if (!holds(body, position, literal)) {
			return 0;
		}

		const at = position + literal.length;
		if (index === this.#count) {
			return at === body.length ? 1 : 0;
		}

		const bounds = this.#bounds;
		const kind = this.#kinds[index];
		if (kind === kindInt) {
			let p = at;
			while (codeAt(body, p, body.length) === 32) {
				p++;
			}

			const start = p;
			if (codeAt(body, p, body.length) === 45) {
				p++;
			}

			const digits = p;
			while (isDigit(codeAt(body, p, body.length))) {
				p++;
			}

			if (p === digits) {
				return 0;
			}

			bounds[index * 2] = start;
			bounds[(index * 2) + 1] = p;
			return this.#match(body, index + 1, p);
		}

		if (kind === kindRest) {
			bounds[index * 2] = at;
			bounds[(index * 2) + 1] = body.length;
			return 1;
		}

		const next = this.#literals[index + 1]!;
		if (index + 1 === this.#count) {
			// The last conversion: its separator has to end the body.
			const end = body.length - next.length;
			if (end < at || !holds(body, end, next)) {
				return 0;
			}

			bounds[index * 2] = at;
			bounds[(index * 2) + 1] = end;
			return 1;
		}

		// Lazy, as (.*?): the first occurrence of the separator that lets the rest match.
		const first = next[0];
		const last = body.length - next.length;
		for (let q = at; q <= last; q++) {
			if (body.charCodeAt(q) !== first || !holds(body, q, next)) {
				continue;
			}

			if (++this.#steps > stepBudget) {
				return -1;
			}

			bounds[index * 2] = at;
			bounds[(index * 2) + 1] = q;
			const result = this.#match(body, index + 1, q);
			if (result !== 0) {
				return result;
			}
		}

		return 0;
	}

	/** The fields of the body scan() just matched, by name, in the general decoder's order. */
	fields(body: string): DecodedFields {
		const values = this.#values;
		for (let i = 0; i < this.#plans.length; i++) {
			values[i] = this.#value(body, i);
		}

		if (this.#make) {
			return this.#make(values);
		}

		const fields: DecodedFields = {};
		for (let i = 0; i < this.#plans.length; i++) {
			fields[this.#plans[i]!.name] = values[i]!;
		}

		return fields;
	}

	#value(body: string, i: number): FieldValue {
		const bounds = this.#bounds;
		const plan = this.#plans[i]!;
		const take = this.#takes[i];
		const slot = this.#slots[i]!;
		const start = bounds[slot * 2]!;
		const end = bounds[(slot * 2) + 1]!;
		if (take === takeText) {
			return body.slice(start, end);
		}

		if (take === takeInt && end - start <= 15 && body.charCodeAt(start) !== 45) {
			const value = digitsValue(body, start, end);
			const range = this.#ranges[i]!;
			return range !== 0 && value >= range / 2 ? value - range : value;
		}

		const pairs = this.#pairs[i];
		const key = pairs ? this.#pairKey(body, plan) : -1;
		let value = key === -1 ? undefined : pairs!.get(key);
		if (value === undefined) {
			const texts = this.#texts;
			for (const index of plan.conversions) {
				texts[index] = body.slice(bounds[index * 2]!, bounds[(index * 2) + 1]!);
			}

			value = plan.value(texts, 0);
			if (key !== -1 && pairs!.size < 4096) {
				pairs!.set(key, value);
			}
		}

		return value;
	}

	/**
	 * Two integers as one number, when their texts are the canonical
	 * decimals of values below 2^26 (so the texts are known from the key);
	 * else -1.
	 */
	#pairKey(body: string, plan: FieldPlan): number {
		let key = 0;
		for (const slot of plan.conversions) {
			const start = this.#bounds[slot * 2]!;
			const end = this.#bounds[(slot * 2) + 1]!;
			const first = body.charCodeAt(start);
			if (end - start > 8 || first === 45 || (first === 48 && end - start > 1)) {
				return -1;
			}

			key = (key * 67_108_864) + digitsValue(body, start, end);
		}

		return key;
	}
}

/**
 * A function building an event's fields object from its values as an
 * object literal: one shape per event, no keyed stores (the general decoder
 * adds the same names in the same order). Undefined for names a literal
 * cannot hold as plain properties.
 */
function fieldsMaker(names: readonly string[]): ((values: FieldValue[]) => DecodedFields) | undefined {
	if (names.some(name => !/^[A-Za-z_$][\w$]*$/.test(name) || name === '__proto__')) {
		return undefined;
	}

	// eslint-disable-next-line no-new-func, @typescript-eslint/no-implied-eval
	return new Function('values', `return {${names.map((name, i) => `${name}: values[${i}]`).join(', ')}};`) as (values: FieldValue[]) => DecodedFields;
}

/** The scanner for a compiled print fmt, or undefined when it has conversions the scanner does not reproduce. */
function compileScanner(decoder: BodyDecoder): BodyScanner | undefined {
	const {literals, captures} = decoder;
	const kinds: number[] = [];
	for (const [index, capture] of captures.entries()) {
		const next = literals[index + 1] ?? '';
		const last = index === captures.length - 1;
		// Two conversions side by side would need real backtracking between them.
		if (!last && next === '') {
			return undefined;
		}

		if (capture === intCapture) {
			// A separator starting with a digit would let the regex give digits back.
			if (isDigit(next.charCodeAt(0))) {
				return undefined;
			}

			kinds.push(kindInt);
		} else if (capture === lazyCapture) {
			kinds.push(kindLazy);
		} else if (capture === restCapture && last) {
			kinds.push(kindRest);
		} else {
			return undefined;
		}
	}

	return new BodyScanner(decoder, kinds);
}

interface EventEntry {
	readonly name: string;
	readonly codes: Uint16Array;
	readonly scanner: BodyScanner | undefined;
	/** No format for the name, and none can be loaded: the general reader would not decode with `formats`. */
	readonly unknown: boolean;
	readonly retry: BodyScanner | undefined;
}

/**
 * Decodes event lines in place, as the general text reader would, or says
 * it cannot (undefined): the caller then gives the line to the general
 * reader. With `retryFormats`, a body that does not match `formats`' print
 * fmt is tried with those (older kernels' formats), as replays do.
 */
export class FastTextDecoder {
	readonly #scanners = new WeakMap<EventFormat, BodyScanner | null>();
	/** Recently seen event names (compared in place, without slicing the name out). */
	#events: EventEntry[] = [];
	#flags: Array<{readonly text: string; readonly codes: Uint16Array}> = [];
	#dashText = '';
	#dashSearched = 0;
	#dash = -1;

	constructor(readonly formats: FormatCache | undefined, readonly retryFormats?: FormatCache | undefined) {}

	/**
	 * Forget what was looked up by event name: formats loaded since are
	 * seen. Batch readers call it once per chunk.
	 */
	refresh(): void {
		this.#events = [];
	}

	/**
	 * Decode the event line `text.slice(start, end)` (no newline), or return
	 * undefined when the general reader has to (anything but an event line
	 * whose body matches a compiled print fmt). `clean`: the caller checked
	 * that the text holds no line terminators (\n, \r, U+2028, U+2029) in
	 * that range. Never throws.
	 */
	decodeLine(text: string, start = 0, end = text.length, clean = false): TraceEvent | undefined {
		const first = codeAt(text, start, end);
		// Comments, buffer-started gaps, stack frames, lost-events lines and blank lines.
		if (start >= end || first === 35 || (first === 32 && text.startsWith(' => ', start)) || (first === 67 && text.startsWith('CPU:', start))) {
			return undefined;
		}

		if (!clean && hasLineTerminator(text, start, end)) {
			return undefined;
		}

		let commStart = start;
		while (commStart < end && codeAt(text, commStart, end) === 32) {
			commStart++;
		}

		if (commStart >= end || isSpace(codeAt(text, commStart, end))) {
			return undefined;
		}

		// The comm may hold dashes: the first "-PID" the rest of the prefix follows ends it.
		for (let dash = this.#dashFrom(text, commStart + 1); dash < end; dash = this.#dashFrom(text, dash + 1)) {
			const event = this.#afterComm(text, commStart, dash, end);
			if (event !== null) {
				return event;
			}
		}

		return undefined;
	}

	/**
	 * The first dash at or after `from` (text.length when none). Remembers
	 * the last answer, so text with few dashes is not searched again line
	 * after line.
	 */
	#dashFrom(text: string, from: number): number {
		if (text !== this.#dashText || from < this.#dashSearched || from > this.#dash) {
			const found = text.indexOf('-', from);
			this.#dashText = text;
			this.#dashSearched = from;
			this.#dash = found === -1 ? text.length : found;
		}

		return this.#dash;
	}

	/** The event if the prefix matches with the comm ending at `dash`; null to try the next dash; undefined for the general reader. */
	#afterComm(text: string, commStart: number, dash: number, end: number): TraceEvent | undefined | null {
		let p = dash + 1;
		const pidStart = p;
		while (p < end && isDigit(codeAt(text, p, end))) {
			p++;
		}

		if (p === pidStart || p >= end || !isSpace(codeAt(text, p, end))) {
			return null;
		}

		if (p - pidStart > 15) {
			return undefined;
		}

		const pid = digitsValue(text, pidStart, p);
		while (p < end && isSpace(codeAt(text, p, end))) {
			p++;
		}

		let tgid: number | undefined;
		if (codeAt(text, p, end) === 40) {
			p++;
			while (p < end && isSpace(codeAt(text, p, end))) {
				p++;
			}

			const tgidStart = p;
			if (isDigit(codeAt(text, p, end))) {
				while (p < end && isDigit(codeAt(text, p, end))) {
					p++;
				}

				if (p - tgidStart > 15) {
					return undefined;
				}

				tgid = digitsValue(text, tgidStart, p);
			} else {
				while (p < end && codeAt(text, p, end) === 45) {
					p++;
				}

				if (p === tgidStart) {
					return null;
				}
			}

			if (codeAt(text, p, end) !== 41 || p + 1 >= end || !isSpace(codeAt(text, p + 1, end))) {
				return null;
			}

			p++;
			while (p < end && isSpace(codeAt(text, p, end))) {
				p++;
			}
		}

		if (codeAt(text, p, end) !== 91) {
			return null;
		}

		const cpuStart = ++p;
		while (p < end && isDigit(codeAt(text, p, end))) {
			p++;
		}

		if (p === cpuStart || codeAt(text, p, end) !== 93 || p + 1 >= end || !isSpace(codeAt(text, p + 1, end))) {
			return null;
		}

		if (p - cpuStart > 15) {
			return undefined;
		}

		const cpu = digitsValue(text, cpuStart, p);
		p++;
		while (p < end && isSpace(codeAt(text, p, end))) {
			p++;
		}

		// The flags column is optional and 4 or 5 wide (the regex tries 5, then 4, then none).
		for (const width of flagWidths) {
			let t = p;
			if (width > 0) {
				let ok = t + width < end && isSpace(codeAt(text, t + width, end));
				for (let i = 0; ok && i < width; i++) {
					ok = isFlag(codeAt(text, t + i, end));
				}

				if (!ok) {
					continue;
				}

				t += width;
				while (t < end && isSpace(codeAt(text, t, end))) {
					t++;
				}
			}

			const flags = width === 0 ? undefined : this.#flagsText(text, p, width);
			const event = this.#afterFlags(text, commStart, dash, end, t, pid, tgid, cpu, flags);
			if (event !== null) {
				return event;
			}
		}

		return null;
	}

	/** From the timestamp on; null when the timestamp does not follow. */
	#afterFlags(text: string, commStart: number, dash: number, end: number, t: number, pid: number, tgid: number | undefined, cpu: number, flags: string | undefined): TraceEvent | undefined | null {
		const wholeStart = t;
		while (t < end && isDigit(codeAt(text, t, end))) {
			t++;
		}

		if (t === wholeStart) {
			return null;
		}

		const wholeEnd = t;
		let fractionStart = t;
		if (codeAt(text, t, end) === 46 && isDigit(codeAt(text, t + 1, end))) {
			fractionStart = ++t;
			while (t < end && isDigit(codeAt(text, t, end))) {
				t++;
			}
		}

		if (codeAt(text, t, end) !== 58 || t + 1 >= end || !isSpace(codeAt(text, t + 1, end))) {
			return null;
		}

		const fractionDigits = t - fractionStart;
		// Counter clocks (no fraction), beyond-ns fractions and huge values: the general reader.
		if (fractionDigits === 0 || fractionDigits > 9 || wholeEnd - wholeStart > 15) {
			return undefined;
		}

		const scaled = (digitsValue(text, wholeStart, wholeEnd) * powersOfTen[fractionDigits]!) + digitsValue(text, fractionStart, t);
		const ns = scaled * powersOfTen[9 - fractionDigits]!;
		if (ns > Number.MAX_SAFE_INTEGER) {
			return undefined;
		}

		// The event name, then the body.
		const nameStart = t + 2;
		const c = codeAt(text, nameStart, end);
		if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95)) {
			return undefined;
		}

		let entry = this.#known(text, nameStart, end);
		let nameEnd = nameStart + 1;
		for (; !entry;) {
			const code = codeAt(text, nameEnd, end);
			if (nameEnd < end && (isFlag(code) || code === 95)) {
				nameEnd++;
			} else {
				break;
			}
		}

		if (entry) {
			nameEnd = nameStart + entry.codes.length;
		} else if (codeAt(text, nameEnd, end) === 58) {
			entry = this.#entry(text, nameStart, nameEnd);
		} else {
			return undefined;
		}

		if (!entry.scanner && !(entry.unknown && entry.retry)) {
			return undefined;
		}

		const bodyStart = nameEnd + 1 < end && codeAt(text, nameEnd + 1, end) === 32 ? nameEnd + 2 : nameEnd + 1;
		const body = text.slice(bodyStart, end);
		let scanner = entry.scanner;
		let result = scanner ? scanner.scan(body) : 0;
		if (result === 0 && entry.retry) {
			scanner = entry.retry;
			result = scanner.scan(body);
		}

		if (result !== 1 || !scanner) {
			return undefined;
		}

		// One record shape with the general reader (same properties, same order).
		return {
			kind: 'event',
			cpu,
			timestamp: scaled / powersOfTen[fractionDigits]!,
			timestampNs: BigInt(ns),
			pid,
			tgid,
			comm: text.slice(commStart, dash),
			flags,
			system: scanner.format.system,
			event: entry.name,
			fields: scanner.fields(body),
			decoded: true,
			body,
		};
	}

	/** The flags column's text; the few distinct ones are shared. */
	#flagsText(text: string, at: number, width: number): string {
		for (const known of this.#flags) {
			if (known.codes.length === width && holds(text, at, known.codes)) {
				return known.text;
			}
		}

		const flags = text.slice(at, at + width);
		if (this.#flags.length < 32) {
			this.#flags.push({text: flags, codes: codesOf(flags)});
		}

		return flags;
	}

	/** A recently seen event whose name (then a colon) is at `at`. */
	#known(text: string, at: number, end: number): EventEntry | undefined {
		for (const entry of this.#events) {
			// The name is [\w.]*: a known name followed by ":" is the whole name.
			if (holds(text, at, entry.codes) && codeAt(text, at + entry.codes.length, end) === 58) {
				return entry;
			}
		}

		return undefined;
	}

	#entry(text: string, nameStart: number, nameEnd: number): EventEntry {
		const name = text.slice(nameStart, nameEnd);
		const syscall = name.startsWith('sys_enter_') || name.startsWith('sys_exit_');
		const format = syscall ? undefined : this.formats?.byName(name);
		const retryFormat = syscall ? undefined : this.retryFormats?.byName(name);
		const entry = {
			name,
			codes: codesOf(name),
			scanner: format && this.#scanner(this.formats!, format),
			unknown: !syscall && !format && !this.formats?.instance,
			retry: retryFormat && this.#scanner(this.retryFormats!, retryFormat),
		};
		// A format missing from an instance's cache may load later (the general reader loads it).
		if (this.#events.length < 16 && (entry.scanner || !this.formats?.instance)) {
			this.#events.push(entry);
		}

		return entry;
	}

	#scanner(cache: FormatCache, format: EventFormat): BodyScanner | undefined {
		let scanner = this.#scanners.get(format);
		if (scanner === undefined) {
			scanner = compileScanner(cache.decoder(format)) ?? null;
			this.#scanners.set(format, scanner);
		}

		return scanner ?? undefined;
	}
}

/** Records per batch, at most (plus the few one line may complete). */
const batchSize = 1024;

/** Options of the batch readers. */
export interface FastTextOptions extends TextReaderOptions {
	/**
	 * Formats to try for an event whose body does not match its format in
	 * `formats` (traces recorded on older kernels): the record is the one
	 * these decode, when they do.
	 */
	readonly retryFormats?: FormatCache | undefined;
}

/**
 * An event the general reader could not decode with its formats, decoded
 * again with `retryFormats` when they match (with its stack traces);
 * otherwise the record itself.
 */
export function decodeAgain(record: TraceRecord, retryFormats: FormatCache | undefined): TraceRecord {
	if (record.kind === 'event' && !record.decoded && retryFormats && record.body !== undefined) {
		const format = retryFormats.byName(record.event);
		const again = format && decodeBody(record, record.event, record.body, format, retryFormats);
		if (again?.decoded) {
			if (record.stack) {
				again.stack = record.stack;
			}

			if (record.userStack) {
				again.userStack = record.userStack;
			}

			return again;
		}
	}

	return record;
}

/**
 * Decode trace text like decodeTraceText, the same records in the same
 * order, but in batches (one per chunk of input) and through the fast path
 * where it applies. For long traces: one await per chunk instead of one
 * per record. Never throws for malformed lines; rethrows errors of the
 * source.
 */
export async function * decodeTraceTextBatches(source: AsyncIterable<string | Uint8Array>, options: FastTextOptions = {}): AsyncGenerator<TraceRecord[]> {
	const {formats, retryFormats, signal} = options;
	const general = new TraceTextDecoder(formats);
	const fast = new FastTextDecoder(formats, retryFormats);
	const utf8 = new StringDecoder('utf8');
	let partial = '';

	const generalLine = async (line: string, batch: TraceRecord[]): Promise<void> => {
		const parsed = parseTraceLine(line);
		const missing = general.missingFormat(parsed);
		if (missing !== undefined) {
			await formats!.load(missing).catch(() => undefined);
		}

		for (const record of general.accept(parsed)) {
			batch.push(decodeAgain(record, retryFormats));
		}
	};

	// Small batches: records die young (a batch alive across a scavenge is copied).
	async function * decodeLines(data: string, cut: number): AsyncGenerator<TraceRecord[]> {
		fast.refresh();
		// Lines are split at \n and lose a final \r; any other line terminator sends its line to the general reader.
		const clean = data.indexOf('\r') === -1 && data.indexOf('\u2028') === -1 && data.indexOf('\u2029') === -1;
		let batch: TraceRecord[] = [];
		for (let start = 0; start <= cut;) {
			const newline = data.indexOf('\n', start);
			const end = newline > start && data.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
			const event = fast.decodeLine(data, start, end, clean);
			if (event) {
				const done = general.hold(event);
				if (done) {
					batch.push(decodeAgain(done, retryFormats));
				}
			} else {
				// eslint-disable-next-line no-await-in-loop
				await generalLine(data.slice(start, end), batch);
			}

			start = newline + 1;
			if (batch.length >= batchSize) {
				yield batch;
				batch = [];
			}
		}

		if (batch.length > 0) {
			yield batch;
		}
	}

	// Bytes are split at the last newline of a chunk (a newline byte is never
	// part of a multi-byte character), so each chunk's lines decode as one flat string.
	let tail: Buffer | undefined;
	for await (const chunk of source) {
		if (signal?.aborted) {
			break;
		}

		let data: string;
		let cut: number;
		if (typeof chunk === 'string') {
			data = partial + chunk;
			cut = data.lastIndexOf('\n');
			partial = cut === -1 ? data : data.slice(cut + 1);
		} else {
			const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
			const newline = bytes.lastIndexOf(10);
			if (newline === -1) {
				tail = tail ? Buffer.concat([tail, bytes]) : Buffer.from(bytes);
				continue;
			}

			const head = bytes.subarray(0, newline + 1);
			data = partial + utf8.write(tail ? Buffer.concat([tail, head]) : head);
			tail = newline + 1 < bytes.length ? Buffer.from(bytes.subarray(newline + 1)) : undefined;
			cut = data.length - 1;
			partial = '';
		}

		if (cut === -1) {
			continue;
		}

		yield * decodeLines(data, cut);
	}

	const batch: TraceRecord[] = [];
	const last = partial + (tail ? utf8.write(tail) : '') + utf8.end();
	if (last !== '' && !signal?.aborted) {
		await generalLine(last, batch);
	}

	for (const record of general.flush()) {
		batch.push(decodeAgain(record, retryFormats));
	}

	if (batch.length > 0) {
		yield batch;
	}
}

/**
 * Decode a recorded text trace file in batches (see decodeTraceTextBatches).
 * Throws TracefsError when it cannot be opened.
 */
export async function * readTraceTextFileBatches(path: string, options: FastTextOptions = {}): AsyncGenerator<TraceRecord[]> {
	const stream = createReadStream(path, {highWaterMark: 1 << 20, ...(options.signal ? {signal: options.signal} : {})});
	try {
		yield * decodeTraceTextBatches(stream, options);
	} catch (error) {
		if (errnoCode(error) === 'ABORT_ERR' || (error as Error).name === 'AbortError') {
			return;
		}

		throw error instanceof TracefsError ? error : new TracefsError(`cannot read trace file ${path}`, {operation: 'read', path, code: errnoCode(error), cause: error, usage: errnoCode(error) === 'ENOENT'});
	} finally {
		stream.destroy();
	}
}
