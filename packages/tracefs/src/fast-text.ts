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
import {isAscii} from 'node:buffer';
import {open} from 'node:fs/promises';
import {StringDecoder} from 'node:string_decoder';
import type {EventFormat} from './format.js';
import type {FormatCache} from './format-cache.js';
import type {BodyDecoder, DecodedFields, FieldPlan} from './print-format.js';
import {gapLines, gapLinesOnThread} from './gap-lines.js';
import {decodeBody, parseTraceLine, traceFileError, TraceTextDecoder, type TextReaderOptions} from './text-reader.js';
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

/** Backslash-s of JavaScript regular expressions, for ASCII. */
function isSpaceByte(code: number): boolean {
	return code === 32 || (code >= 9 && code <= 13);
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

/** Whether `text` holds `codes` at `at`, before `end` (short literals: cheaper than startsWith). */
function holds(text: string, at: number, codes: Uint16Array, end = text.length): boolean {
	if (at + codes.length > end) {
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

let nextScannerId = 0;

/**
 * A print fmt compiled to a scanner. scan() answers as the general
 * decoder's regular expression would (1 match, 0 no match) or -1 when it
 * cannot tell cheaply; after a match, fields() decodes them from the texts
 * found, by name, with the general decoder's own rules for anything but
 * plain integers and strings.
 */
class BodyScanner {
	/** Tells scanners apart in the keys of compiled line readers. */
	readonly id = nextScannerId++;
	readonly format: EventFormat;
	readonly #literals: Uint16Array[];
	readonly #literalTexts: readonly string[];
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
	/** End of the body being scanned. */
	#end = 0;
	readonly #needed: string;
	readonly #neededCount: number;
	/** The needed character's code (-1: none). */
	readonly #neededCode: number;
	readonly #literalCounts = new Map<number, number>();
	/** The conversions that are not integers (their text may hold anything). */
	readonly #textSlots: Int32Array;
	#neededText = '';
	#neededSearched = 0;
	#neededAt = -1;
	/** Per conversion, the integer the compiled byte scan read (NaN: negative or too long to be exact). */
	readonly #intValues: Float64Array;

	constructor(decoder: BodyDecoder, kinds: number[]) {
		this.format = decoder.format;
		this.#literals = decoder.literals.map(literal => codesOf(literal));
		this.#literalTexts = decoder.literals;
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
		this.#neededCode = this.#needed === '' ? -1 : this.#needed.charCodeAt(0);
		this.#intValues = new Float64Array(Math.max(1, kinds.length));
		this.#textSlots = Int32Array.from(kinds.flatMap((kind, index) => (kind === kindInt ? [] : [index])));
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

	/**
	 * Match the body `text.slice(start, end)` (free of line terminators) in
	 * place: 1, 0, or -1 (cannot tell).
	 */
	scan(text: string, start: number, end: number): number {
		// The literals' most repeated character must be there as often (a cheap no for another kernel's lines).
		if (this.#needed !== '') {
			for (let found = 0, at = this.#neededFrom(text, start); found < this.#neededCount; at = this.#neededFrom(text, at + 1), found++) {
				if (at >= end) {
					return 0;
				}
			}
		}

		this.#steps = 0;
		this.#end = end;
		return this.#match(text, 0, start);
	}

	/**
	 * The first `needed` character at or after `from` (text.length when
	 * none). Remembers the last answer: a character missing from a line is
	 * not searched for again through the lines after it.
	 */
	#neededFrom(text: string, from: number): number {
		if (text !== this.#neededText || from < this.#neededSearched || from > this.#neededAt) {
			const found = text.indexOf(this.#needed, from);
			this.#neededText = text;
			this.#neededSearched = from;
			this.#neededAt = found === -1 ? text.length : found;
		}

		return this.#neededAt;
	}

	#match(text: string, index: number, position: number): number {
		const end = this.#end;
		const literal = this.#literals[index]!;
		if (!holds(text, position, literal, end)) {
			return 0;
		}

		const at = position + literal.length;
		if (index === this.#count) {
			return at === end ? 1 : 0;
		}

		const bounds = this.#bounds;
		const kind = this.#kinds[index];
		if (kind === kindInt) {
			let p = at;
			while (codeAt(text, p, end) === 32) {
				p++;
			}

			const start = p;
			if (codeAt(text, p, end) === 45) {
				p++;
			}

			const digits = p;
			while (isDigit(codeAt(text, p, end))) {
				p++;
			}

			if (p === digits) {
				return 0;
			}

			bounds[index * 2] = start;
			bounds[(index * 2) + 1] = p;
			return this.#match(text, index + 1, p);
		}

		if (kind === kindRest) {
			bounds[index * 2] = at;
			bounds[(index * 2) + 1] = end;
			return 1;
		}

		const next = this.#literals[index + 1]!;
		if (index + 1 === this.#count) {
			// The last conversion: its separator has to end the body.
			const separator = end - next.length;
			if (separator < at || !holds(text, separator, next, end)) {
				return 0;
			}

			bounds[index * 2] = at;
			bounds[(index * 2) + 1] = separator;
			return 1;
		}

		// Lazy, as (.*?): the first occurrence of the separator that lets the rest match.
		const first = next[0];
		const last = end - next.length;
		for (let q = at; q <= last; q++) {
			if (text.charCodeAt(q) !== first || !holds(text, q, next, end)) {
				continue;
			}

			if (++this.#steps > stepBudget) {
				return -1;
			}

			bounds[index * 2] = at;
			bounds[(index * 2) + 1] = q;
			const result = this.#match(text, index + 1, q);
			if (result !== 0) {
				return result;
			}
		}

		return 0;
	}

	/** The fields of the body scan() just matched in `text`, by name, in the general decoder's order. */
	fields(text: string): DecodedFields {
		const values = this.#values;
		for (let i = 0; i < this.#plans.length; i++) {
			values[i] = this.#value(text, i);
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

	/**
	 * Which of the fields scan() finds is `name`, as read by number() or
	 * text(): its index, -1 when the event has no such field, or -2 when
	 * its value takes the general decoder's rules.
	 */
	planOf(name: string, as: 'number' | 'text'): number {
		const index = this.#plans.findIndex(plan => plan.name === name);
		if (index === -1) {
			return -1;
		}

		if (as === 'text') {
			return this.#takes[index] === takeText ? index : -2;
		}

		return this.#takes[index] === takeInt || this.#pairs[index] ? index : -2;
	}

	/**
	 * Field `plan` (from planOf) of the body scan() just matched, as a
	 * number; NaN when only the general decoder's rules give it exactly
	 * (negative, more than 15 digits, not a number).
	 */
	number(text: string, plan: number): number {
		if (this.#takes[plan] === takeInt) {
			const slot = this.#slots[plan]!;
			const start = this.#bounds[slot * 2]!;
			const end = this.#bounds[(slot * 2) + 1]!;
			if (end - start > 15 || text.charCodeAt(start) === 45) {
				return Number.NaN;
			}

			const value = digitsValue(text, start, end);
			const range = this.#ranges[plan]!;
			return range !== 0 && value >= range / 2 ? value - range : value;
		}

		const value = this.#value(text, plan);
		return typeof value === 'number' && Number.isInteger(value) ? value : Number.NaN;
	}

	/** Field `plan` (from planOf, a string field) of the body scan() just matched. */
	text(text: string, plan: number, strings: Interner): string {
		const slot = this.#slots[plan]!;
		return strings.get(text, this.#bounds[slot * 2]!, this.#bounds[(slot * 2) + 1]!);
	}

	/**
	 * scan() over the bytes of an ASCII body free of line terminators, as a
	 * block of code in two parts (byteScanCode: 1 match, bounds and integers
	 * set; 0 no match; -1 cannot tell), for compiled line readers; undefined
	 * when a literal is not ASCII.
	 */
	scanCode(names: ScanNames, part: ScanPart): string | undefined {
		return byteScanCode(this.#literalTexts, this.#kinds, this.#needed, this.#neededCount, names, part);
	}

	/**
	 * Code setting `variable` to whether this print fmt cannot match the
	 * body `other`'s scan just matched in `bytes` (with `other`'s bounds
	 * array `bounds`): it needs more of its most repeated character than
	 * that body holds, counted in `other`'s literals and string conversions
	 * (its integers hold only spaces, signs and digits). False when unsure.
	 */
	excludesCode(other: BodyScanner, bytes: string, bounds: string, variable: string): string {
		const code = this.#neededCode;
		if (code === -1 || code === 45 || isDigit(code)) {
			return `${variable} = false;`;
		}

		const need = this.#neededCount;
		const spans = [...other.#textSlots].map(index => `for (let i = ${bounds}[${index * 2}]; i < ${bounds}[${(index * 2) + 1}] && found < ${need}; i++) { if (${bytes}[i] === ${code}) { found++; } }`);
		return `{ let found = ${other.#literalCount(code)}; ${spans.join(' ')} ${variable} = found < ${need}; }`;
	}

	/** Where the compiled byte scan leaves each conversion's bounds. */
	get scanBounds(): Int32Array {
		return this.#bounds;
	}

	/** Where the compiled byte scan leaves each conversion's integer. */
	get integers(): Float64Array {
		return this.#intValues;
	}

	/**
	 * How numberOfBytes() reads plan `plan`, when it is a plain integer: the
	 * conversion it reads and 2^bits for signed fields of up to 4 bytes (else
	 * 0); undefined for any other plan.
	 */
	integerPlan(plan: number): {readonly slot: number; readonly range: number} | undefined {
		return this.#takes[plan] === takeInt ? {slot: this.#slots[plan]!, range: this.#ranges[plan]!} : undefined;
	}

	/**
	 * The two integer conversions numberOfBytes() reads plan `plan` from,
	 * when it is printed in two parts (dev as major,minor) and its values
	 * are kept by the two numbers; undefined otherwise.
	 */
	pairPlan(plan: number): readonly [number, number] | undefined {
		const {conversions} = this.#plans[plan]!;
		return this.#takes[plan] !== takeInt && this.#pairs[plan] ? [conversions[0]!, conversions[1]!] : undefined;
	}

	/** The plan's FieldPlan.highLow, when pairPlan() has its two conversions. */
	highLowPlan(plan: number): {readonly shift: number; readonly limit: number} | undefined {
		return this.pairPlan(plan) && this.#plans[plan]!.highLow;
	}

	#literalCount(code: number): number {
		let count = this.#literalCounts.get(code);
		if (count === undefined) {
			count = 0;
			for (const literal of this.#literals) {
				for (const character of literal) {
					count += character === code ? 1 : 0;
				}
			}

			this.#literalCounts.set(code, count);
		}

		return count;
	}

	/** number() for the body the compiled byte scan (scanCode) just matched. */
	numberOfBytes(bytes: Uint8Array, plan: number): number {
		const slot = this.#slots[plan]!;
		if (this.#takes[plan] === takeInt) {
			const value = this.#intValues[slot]!;
			const range = this.#ranges[plan]!;
			return range !== 0 && value >= range / 2 ? value - range : value;
		}

		const pairs = this.#pairs[plan];
		if (!pairs) {
			return Number.NaN;
		}

		const {conversions} = this.#plans[plan]!;
		let key = 0;
		for (const index of conversions) {
			const start = this.#bounds[index * 2]!;
			const length = this.#bounds[(index * 2) + 1]! - start;
			// Canonical decimals below 2^26 only, so the texts are known from the key.
			if (length > 8 || bytes[start] === 45 || (bytes[start] === 48 && length > 1)) {
				key = -1;
				break;
			}

			key = (key * 67_108_864) + this.#intValues[index]!;
		}

		let value = key === -1 ? undefined : pairs.get(key);
		if (value === undefined) {
			const texts = this.#texts;
			for (const index of conversions) {
				texts[index] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', this.#bounds[index * 2]!, this.#bounds[(index * 2) + 1]!);
			}

			value = this.#plans[plan]!.value(texts, 0);
			if (key !== -1 && pairs.size < 4096) {
				pairs.set(key, value);
			}
		}

		return typeof value === 'number' && Number.isInteger(value) ? value : Number.NaN;
	}

	/** text() for the body the compiled byte scan just matched. */
	textOfBytes(bytes: Uint8Array, plan: number, strings: Interner): string {
		const slot = this.#slots[plan]!;
		return strings.getBytes(bytes, this.#bounds[slot * 2]!, this.#bounds[(slot * 2) + 1]!);
	}

	#value(text: string, i: number): FieldValue {
		const bounds = this.#bounds;
		const plan = this.#plans[i]!;
		const take = this.#takes[i];
		const slot = this.#slots[i]!;
		const start = bounds[slot * 2]!;
		const end = bounds[(slot * 2) + 1]!;
		if (take === takeText) {
			return text.slice(start, end);
		}

		if (take === takeInt && end - start <= 15 && text.charCodeAt(start) !== 45) {
			const value = digitsValue(text, start, end);
			const range = this.#ranges[i]!;
			return range !== 0 && value >= range / 2 ? value - range : value;
		}

		const pairs = this.#pairs[i];
		const key = pairs ? this.#pairKey(text, plan) : -1;
		let value = key === -1 ? undefined : pairs!.get(key);
		if (value === undefined) {
			const texts = this.#texts;
			for (const index of plan.conversions) {
				texts[index] = text.slice(bounds[index * 2]!, bounds[(index * 2) + 1]!);
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
	#pairKey(text: string, plan: FieldPlan): number {
		let key = 0;
		for (const slot of plan.conversions) {
			const start = this.#bounds[slot * 2]!;
			const end = this.#bounds[(slot * 2) + 1]!;
			const first = text.charCodeAt(start);
			if (end - start > 8 || first === 45 || (first === 48 && end - start > 1)) {
				return -1;
			}

			key = (key * 67_108_864) + digitsValue(text, start, end);
		}

		return key;
	}
}

/**
 * Short strings of the text (comms, flags, rwbs) shared rather than sliced
 * line after line: found by a hash of their characters in a table of 4096
 * places (a string takes the place of the one it collides with), checked in
 * full. A shared string is a copy, so it does not keep the chunk it came from.
 */
class Interner {
	readonly #strings: string[] = Array.from({length: 4096}, () => '');

	get(text: string, start: number, end: number): string {
		if (end - start > 64) {
			return text.slice(start, end);
		}

		let hash = end - start;
		for (let i = start; i < end; i++) {
			hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
		}

		const at = hash & 4095;
		const known = this.#strings[at]!;
		if (known.length === end - start) {
			let same = true;
			for (let i = 0; same && i < known.length; i++) {
				same = known.charCodeAt(i) === text.charCodeAt(start + i);
			}

			if (same) {
				return known;
			}
		}

		const copy = [...text.slice(start, end)].join('');
		this.#strings[at] = copy;
		return copy;
	}

	/** get() for the ASCII bytes `bytes[start..end)`. */
	getBytes(bytes: Uint8Array, start: number, end: number): string {
		let hash = end - start;
		for (let i = start; i < end; i++) {
			hash = (Math.imul(hash, 31) + bytes[i]!) | 0;
		}

		const at = hash & 4095;
		const known = this.#strings[at]!;
		if (known.length === end - start) {
			let same = true;
			for (let i = 0; same && i < known.length; i++) {
				same = known.charCodeAt(i) === bytes[start + i];
			}

			if (same) {
				return known;
			}
		}

		const copy = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end);
		this.#strings[at] = copy;
		return copy;
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

/**
 * What byteScanCode compiles: the scan's first attempt (the test of the
 * most repeated character, then the first occurrence of each separator),
 * which ends the scan with 1 or 0 when it can tell and else falls out of
 * its block; or its nested loops, run after a first attempt that fell out.
 */
type ScanPart = 'first' | 'loops';

/** Names the code of byteScanCode() uses: the body's bytes, start and end, the arrays it fills, its labels' prefix and how it ends. */
interface ScanNames {
	readonly bytes: string;
	readonly start: string;
	readonly end: string;
	readonly bounds: string;
	readonly values: string;
	readonly label: string;
	/** The statement ending the scan with result 1, 0 or -1. */
	readonly exit: (result: number) => string;
}

/**
 * BodyScanner's matching, compiled to straight code over bytes: literal
 * separators compared as constants, a loop per string conversion trying
 * its separator's occurrences in turn (nested, so a later failure resumes
 * the innermost loop, as the regular expression backtracks), integers as
 * runs of digits. Undefined when a literal is not ASCII. The code is a
 * block of its own (its own variables and labels), for a compiled line
 * reader's functions; `part` 'first' gives only its first attempt
 * (firstMatchCode).
 */
function byteScanCode(literals: readonly string[], kinds: readonly number[], needed: string, neededCount: number, names: ScanNames, part: ScanPart): string | undefined {
	if (literals.some(literal => !/^[\x00-\x7F]*$/.test(literal))) {
		return undefined;
	}

	const {bytes: b, start, end, bounds, values, label, exit} = names;
	const literalTest = (literal: string, p: string): string => [`${p} + ${literal.length} > ${end}`, ...[...literal].map((character, i) => `${b}[${p} + ${i}] !== ${character.charCodeAt(0)}`)].join(' || ');
	if (part === 'first') {
		const code = ['{'];
		if (needed !== '') {
			// As scan(): the literals' most repeated character must be there as often.
			code.push(`{ let found = 0; for (let i = ${start}; i < ${end} && found < ${neededCount}; i++) { if (${b}[i] === ${needed.charCodeAt(0)}) { found++; } } if (found < ${neededCount}) { ${exit(0)} } }`);
		}

		// Falls out of the block when the first attempt fails.
		code.push(firstMatchCode(literals, kinds, literalTest, names), '}');
		return code.join('\n');
	}

	// The loops: after a first attempt that could not tell (the character count passed).
	const code: string[] = ['{', 'let steps = 0;', `let p0 = ${start};`];
	let depth = 0;
	let fail = exit(0);
	const fails: string[] = [];
	// After a lazy conversion its separator is known to be there.
	let found = false;
	for (let index = 0; ; index++) {
		const p = `p${depth}`;
		const literal = literals[index]!;
		if (literal !== '') {
			code.push(...(found ? [] : [`if (${literalTest(literal, p)}) { ${fail} }`]), `${p} += ${literal.length};`);
		}

		found = false;

		if (index === kinds.length) {
			code.push(`if (${p} !== ${end}) { ${fail} }`, exit(1));
			break;
		}

		const kind = kinds[index];
		if (kind === kindInt) {
			code.push(
				`while (${p} < ${end} && ${b}[${p}] === 32) { ${p}++; }`,
				`${bounds}[${index * 2}] = ${p};`,
				`{ const minus = ${p} < ${end} && ${b}[${p}] === 45; if (minus) { ${p}++; }`,
				`const digits = ${p}; let value = 0; while (${p} < ${end} && ${b}[${p}] >= 48 && ${b}[${p}] <= 57) { value = (value * 10) + ${b}[${p}] - 48; ${p}++; } if (${p} === digits) { ${fail} }`,
				// Values exact as doubles only: others are NaN.
				`${values}[${index}] = minus || ${p} - digits > 15 ? NaN : value; }`,
				`${bounds}[${(index * 2) + 1}] = ${p};`,
			);
			continue;
		}

		if (kind === kindRest) {
			code.push(`${bounds}[${index * 2}] = ${p};`, `${bounds}[${(index * 2) + 1}] = ${end};`, exit(1));
			break;
		}

		const next = literals[index + 1]!;
		if (index + 1 === kinds.length) {
			// The last conversion: its separator has to end the body.
			code.push(
				`{ const q = ${end} - ${next.length}; if (q < ${p} || ${literalTest(next, 'q')}) { ${fail} }`,
				`${bounds}[${index * 2}] = ${p}; ${bounds}[${(index * 2) + 1}] = q; ${exit(1)} }`,
			);
			break;
		}

		// Lazy: each occurrence of the separator in turn, the rest inside the loop.
		const q = `q${depth}`;
		code.push(
			`${label}${depth}: for (let ${q} = ${p}; ${q} <= ${end} - ${next.length}; ${q}++) {`,
			`if (${literalTest(next, q)}) { continue; }`,
			`if (++steps > ${stepBudget}) { ${exit(-1)} }`,
			`${bounds}[${index * 2}] = ${p}; ${bounds}[${(index * 2) + 1}] = ${q};`,
			`let p${depth + 1} = ${q};`,
		);
		found = true;
		fails.push(fail);
		fail = `continue ${label}${depth};`;
		depth++;
	}

	for (let level = depth; level > 0; level--) {
		code.push('}', fails[level - 1]!);
	}

	code.push('}');
	return code.join('\n');
}

/**
 * byteScanCode's first attempt, as straight code: each string conversion
 * ends at the first occurrence of its separator, which is the match the
 * nested loops try first, so a success here is theirs. Any failure leaves
 * the block (label `${label}first`) for the nested loops, which try the
 * later occurrences; most lines never get there, and straight code runs
 * faster than the loops' nest.
 */
function firstMatchCode(literals: readonly string[], kinds: readonly number[], literalTest: (literal: string, p: string) => string, names: ScanNames): string {
	const {bytes: b, start, end, bounds, values, label, exit} = names;
	const block = `${label}first`;
	const fail = `break ${block};`;
	const code: string[] = [`${block}: {`, `let f = ${start};`];
	let found = false;
	for (let index = 0; ; index++) {
		const literal = literals[index]!;
		if (literal !== '') {
			code.push(...(found ? [] : [`if (${literalTest(literal, 'f')}) { ${fail} }`]), `f += ${literal.length};`);
		}

		found = false;
		if (index === kinds.length) {
			code.push(`if (f !== ${end}) { ${fail} }`, exit(1));
			break;
		}

		const kind = kinds[index];
		if (kind === kindInt) {
			// Signs and values past 15 digits are the loops' to read. The bytes
			// are read past `end` (undefined past the array, which x ^ 48 makes
			// 48: no digit, no space): any run that got there fails.
			code.push(
				`while (${b}[f] === 32) { f++; }`,
				`${bounds}[${index * 2}] = f;`,
				`{ const digits = f; let value = 0, digit = 0; while ((digit = ${b}[f] ^ 48) < 10) { value = (value * 10) + digit; f++; }`,
				`if (f === digits || f - digits > 15 || f > ${end}) { ${fail} }`,
				`${values}[${index}] = value; }`,
				`${bounds}[${(index * 2) + 1}] = f;`,
			);
			continue;
		}

		if (kind === kindRest) {
			code.push(`${bounds}[${index * 2}] = f;`, `${bounds}[${(index * 2) + 1}] = ${end};`, exit(1));
			break;
		}

		const next = literals[index + 1]!;
		if (index + 1 === kinds.length) {
			code.push(
				`{ const q = ${end} - ${next.length}; if (q < f || ${literalTest(next, 'q')}) { ${fail} }`,
				`${bounds}[${index * 2}] = f; ${bounds}[${(index * 2) + 1}] = q; ${exit(1)} }`,
			);
			break;
		}

		// The separator's bytes only: the loop's bound keeps them within the line.
		const differs = [...next].map((character, i) => `${b}[q + ${i}] !== ${character.charCodeAt(0)}`).join(' || ');
		code.push(
			`{ let q = f; const last = ${end} - ${next.length}; while (q <= last && (${differs})) { q++; }`,
			`if (q > last) { ${fail} }`,
			`${bounds}[${index * 2}] = f; ${bounds}[${(index * 2) + 1}] = q; f = q; }`,
		);
		found = true;
	}

	code.push('}');
	return code.join('\n');
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

/** A line reader compiled for the queried events seen so far (see compileLineReader). */
interface CompiledLineReader {
	/**
	 * Reads the ASCII line `bytes[start..end)` into `line` (all but its
	 * bytes): true; false for any other line, and whenever unsure (`line`
	 * is then left partly filled).
	 */
	readonly read: (bytes: Uint8Array, start: number, end: number, line: ScannedLine) => boolean;
}

function scannerId(scanner: BodyScanner | undefined): number {
	return scanner?.id ?? -1;
}

/**
 * FastTextDecoder's reading of queried events from bytes, compiled to a
 * line reader for the events in `entries` (with a function per event body
 * and per scan, see scan() within): the line prefix read as the text
 * path reads it (the comm up to the first "-PID" the rest follows, the
 * optional tgid, [cpu], a flags column 5 wide, 4 wide or none, the
 * timestamp), the event names compared as constants, each event's body
 * scanned with its print fmts' compiled scans (this kernel's, then the
 * older one, as the text path tries them) and the query's fields read
 * where the scan left them. The code reads only constants and its own
 * arguments, so each call site has one target.
 */
function compileLineReader(entries: readonly EventEntry[], plansOf: (scanner: BodyScanner) => QueryPlans): CompiledLineReader {
	const constants = new Map<unknown, string>([[isSpaceByte, 'SP'], [isFlag, 'FLAG'], [powersOfTen, 'POW']]);
	const constant = (value: unknown): string => {
		let name = constants.get(value);
		if (name === undefined) {
			name = `c${constants.size}`;
			constants.set(value, name);
		}

		return name;
	};

	/** The code taking `scanner`'s match: the query's numbers, the event, the scanner and its plans. */
	const take = (scanner: BodyScanner, event: number): string => {
		const queryPlans = plansOf(scanner);
		if (queryPlans.general) {
			return 'return false;';
		}

		const ints = constant(scanner.integers);
		const self = constant(scanner);
		const code = [...queryPlans.numbers].map((plan, i) => {
			if (plan === -1) {
				return `n[${i}] = NaN;`;
			}

			const integer = scanner.integerPlan(plan);
			const pair = scanner.pairPlan(plan);
			if (pair) {
				// As numberOfBytes(), whose values it keeps by the two numbers read (canonical
				// decimals below 2^26), in 16 places (key, value) chosen by a hash of the numbers.
				const [x, y] = pair;
				const bounds = constant(scanner.scanBounds);
				const kept = constant(new Float64Array(32).fill(-1));
				const highLow = scanner.highLowPlan(plan);
				const cached = `{ const x0 = ${bounds}[${x * 2}], x1 = ${bounds}[${(x * 2) + 1}], y0 = ${bounds}[${y * 2}], y1 = ${bounds}[${(y * 2) + 1}];
					if (x1 - x0 <= 8 && y1 - y0 <= 8 && b[x0] !== 45 && b[y0] !== 45 && (b[x0] !== 48 || x1 - x0 === 1) && (b[y0] !== 48 || y1 - y0 === 1)) {
						const key = (${ints}[${x}] * 67108864) + ${ints}[${y}];
						const at = (Math.imul((${ints}[${x}] << 8) ^ ${ints}[${y}], -1640531535) >>> 28) << 1;
						if (key === ${kept}[at]) { v = ${kept}[at + 1]; } else { v = ${self}.numberOfBytes(b, ${plan}); ${kept}[at] = key; ${kept}[at + 1] = v; }
					} else { v = ${self}.numberOfBytes(b, ${plan}); } }`;
				// Printed as high and low bits (dev as MAJOR,MINOR): rebuilt at once where that is exact (NaN parts are not).
				const value = highLow
					? `{ const x = ${ints}[${x}], y = ${ints}[${y}]; if (y < ${2 ** highLow.shift} && x < ${highLow.limit / (2 ** highLow.shift)}) { v = (x * ${2 ** highLow.shift}) + y; } else ${cached} }`
					: cached;
				return `{ let v;
					${value}
					if (v !== v) { return false; } n[${i}] = v; }`;
			}

			if (!integer) {
				return `{ const v = ${self}.numberOfBytes(b, ${plan}); if (v !== v) { return false; } n[${i}] = v; }`;
			}

			const value = integer.range === 0 ? 'v' : `(v >= ${integer.range / 2} ? v - ${integer.range} : v)`;
			return `{ const v = ${ints}[${integer.slot}]; if (v !== v) { return false; } n[${i}] = ${value}; }`;
		});
		return [...code, `o.event = ${event}; o.scanner = ${self}; o.plans = ${constant(queryPlans)}; return true;`].join('\n');
	};

	/**
	 * A statement setting `variable` to what `scanner`'s byte scan answers
	 * (1, 0, -1), through two functions: its first attempt, which calls the
	 * nested loops when it cannot tell. Most lines never need the loops.
	 * Small functions are optimized sooner: V8 waits
	 * for a function to have run the more, the larger its bytecode, and
	 * compiles it the longer; lines are read by slower code meanwhile.
	 */
	let scans = 0;
	const helpers: string[] = [];
	const scan = (scanner: BodyScanner, variable: string): string => {
		const label = `S${scans++}`;
		const names = {bytes: 'b', start: 'bs', end: 'end', bounds: constant(scanner.scanBounds), values: constant(scanner.integers), label: `${label}_`};
		const exit = (result: number): string => `{ result = ${result}; break ${label}; }`;
		const first = scanner.scanCode({...names, exit}, 'first');
		const loops = scanner.scanCode({...names, exit}, 'loops');
		if (first === undefined || loops === undefined) {
			return `${variable} = -1;`;
		}

		helpers.push(
			`function loops${label}(b, bs, end) {\nlet result = 0;\n${label}: ${loops}\nreturn result;\n}`,
			`function first${label}(b, bs, end) {\nlet result = 0;\n${label}: { ${first}\nresult = loops${label}(b, bs, end); }\nreturn result;\n}`,
		);
		return `${variable} = first${label}(b, bs, end);`;
	};

	const bodies = entries.flatMap(entry => {
		const {codes, scanner, retry} = entry;
		if (codes.some(code => code > 127)) {
			return [];
		}

		const length = codes.length;
		const test = [`n0 + ${length} < end`, `b[n0 + ${length}] === 58`, ...[...codes].map((code, i) => `b[n0 + ${i}] === ${code}`)].join(' && ');
		let body: string;
		if (scanner && retry) {
			// Older-format lines: when this kernel's fmt provably cannot match
			// what the older one matched, it need not be tried first.
			body = `let retried = 0;
				${scan(retry, 'retried')}
				let excluded = false;
				if (retried === 1) { ${scanner.excludesCode(retry, 'b', constant(retry.scanBounds), 'excluded')} }
				if (excluded) { ${take(retry, entry.queried)} }
				let result = 0;
				${scan(scanner, 'result')}
				if (result === 1) { ${take(scanner, entry.queried)} }
				if (result === 0 && retried === 1) { ${take(retry, entry.queried)} }
				return false;`;
		} else {
			const only = (scanner ?? retry)!;
			body = `let result = 0;
				${scan(only, 'result')}
				if (result === 1) { ${take(only, entry.queried)} }
				return false;`;
		}

		// Each event's body in a function of its own, called by the line reader (see scan()).
		const name = `event${helpers.length}`;
		helpers.push(`function ${name}(b, bs, end, o) {
			const n = o.numbers;
			${body}
		}`);
		return [`if (${test}) {
			return ${name}(b, n0 + ${length + 1} < end && b[n0 + ${length + 1}] === 32 ? n0 + ${length + 2} : n0 + ${length + 1}, end, o);
		}`];
	});

	const code = `${helpers.join('\n')}
return function readLine(b, start, end, o) {
	const n = o.numbers;
	// Runs of digits stop at any other byte, and past the array (undefined ^ 48
	// is 48); the tests after each run refuse one that went past \`end\`.
	let digit = 0;
	let cs = start;
	while (cs < end && b[cs] === 32) { cs++; }
	if (cs >= end) { return false; }
	// Comments, gaps, stack frames and lost-events lines start with "#", " =>" or "CPU:": the text path.
	const first = b[cs];
	if (first === 35 || first === 61 || first === 67 || SP(first)) { return false; }
	// The comm may hold dashes: the first "-PID" the rest of the prefix follows ends it.
	dashes: for (let dash = cs + 1; dash < end; dash++) {
		if (b[dash] !== 45) { continue; }
		let p = dash + 1;
		const pidStart = p;
		let pid = 0;
		while ((digit = b[p] ^ 48) < 10) { pid = (pid * 10) + digit; p++; }
		if (p === pidStart || p >= end || !SP(b[p])) { continue; }
		if (p - pidStart > 15) { return false; }
		while (p < end && SP(b[p])) { p++; }
		if (p < end && b[p] === 40) {
			p++;
			while (p < end && SP(b[p])) { p++; }
			const tgidStart = p;
			if (p < end && b[p] >= 48 && b[p] <= 57) {
				while (p < end && b[p] >= 48 && b[p] <= 57) { p++; }
				if (p - tgidStart > 15) { return false; }
			} else {
				while (p < end && b[p] === 45) { p++; }
				if (p === tgidStart) { continue; }
			}

			if (p >= end || b[p] !== 41 || p + 1 >= end || !SP(b[p + 1])) { continue; }
			p++;
			while (p < end && SP(b[p])) { p++; }
		}

		if (p >= end || b[p] !== 91) { continue; }
		const cpuStart = ++p;
		let cpu = 0;
		while ((digit = b[p] ^ 48) < 10) { cpu = (cpu * 10) + digit; p++; }
		if (p === cpuStart || p >= end || b[p] !== 93 || p + 1 >= end || !SP(b[p + 1])) { continue; }
		if (p - cpuStart > 15) { return false; }
		p++;
		while (p < end && SP(b[p])) { p++; }
		// The flags column is optional and 5 or 4 wide (the regex tries 5, then 4, then none).
		widths: for (let w = 0; w < 3; w++) {
			const width = w === 0 ? 5 : (w === 1 ? 4 : 0);
			let t = p;
			if (width > 0) {
				if (!(t + width < end && SP(b[t + width]))) { continue; }
				for (let i = 0; i < width; i++) {
					if (!FLAG(b[t + i])) { continue widths; }
				}

				t += width;
				while (t < end && SP(b[t])) { t++; }
			}

			const wholeStart = t;
			let whole = 0;
			while ((digit = b[t] ^ 48) < 10) { whole = (whole * 10) + digit; t++; }
			if (t === wholeStart) { continue; }
			const wholeEnd = t;
			let fractionStart = t;
			let fraction = 0;
			if (t + 1 < end && b[t] === 46 && b[t + 1] >= 48 && b[t + 1] <= 57) {
				fractionStart = ++t;
				while ((digit = b[t] ^ 48) < 10) { fraction = (fraction * 10) + digit; t++; }
			}

			if (t >= end || b[t] !== 58 || t + 1 >= end || !SP(b[t + 1])) { continue; }
			const digits = t - fractionStart;
			// Counter clocks (no fraction), beyond-ns fractions and huge values: the text path.
			if (digits === 0 || digits > 9 || wholeEnd - wholeStart > 15) { return false; }
			const scale = POW[9 - digits];
			if (((whole * POW[digits]) + fraction) * scale > ${Number.MAX_SAFE_INTEGER}) { return false; }
			o.cpu = cpu; o.pid = pid; o.seconds = whole; o.nanoseconds = fraction * scale; o.commStart = cs; o.commEnd = dash;
			const n0 = t + 2;
			${bodies.join('\n')}
			return false;
		}
	}

	return false;
};`;
	// One factory per code text: decoders reading the same formats (each
	// piece of a split replay has its own) share its optimized code.
	const parameters = [...constants.values()];
	const key = `${parameters.join(',')}\n${code}`;
	let factory = lineReaderFactories.get(key);
	if (!factory) {
		// eslint-disable-next-line no-new-func, @typescript-eslint/no-implied-eval
		factory = new Function(...parameters, code) as (...values: unknown[]) => CompiledLineReader['read'];
		if (lineReaderFactories.size >= 64) {
			lineReaderFactories.clear();
		}

		lineReaderFactories.set(key, factory);
	}

	return {read: factory(...constants.keys())};
}

/** Line reader factories by their parameters and code. */
const lineReaderFactories = new Map<string, (...values: unknown[]) => CompiledLineReader['read']>();

interface EventEntry {
	readonly name: string;
	readonly codes: Uint16Array;
	readonly scanner: BodyScanner | undefined;
	/** No format for the name, and none can be loaded: the general reader would not decode with `formats`. */
	readonly unknown: boolean;
	readonly retry: BodyScanner | undefined;
	/** Index of the name in the field query's events; -1 when not queried. */
	readonly queried: number;
}

/** Which events, and which of their fields by name, a field reader wants. */
export interface FieldQuery {
	readonly events: readonly string[];
	/** Integer fields, read as numbers. */
	readonly numbers: readonly string[];
	/** String fields. */
	readonly strings: readonly string[];
}

/**
 * An event line of a queried event, decoded in place: nothing is built
 * until asked for. It is reused: read what you need before the next line.
 */
export interface FieldLine {
	readonly kind: 'fields';
	/** Index of the event's name in the query's events. */
	readonly event: number;
	readonly cpu: number;
	readonly pid: number;
	/** The timestamp: whole seconds, and the fraction in nanoseconds (both exact). */
	readonly seconds: number;
	readonly nanoseconds: number;
	/** The query's number fields, in its order; NaN where the event has no such field. */
	readonly numbers: Float64Array;
	/** The task's comm. */
	comm(): string;
	/** The query's string field at `index`; undefined when the event has no such field. */
	text(index: number): string | undefined;
}

/** Where a field reader's lines go: queried events in place, and every other record. */
export interface FieldSink extends FieldQuery {
	event(line: FieldLine): void;
	record(record: TraceRecord): void;
}

/** Per scanner: the plan of each queried field (planOf's answers). */
interface QueryPlans {
	readonly numbers: Int32Array;
	readonly strings: Int32Array;
	/** Some queried field needs the general decoder's rules: such lines become records. */
	readonly general: boolean;
}

class ScannedLine implements FieldLine {
	readonly kind = 'fields';
	event = -1;
	cpu = 0;
	pid = 0;
	seconds = 0;
	nanoseconds = 0;
	readonly numbers: Float64Array;
	source = '';
	/** Set when the line was read from bytes (then `source` is unused). */
	bytes: Uint8Array | undefined;
	commStart = 0;
	commEnd = 0;
	scanner: BodyScanner | undefined;
	plans: QueryPlans | undefined;

	constructor(query: FieldQuery, readonly strings: Interner) {
		this.numbers = new Float64Array(query.numbers.length);
	}

	/** Everything but the numbers and where the text is. */
	fill(event: number, cpu: number, pid: number, seconds: number, nanoseconds: number, commStart: number, commEnd: number, scanner: BodyScanner, plans: QueryPlans): void {
		this.event = event;
		this.cpu = cpu;
		this.pid = pid;
		this.seconds = seconds;
		this.nanoseconds = nanoseconds;
		this.commStart = commStart;
		this.commEnd = commEnd;
		this.scanner = scanner;
		this.plans = plans;
	}

	comm(): string {
		return this.bytes ? this.strings.getBytes(this.bytes, this.commStart, this.commEnd) : this.strings.get(this.source, this.commStart, this.commEnd);
	}

	text(index: number): string | undefined {
		const plan = this.plans?.strings[index] ?? -1;
		if (plan < 0) {
			return undefined;
		}

		return this.bytes ? this.scanner!.textOfBytes(this.bytes, plan, this.strings) : this.scanner!.text(this.source, plan, this.strings);
	}
}

/**
 * Decodes event lines in place, as the general text reader would, or says
 * it cannot (undefined): the caller then gives the line to the general
 * reader. With `retryFormats`, a body that does not match `formats`' print
 * fmt is tried with those (older kernels' formats), as replays do. With a
 * `query`, readLine() gives the queried events' fields without building
 * records.
 */
export class FastTextDecoder {
	readonly #scanners = new WeakMap<EventFormat, BodyScanner | null>();
	/** Recently seen event names (compared in place, without slicing the name out). */
	#events: EventEntry[] = [];
	#flags: Array<{readonly text: string; readonly codes: Uint16Array}> = [];
	#dashText = '';
	#dashSearched = 0;
	#dash = -1;
	readonly #strings = new Interner();
	readonly #query: FieldQuery | undefined;
	readonly #line: ScannedLine | undefined;
	readonly #queryPlans = new Map<BodyScanner, QueryPlans>();
	/** Changes whenever the event list does (the line reader is then looked up again). */
	#eventsVersion = 0;
	#readerVersion = -1;
	/** The caches' generations at the last refresh() that forgot. */
	#formatsSeen = -1;
	#retryFormatsSeen = -1;
	#reader: CompiledLineReader | undefined;
	/** Line readers compiled, by the scanners they read with. */
	readonly #readers = new Map<string, CompiledLineReader>();
	/** readLine() is running: queried events fill the line instead of becoming records. */
	#reading = false;

	constructor(readonly formats: FormatCache | undefined, readonly retryFormats?: FormatCache | undefined, query?: FieldQuery | undefined) {
		this.#query = query;
		this.#line = query && new ScannedLine(query, this.#strings);
	}

	/**
	 * At most how many lines of the trace text file `path` report a gap
	 * (lost events, or a CPU's buffer starting late): those starting "CPU:"
	 * or "#####", found with a byte search. Readers that hold results while
	 * a later gap may void them can stop holding after the last. With
	 * `thread`, the file is searched by a worker thread (this one goes on
	 * meanwhile). Throws TracefsError when the file cannot be read.
	 */
	static async gapLinesIn(path: string, options: {readonly thread?: boolean} = {}): Promise<number> {
		try {
			return await (options.thread ? gapLinesOnThread(path) : gapLines(path));
		} catch (error) {
			throw traceFileError(path, error);
		}
	}

	/**
	 * Forget what was looked up by event name when formats were added to
	 * either cache since: they are seen. Batch readers call it once per
	 * chunk (what was looked up stays while the caches stay the same, so
	 * the in-place byte reader goes on with the events it knows).
	 */
	refresh(): void {
		const formats = this.formats?.generation ?? 0;
		const retryFormats = this.retryFormats?.generation ?? 0;
		if (formats === this.#formatsSeen && retryFormats === this.#retryFormatsSeen) {
			return;
		}

		this.#formatsSeen = formats;
		this.#retryFormatsSeen = retryFormats;
		this.#events = [];
		this.#eventsVersion++;
	}

	/**
	 * Decode the event line `text.slice(start, end)` (no newline), or return
	 * undefined when the general reader has to (anything but an event line
	 * whose body matches a compiled print fmt). `clean`: the caller checked
	 * that the text holds no line terminators (\n, \r, U+2028, U+2029) in
	 * that range. Never throws.
	 */
	decodeLine(text: string, start = 0, end = text.length, clean = false): TraceEvent | undefined {
		this.#reading = false;
		const event = this.#decode(text, start, end, clean);
		return event === this.#line ? undefined : event as TraceEvent | undefined;
	}

	/**
	 * As decodeLine, but an event the query names comes back as the
	 * decoder's FieldLine (the same object every time, refilled), with the
	 * queried fields as the general reader would decode them. Lines whose
	 * queried fields only the general reader decodes exactly give undefined.
	 * Without a query, the same as decodeLine.
	 */
	readLine(text: string, start = 0, end = text.length, clean = false): TraceEvent | FieldLine | undefined {
		this.#reading = this.#line !== undefined;
		return this.#decode(text, start, end, clean);
	}

	#decode(text: string, start: number, end: number, clean: boolean): TraceEvent | ScannedLine | undefined {
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
	#afterComm(text: string, commStart: number, dash: number, end: number): TraceEvent | ScannedLine | undefined | null {
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

			const event = this.#afterFlags(text, commStart, dash, end, t, pid, tgid, cpu, p, width);
			if (event !== null) {
				return event;
			}
		}

		return null;
	}

	/** From the timestamp on; null when the timestamp does not follow. The flags column is `width` wide at `flagsAt`. */
	#afterFlags(text: string, commStart: number, dash: number, end: number, t: number, pid: number, tgid: number | undefined, cpu: number, flagsAt: number, width: number): TraceEvent | ScannedLine | undefined | null {
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

		const whole = digitsValue(text, wholeStart, wholeEnd);
		const fraction = digitsValue(text, fractionStart, t);
		const scaled = (whole * powersOfTen[fractionDigits]!) + fraction;
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
		let scanner = entry.scanner;
		let result = scanner ? scanner.scan(text, bodyStart, end) : 0;
		if (result === 0 && entry.retry) {
			scanner = entry.retry;
			result = scanner.scan(text, bodyStart, end);
		}

		if (result !== 1 || !scanner) {
			return undefined;
		}

		if (this.#reading && entry.queried !== -1) {
			const line = this.#line!;
			const plans = this.#plansOf(scanner);
			if (plans.general) {
				return undefined;
			}

			for (let i = 0; i < plans.numbers.length; i++) {
				const plan = plans.numbers[i]!;
				const value = plan === -1 ? Number.NaN : scanner.number(text, plan);
				if (plan !== -1 && Number.isNaN(value)) {
					return undefined;
				}

				line.numbers[i] = value;
			}

			line.fill(entry.queried, cpu, pid, whole, fraction * powersOfTen[9 - fractionDigits]!, commStart, dash, scanner, plans);
			line.source = text;
			line.bytes = undefined;
			return line;
		}

		// One record shape with the general reader (same properties, same order).
		const body = text.slice(bodyStart, end);
		return {
			kind: 'event',
			cpu,
			timestamp: scaled / powersOfTen[fractionDigits]!,
			timestampNs: BigInt(ns),
			pid,
			tgid,
			comm: this.#strings.get(text, commStart, dash),
			flags: width === 0 ? undefined : this.#flagsText(text, flagsAt, width),
			system: scanner.format.system,
			event: entry.name,
			fields: scanner.fields(text),
			decoded: true,
			body,
		};
	}

	/**
	 * readLine() for a queried event's line of ASCII text without line
	 * terminators, `bytes[start..end)`, read from the bytes: the decoder's
	 * FieldLine, or undefined for anything else and anything unusual (give
	 * the line's text to readLine() then). Never throws.
	 */
	readBytes(bytes: Uint8Array, start: number, end: number): FieldLine | undefined {
		const line = this.#line;
		if (!line || start >= end) {
			return undefined;
		}

		if (this.#readerVersion !== this.#eventsVersion) {
			this.#reader = this.#lineReader();
			this.#readerVersion = this.#eventsVersion;
		}

		if (!this.#reader!.read(bytes, start, end, line)) {
			return undefined;
		}

		line.bytes = bytes;
		return line;
	}

	/**
	 * The line reader for the queried events seen so far (those in the
	 * event list), compiled once per set of scanners and kept.
	 */
	#lineReader(): CompiledLineReader {
		const entries = this.#events.filter(entry => entry.queried !== -1 && (entry.scanner ?? (entry.unknown ? entry.retry : undefined)))
			.sort((a, b) => a.queried - b.queried);
		const key = entries.map(entry => `${entry.queried}:${scannerId(entry.scanner)}:${scannerId(entry.retry)}:${entry.unknown ? 1 : 0}`).join(' ');
		let reader = this.#readers.get(key);
		if (!reader) {
			reader = compileLineReader(entries, scanner => this.#plansOf(scanner));
			this.#readers.set(key, reader);
		}

		return reader;
	}

	#plansOf(scanner: BodyScanner): QueryPlans {
		let plans = this.#queryPlans.get(scanner);
		if (!plans) {
			const query = this.#query!;
			const numbers = Int32Array.from(query.numbers, name => scanner.planOf(name, 'number'));
			const strings = Int32Array.from(query.strings, name => scanner.planOf(name, 'text'));
			plans = {numbers, strings, general: numbers.includes(-2) || strings.includes(-2)};
			this.#queryPlans.set(scanner, plans);
		}

		return plans;
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
			if (holds(text, at, entry.codes, end) && codeAt(text, at + entry.codes.length, end) === 58) {
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
			queried: this.#query?.events.indexOf(name) ?? -1,
		};
		// A format missing from an instance's cache may load later (the general reader loads it).
		if (this.#events.length < 16 && (entry.scanner || !this.formats?.instance)) {
			this.#events.push(entry);
			this.#eventsVersion++;
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
	/**
	 * Read the events `fields` names without building records: each goes to
	 * `fields.event` as a FieldLine, with its queried fields decoded as the
	 * general reader would; every other record goes to `fields.record`, in
	 * the order of the text. Such events carry no stack traces (frames after
	 * them are dropped, as after any event the general reader could not
	 * hold). The batches then come empty, one per chunk: a point to pass on
	 * what the callbacks gathered.
	 */
	readonly fields?: FieldSink | undefined;
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
 * The general reader's side of a reading pass: lines the in-place path
 * did not take go through it, in order with the queried events (which
 * first release what it held for a stack trace). Records go to
 * `sink.record`, decoded again with `retryFormats` where that helps.
 */
export class GeneralPass {
	readonly general: TraceTextDecoder;
	/** The general reader may hold an event back (for its stack trace). */
	#holds = false;

	constructor(readonly formats: FormatCache | undefined, readonly retryFormats: FormatCache | undefined, readonly fast: FastTextDecoder, readonly sink: Pick<FieldSink, 'record'> & Partial<Pick<FieldSink, 'event'>>) {
		this.general = new TraceTextDecoder(formats);
	}

	emit(record: TraceRecord): void {
		this.sink.record(decodeAgain(record, this.retryFormats));
	}

	/** A line only the general reader decodes (loading the format it needs first). */
	async line(text: string): Promise<void> {
		const parsed = parseTraceLine(text);
		const missing = this.general.missingFormat(parsed);
		if (missing !== undefined) {
			await this.formats!.load(missing).catch(() => undefined);
		}

		for (const record of this.general.accept(parsed)) {
			this.emit(record);
		}
	}

	/** A queried event read in place. */
	field(line: FieldLine): void {
		if (this.#holds) {
			this.#holds = false;
			this.flush();
		}

		this.sink.event!(line);
	}

	/** A line the in-place byte path left: the text path, else the general reader. */
	async other(text: string, clean: boolean): Promise<void> {
		this.#holds = true;
		const event = this.fast.readLine(text, 0, text.length, clean);
		if (event === undefined) {
			await this.line(text);
		} else if (event.kind === 'event') {
			const done = this.general.hold(event);
			if (done) {
				this.emit(done);
			}
		} else {
			this.flush();
			this.sink.event!(event);
		}
	}

	/** What the general reader still holds. */
	flush(): void {
		for (const record of this.general.flush()) {
			this.emit(record);
		}
	}
}

/**
 * Decode trace text like decodeTraceText, the same records in the same
 * order, but in batches (one per chunk of input) and through the fast path
 * where it applies. For long traces: one await per chunk instead of one
 * per record. Never throws for malformed lines; rethrows errors of the
 * source.
 */
export async function * decodeTraceTextBatches(source: AsyncIterable<string | Uint8Array>, options: FastTextOptions = {}): AsyncGenerator<TraceRecord[]> {
	const {formats, retryFormats, signal, fields} = options;
	const fast = new FastTextDecoder(formats, retryFormats, fields);
	const utf8 = new StringDecoder('utf8');
	let partial = '';
	let batch: TraceRecord[] = [];
	const pass = new GeneralPass(formats, retryFormats, fast, fields ?? {
		record(record) {
			batch.push(record);
		},
	});
	const {general} = pass;
	const emit = (record: TraceRecord): void => pass.emit(record);
	const generalLine = async (line: string): Promise<void> => pass.line(line);

	// Small batches: records die young (a batch alive across a scavenge is copied).
	async function * decodeLines(data: string, cut: number): AsyncGenerator<TraceRecord[]> {
		fast.refresh();
		// Lines are split at \n and lose a final \r; any other line terminator sends its line to the general reader.
		const clean = data.indexOf('\r') === -1 && data.indexOf('\u2028') === -1 && data.indexOf('\u2029') === -1;
		for (let start = 0; start <= cut;) {
			const newline = data.indexOf('\n', start);
			const end = newline > start && data.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
			const event = fast.readLine(data, start, end, clean);
			if (event === undefined) {
				// eslint-disable-next-line no-await-in-loop
				await generalLine(data.slice(start, end));
			} else if (event.kind === 'event') {
				const done = general.hold(event);
				if (done) {
					emit(done);
				}
			} else {
				// A queried event: what the general reader held comes first.
				for (const record of general.flush()) {
					emit(record);
				}

				fields!.event(event);
			}

			start = newline + 1;
			if (batch.length >= batchSize) {
				yield batch;
				batch = [];
			}
		}

		if (batch.length > 0 || fields) {
			yield batch;
			batch = [];
		}
	}

	// ASCII text without carriage returns, read from the bytes: queried
	// events in place, every other line through the text path.
	async function * decodeBytes(bytes: Buffer): AsyncGenerator<TraceRecord[]> {
		fast.refresh();
		let lines = 0;
		for (let start = 0; start < bytes.length;) {
			const newline = bytes.indexOf(10, start);
			const line = fast.readBytes(bytes, start, newline);
			if (line) {
				pass.field(line);
			} else {
				// eslint-disable-next-line no-await-in-loop
				await pass.other(bytes.toString('latin1', start, newline), true);
			}

			start = newline + 1;
			// Often enough that what the callbacks gather dies young.
			if (++lines === 2048) {
				lines = 0;
				yield batch;
				batch = [];
			}
		}

		yield batch;
		batch = [];
	}

	/** Whole lines of bytes: from the bytes when they can be, else as text. */
	async function * decodePiece(head: Buffer): AsyncGenerator<TraceRecord[]> {
		if (head.length === 0) {
			return;
		}

		if (fields && partial === '' && isAscii(head) && head.indexOf(13) === -1) {
			yield * decodeBytes(head);
			return;
		}

		const data = partial + utf8.write(head);
		partial = '';
		yield * decodeLines(data, data.length - 1);
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

			// The line begun in the chunk before, completed: alone, so the rest is read in place.
			let from = 0;
			if (tail) {
				from = bytes.indexOf(10) + 1;
				yield * decodePiece(Buffer.concat([tail, bytes.subarray(0, from)]));
			}

			const head = bytes.subarray(from, newline + 1);
			tail = newline + 1 < bytes.length ? Buffer.from(bytes.subarray(newline + 1)) : undefined;
			yield * decodePiece(head);
			continue;
		}

		if (cut === -1) {
			continue;
		}

		yield * decodeLines(data, cut);
	}

	const last = partial + (tail ? utf8.write(tail) : '') + utf8.end();
	if (last !== '' && !signal?.aborted) {
		await generalLine(last);
	}

	for (const record of general.flush()) {
		emit(record);
	}

	if (batch.length > 0 || fields) {
		yield batch;
	}
}
