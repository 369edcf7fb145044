/**
 * The kernel ring buffer's binary layout, as described by events/header_page
 * and events/header_event: sub-buffer ("page") headers, compressed event
 * headers with time deltas, and event records laid out by their format.
 */
import type {EventField, EventFormat} from './format.js';
import {TracefsError} from './errors.js';
import type {FieldValue, LostEvents, TraceEvent} from './trace-record.js';

/** Where things are in a ring-buffer page (from events/header_page). */
export interface PageLayout {
	/** Bytes per page (sub-buffer): buffer_subbuf_size_kb * 1024, or 4096. */
	readonly pageSize: number;
	readonly timestampOffset: number;
	readonly commitOffset: number;
	/** sizeof(local_t): 8 on 64-bit kernels, 4 on 32-bit. */
	readonly commitSize: number;
	readonly dataOffset: number;
	readonly littleEndian: boolean;
}

/** commit flag: events were lost before this page. */
export const missedEventsFlag = 0x8000_0000;
/** commit flag: the lost count is stored after the page's data. */
export const missedStoredFlag = 0x4000_0000;
const commitMask = 0x3FFF_FFFF;

export const typePadding = 29;
export const typeTimeExtend = 30;
export const typeTimeStamp = 31;
const typeDataMax = 28;
const tsShift = 27;
const tsMask = (1 << tsShift) - 1;

const headerFieldPattern = /field:\s*(.*?)\s+(\w+);\s*offset:(\d+);\s*size:(\d+);/g;

/**
 * Parse events/header_page. `pageSize` is the kernel's sub-buffer size when
 * known (buffer_subbuf_size_kb); otherwise it is the data offset plus the
 * data field's size. Throws TracefsError when the text lacks the fields.
 */
export function parseHeaderPage(text: string, pageSize?: number, littleEndian = true): PageLayout {
	const fields = new Map<string, {offset: number; size: number}>();
	for (const match of text.matchAll(headerFieldPattern)) {
		if (!fields.has(match[2]!)) {
			fields.set(match[2]!, {offset: Number(match[3]), size: Number(match[4])});
		}
	}

	const timestamp = fields.get('timestamp');
	const commit = fields.get('commit');
	const data = fields.get('data');
	if (!timestamp || !commit || !data) {
		throw new TracefsError('events/header_page lacks timestamp, commit or data', {operation: 'parse header_page', usage: false});
	}

	return {
		pageSize: pageSize ?? data.offset + data.size,
		timestampOffset: timestamp.offset,
		commitOffset: commit.offset,
		commitSize: commit.size,
		dataOffset: data.offset,
		littleEndian,
	};
}

/**
 * Check events/header_event describes the layout this decoder knows
 * (type_len 5 bits, time_delta 27 bits, padding 29, time_extend 30,
 * time_stamp 31). Throws TracefsError otherwise.
 */
export function checkHeaderEvent(text: string): void {
	const number = (pattern: RegExp): number | undefined => {
		const match = pattern.exec(text);
		return match ? Number(match[1]) : undefined;
	};

	const typeLen = number(/type_len\s*:\s*(\d+)\s*bits/);
	const timeDelta = number(/time_delta\s*:\s*(\d+)\s*bits/);
	const padding = number(/padding\s*:\s*type\s*==\s*(\d+)/);
	const extend = number(/time_extend\s*:\s*type\s*==\s*(\d+)/);
	const stamp = number(/time_stamp\s*:\s*type\s*==\s*(\d+)/);
	if (typeLen !== 5 || timeDelta !== tsShift || padding !== typePadding || extend !== typeTimeExtend || (stamp !== undefined && stamp !== typeTimeStamp)) {
		throw new TracefsError(`unsupported ring-buffer event header (type_len ${typeLen} bits, time_delta ${timeDelta} bits)`, {operation: 'parse header_event', usage: false});
	}
}

/** What a page holds besides events. */
export interface PageInfo {
	readonly timestampNs: bigint;
	/** Bytes of event data. */
	readonly size: number;
	/** Events lost before this page: 0 none, a count, or undefined when lost but not counted. */
	readonly missed: number | undefined;
}

function readU64(view: DataView, offset: number, size: number, little: boolean): bigint {
	return size === 8 ? view.getBigUint64(offset, little) : BigInt(view.getUint32(offset, little));
}

/** Read a page header. */
export function pageInfo(view: DataView, layout: PageLayout): PageInfo {
	const little = layout.littleEndian;
	const timestampNs = view.getBigUint64(layout.timestampOffset, little);
	const commit = Number(readU64(view, layout.commitOffset, layout.commitSize, little) & 0xFFFF_FFFFn);
	const size = Math.min(commit & commitMask, layout.pageSize - layout.dataOffset);
	let missed: number | undefined = 0;
	if (commit & missedEventsFlag) {
		const at = layout.dataOffset + size;
		missed = commit & missedStoredFlag && at + layout.commitSize <= view.byteLength
			? Number(readU64(view, at, layout.commitSize, little))
			: undefined;
	}

	return {timestampNs, size, missed};
}

/**
 * Walk the events of one page: calls `onEvent(timestampNs, dataOffset,
 * dataLength)` for each data record, in order. Handles padding, time
 * extends and absolute time stamps. Returns the page info.
 */
export function walkPage(page: Uint8Array, layout: PageLayout, onEvent: (timestampNs: bigint, offset: number, length: number) => void): PageInfo {
	const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
	const info = pageInfo(view, layout);
	const little = layout.littleEndian;
	let ts = info.timestampNs;
	let offset = layout.dataOffset;
	const end = layout.dataOffset + info.size;
	while (offset + 4 <= end) {
		const header = view.getUint32(offset, little);
		const typeLen = header & 0x1F;
		const delta = header >>> 5;
		if (typeLen === typePadding) {
			if (delta === 0) {
				// A null padding: the rest of the page is unused.
				break;
			}

			ts += BigInt(delta);
			offset += 4 + view.getUint32(offset + 4, little);
			continue;
		}

		if (typeLen === typeTimeExtend) {
			ts += (BigInt(view.getUint32(offset + 4, little)) << 27n) + BigInt(delta);
			offset += 8;
			continue;
		}

		if (typeLen === typeTimeStamp) {
			// Absolute: 59 bits stored, the top bits come from the page time stamp.
			const absolute = (BigInt(view.getUint32(offset + 4, little)) << 27n) | BigInt(delta);
			ts = absolute | (info.timestampNs & ~((1n << 59n) - 1n));
			offset += 8;
			continue;
		}

		let length: number;
		let data: number;
		if (typeLen === 0) {
			length = view.getUint32(offset + 4, little) - 4;
			data = offset + 8;
		} else {
			length = typeLen * 4;
			data = offset + 4;
		}

		ts += BigInt(delta);
		if (data + length > end || length < 0) {
			break;
		}

		onEvent(ts, data, length);
		offset = data + ((length + 3) & ~3);
	}

	return info;
}

// ---- records ------------------------------------------------------------------

type Reader = (view: DataView, bytes: Buffer, base: number, length: number) => FieldValue;

const twoTo32 = 4_294_967_296;

function integerReader(offset: number, size: number, signed: boolean, little: boolean): Reader {
	switch (size) {
		case 1: {
			return signed ? (v, _b, base) => v.getInt8(base + offset) : (v, _b, base) => v.getUint8(base + offset);
		}

		case 2: {
			return signed ? (v, _b, base) => v.getInt16(base + offset, little) : (v, _b, base) => v.getUint16(base + offset, little);
		}

		case 4: {
			return signed ? (v, _b, base) => v.getInt32(base + offset, little) : (v, _b, base) => v.getUint32(base + offset, little);
		}

		case 8: {
			const lo = little ? 0 : 4;
			const hi = little ? 4 : 0;
			return (v, _b, base) => {
				const high = v.getUint32(base + offset + hi, little);
				if (high < 0x20_0000) {
					return (high * twoTo32) + v.getUint32(base + offset + lo, little);
				}

				const value = signed ? v.getBigInt64(base + offset, little) : v.getBigUint64(base + offset, little);
				return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? Number(value) : value;
			};
		}

		default: {
			return (_v, bytes, base) => bytes.toString('hex', base + offset, base + offset + size);
		}
	}
}

function cString(bytes: Buffer, start: number, end: number): string {
	const nul = bytes.indexOf(0, start);
	return bytes.toString('utf8', start, nul === -1 || nul > end ? end : nul);
}

function elementSize(type: string): number {
	if (/\*$/.test(type)) {
		return 8;
	}

	const sized = /(8|16|32|64)$/.exec(type);
	if (sized && /^(?:__)?[us]\d+$/.test(type)) {
		return Number(sized[1]) / 8;
	}

	if (/\bchar\b|^bool$/.test(type)) {
		return 1;
	}

	if (/\bshort\b/.test(type)) {
		return 2;
	}

	if (/\blong\b|size_t|u64|s64/.test(type)) {
		return 8;
	}

	return 4;
}

function arrayReader(start: (view: DataView, base: number, length: number) => [number, number], field: EventField, little: boolean): Reader {
	if (field.isString) {
		return (view, bytes, base, length) => {
			const [from, to] = start(view, base, length);
			return cString(bytes, from, to);
		};
	}

	const size = elementSize(field.elementType);
	const read = integerReader(0, size, field.signed, little);
	return (view, bytes, base, length) => {
		const [from, to] = start(view, base, length);
		const values: Array<number | bigint> = [];
		for (let at = from; at + size <= to; at += size) {
			values.push(read(view, bytes, at, size) as number | bigint);
		}

		return values;
	};
}

function fieldReader(field: EventField, little: boolean, toRecordEnd = false): Reader {
	const {offset, size} = field;
	if (toRecordEnd) {
		return arrayReader((_view, base, length) => [base + offset, base + length], field, little);
	}

	if (field.dataLoc) {
		const relative = field.dataLoc === 'rel';
		return arrayReader((view, base, length) => {
			const loc = view.getUint32(base + offset, little);
			const from = base + (loc & 0xFFFF) + (relative ? offset + size : 0);
			const to = Math.min(from + (loc >>> 16), base + length);
			return [from, to];
		}, field, little);
	}

	if (field.arrayLength !== undefined) {
		return arrayReader((_view, base) => [base + offset, base + offset + size], field, little);
	}

	return integerReader(offset, size, field.signed, little);
}

/** A compiled record decoder for one event format. */
export interface RecordDecoder {
	readonly format: EventFormat;
	/** The fields (common_* excluded) of the record at [base, base + length). */
	fields(view: DataView, bytes: Buffer, base: number, length: number): Record<string, FieldValue>;
}

/** Compile the field readers of a format (once per format). */
export function compileRecordDecoder(format: EventFormat, littleEndian = true): RecordDecoder {
	// ftrace's stack records are longer than their format's caller[8] says.
	const isStack = format.system === 'ftrace' && (format.name === 'kernel_stack' || format.name === 'user_stack');
	const readers = format.fields.filter(field => !field.common).map(field => ({
		name: field.name,
		read: fieldReader(field, littleEndian, isStack && field.name === 'caller'),
	}));
	return {
		format,
		fields(view, bytes, base, length) {
			const fields: Record<string, FieldValue> = {};
			for (const {name, read} of readers) {
				fields[name] = read(view, bytes, base, length);
			}

			return fields;
		},
	};
}

/** Looks up comm (and tgid) of a pid, from saved_cmdlines / saved_tgids. */
export interface TaskNames {
	comm(pid: number): string;
	tgid(pid: number): number | undefined;
}

/** Parse saved_cmdlines ("pid comm" lines) and saved_tgids ("pid tgid" lines) into a TaskNames. */
export function taskNames(cmdlines: string, tgids = ''): TaskNames & {readonly comms: Map<number, string>; readonly tgids: Map<number, number>} {
	const comms = new Map<number, string>();
	for (const line of cmdlines.split('\n')) {
		const space = line.indexOf(' ');
		if (space > 0) {
			comms.set(Number(line.slice(0, space)), line.slice(space + 1));
		}
	}

	const groups = new Map<number, number>();
	for (const line of tgids.split('\n')) {
		const [pid, tgid] = line.split(' ');
		if (pid && tgid) {
			groups.set(Number(pid), Number(tgid));
		}
	}

	return {
		comms,
		tgids: groups,
		comm: pid => (pid === 0 ? '<idle>' : comms.get(pid) ?? '<...>'),
		tgid: pid => groups.get(pid),
	};
}

/** Everything needed to decode pages. */
export interface PageDecodeContext {
	readonly layout: PageLayout;
	readonly decoderOf: (id: number) => RecordDecoder | undefined;
	readonly tasks: TaskNames;
}

/**
 * Decode one page of one CPU into records (and a LostEvents first when the
 * page says events were lost before it). Event ids without a decoder are
 * reported through `unknown` and skipped. Never throws on a corrupt page: it
 * stops at the first record that does not fit.
 */
export function decodePage(page: Buffer, cpu: number, context: PageDecodeContext, unknown?: (id: number) => void): Array<TraceEvent | LostEvents> {
	const out: Array<TraceEvent | LostEvents> = [];
	const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
	const little = context.layout.littleEndian;
	const info = walkPage(page, context.layout, (timestampNs, base, length) => {
		if (length < 8) {
			return;
		}

		const id = view.getUint16(base, little);
		const decoder = context.decoderOf(id);
		const pid = view.getInt32(base + 4, little);
		if (!decoder) {
			unknown?.(id);
			// Never drop silently: an event of unknown format keeps its id as name.
			out.push({
				kind: 'event', cpu, timestamp: Number(timestampNs / 1000n) / 1e6, timestampNs, pid, tgid: context.tasks.tgid(pid),
				comm: context.tasks.comm(pid), event: `#${id}`, fields: {}, decoded: false,
			});
			return;
		}

		const tgid = context.tasks.tgid(pid);
		const seconds = Number(timestampNs / 1000n) / 1e6;
		out.push({
			kind: 'event',
			cpu,
			timestamp: seconds,
			timestampNs,
			pid,
			tgid,
			comm: context.tasks.comm(pid),
			system: decoder.format.system,
			event: decoder.format.name,
			fields: decoder.fields(view, page, base, length),
			decoded: true,
		});
	});
	if (info.missed !== 0) {
		out.unshift({kind: 'lost', cpu, count: info.missed, source: 'page', timestampNs: info.timestampNs});
	}

	return out;
}

/** The event ids on a page (cheap: no field decoding). */
export function pageEventIds(page: Uint8Array, layout: PageLayout): Set<number> {
	const ids = new Set<number>();
	const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
	walkPage(page, layout, (_ts, base, length) => {
		if (length >= 2) {
			ids.add(view.getUint16(base, layout.littleEndian));
		}
	});
	return ids;
}

// ---- writing pages (tests, benchmarks, synthetic captures) --------------------

/**
 * Builds ring-buffer pages the way the kernel lays them out, for tests and
 * benchmarks: events with 27-bit deltas, time extends for larger gaps,
 * type_len 0 for records over 112 bytes, and the missed-events flags.
 */
export class PageBuilder {
	readonly #page: Buffer;
	readonly #view: DataView;
	#offset: number;
	#start: bigint | undefined;
	#last = 0n;

	constructor(readonly layout: PageLayout) {
		this.#page = Buffer.alloc(layout.pageSize);
		this.#view = new DataView(this.#page.buffer, this.#page.byteOffset, this.#page.byteLength);
		this.#offset = layout.dataOffset;
	}

	get isEmpty(): boolean {
		return this.#start === undefined;
	}

	/** Append a record (its payload starts with common_type). Returns false when the page is full. */
	add(timestampNs: bigint, payload: Uint8Array): boolean {
		const little = this.layout.littleEndian;
		const start = this.#start ?? timestampNs;
		let delta = timestampNs - (this.#start === undefined ? start : this.#last);
		const needsExtend = delta >= BigInt(tsMask + 1);
		const padded = (payload.length + 3) & ~3;
		const big = padded > typeDataMax * 4;
		const size = (needsExtend ? 8 : 0) + (big ? 8 : 4) + padded;
		if (this.#offset + size > this.layout.pageSize) {
			return false;
		}

		this.#start = start;
		if (needsExtend) {
			this.#view.setUint32(this.#offset, typeTimeExtend | Number((delta & BigInt(tsMask)) << 5n), little);
			this.#view.setUint32(this.#offset + 4, Number(delta >> 27n), little);
			this.#offset += 8;
			delta = 0n;
		}

		if (big) {
			this.#view.setUint32(this.#offset, Number(delta) << 5 >>> 0, little);
			this.#view.setUint32(this.#offset + 4, payload.length + 4, little);
			this.#page.set(payload, this.#offset + 8);
		} else {
			this.#view.setUint32(this.#offset, ((Number(delta) << 5) | (padded / 4)) >>> 0, little);
			this.#page.set(payload, this.#offset + 4);
		}

		this.#offset += size - (needsExtend ? 8 : 0);
		this.#last = timestampNs;
		return true;
	}

	/** The finished page; `missed` sets the missed-events flag (with a stored count when a number fits). */
	finish(missed?: number | 'uncounted'): Buffer {
		const little = this.layout.littleEndian;
		const size = this.#offset - this.layout.dataOffset;
		let commit = size;
		if (missed !== undefined) {
			commit |= missedEventsFlag;
			if (missed !== 'uncounted' && this.#offset + this.layout.commitSize <= this.layout.pageSize) {
				commit |= missedStoredFlag;
				this.#writeLong(this.#offset, BigInt(missed));
			}
		}

		this.#view.setBigUint64(this.layout.timestampOffset, this.#start ?? 0n, little);
		this.#writeLong(this.layout.commitOffset, BigInt(commit >>> 0));
		return this.#page;
	}

	#writeLong(offset: number, value: bigint): void {
		if (this.layout.commitSize === 8) {
			this.#view.setBigUint64(offset, value, this.layout.littleEndian);
		} else {
			this.#view.setUint32(offset, Number(value), this.layout.littleEndian);
		}
	}
}

/**
 * Encode a record payload for a format from field values (tests and
 * benchmarks). Strings go to char arrays and __data_loc fields (appended
 * after the fixed part). Throws TypeError on a value that does not fit its field.
 */
export function encodeRecord(format: EventFormat, pid: number, values: Readonly<Record<string, FieldValue>>, littleEndian = true): Buffer {
	const fixed = format.fields.reduce((end, field) => Math.max(end, field.offset + field.size), 0);
	const dynamic: Array<{field: EventField; bytes: Buffer}> = [];
	for (const field of format.fields) {
		if (field.dataLoc && typeof values[field.name] === 'string') {
			dynamic.push({field, bytes: Buffer.from(`${values[field.name] as string}\0`)});
		} else if (field.dataLoc) {
			dynamic.push({field, bytes: Buffer.from('\0')});
		}
	}

	const total = fixed + dynamic.reduce((sum, d) => sum + d.bytes.length, 0);
	const buffer = Buffer.alloc(total);
	const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
	let tail = fixed;
	for (const field of format.fields) {
		const value = field.name === 'common_type' ? format.id : field.name === 'common_pid' ? pid : values[field.name];
		if (field.dataLoc) {
			const entry = dynamic.find(d => d.field === field)!;
			entry.bytes.copy(buffer, tail);
			const offset = field.dataLoc === 'rel' ? tail - (field.offset + field.size) : tail;
			view.setUint32(field.offset, ((entry.bytes.length << 16) | offset) >>> 0, littleEndian);
			tail += entry.bytes.length;
			continue;
		}

		if (value === undefined) {
			continue;
		}

		if (typeof value === 'string') {
			buffer.write(value.slice(0, field.size - 1), field.offset, 'utf8');
			continue;
		}

		if (Array.isArray(value)) {
			const size = elementSize(field.elementType);
			for (const [index, element] of value.entries()) {
				writeInteger(view, field.offset + (index * size), size, BigInt(element), littleEndian);
			}

			continue;
		}

		writeInteger(view, field.offset, field.size, BigInt(value), littleEndian);
	}

	return buffer;
}

function writeInteger(view: DataView, offset: number, size: number, value: bigint, little: boolean): void {
	switch (size) {
		case 1: {
			view.setUint8(offset, Number(BigInt.asUintN(8, value)));
			break;
		}

		case 2: {
			view.setUint16(offset, Number(BigInt.asUintN(16, value)), little);
			break;
		}

		case 4: {
			view.setUint32(offset, Number(BigInt.asUintN(32, value)), little);
			break;
		}

		case 8: {
			view.setBigUint64(offset, BigInt.asUintN(64, value), little);
			break;
		}

		default: {
			throw new TypeError(`cannot encode a ${size}-byte integer`);
		}
	}
}
