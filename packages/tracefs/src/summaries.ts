import {TracefsError} from './errors.js';
import type {EventFormat} from './format.js';
import type {EventId, Instance} from './instance.js';
import type {Tracefs} from './tracefs.js';
import {validateValue} from './validate.js';

/**
 * In-kernel summaries: counts and histograms the kernel keeps so we do not
 * have to stream every event. The function profiler (trace_stat/functionN),
 * kprobe_profile / uprobe_profile hit counts, and hist triggers.
 */

// ---- function profiler --------------------------------------------------------

/** One row of trace_stat/functionN (times in microseconds, as printed). */
export interface FunctionProfileRow {
	readonly function: string;
	readonly hits: number;
	/** Total time; undefined when the kernel lacks the graph tracer (hits only). */
	readonly timeUs?: number | undefined;
	readonly avgUs?: number | undefined;
	/** The kernel's "s^2" column, as printed (see README: its unit is the kernel's). */
	readonly s2?: number | undefined;
}

const profileRow = /^\s*(\S+)\s+(\d+)(?:\s+([\d.]+)\s*us\s+([\d.]+)\s*us\s+([\d.]+)\s*us)?\s*$/;

/**
 * Parse one trace_stat/functionN file (one CPU):
 *
 *       Function                               Hit    Time            Avg             s^2
 *       --------                               ---    ----            ---             ---
 *       schedule                              1523    9833018 us      6456.350 us     3452.119 us
 *
 * Returns rows in file order. Header, rule and unparsable lines are skipped.
 */
export function parseFunctionProfile(text: string): FunctionProfileRow[] {
	const rows: FunctionProfileRow[] = [];
	for (const line of text.split('\n')) {
		if (/^\s*(?:Function\s|-{3,})/.test(line)) {
			continue;
		}

		const match = profileRow.exec(line);
		if (!match) {
			continue;
		}

		rows.push({
			function: match[1]!,
			hits: Number(match[2]),
			timeUs: match[3] === undefined ? undefined : Number(match[3]),
			avgUs: match[4] === undefined ? undefined : Number(match[4]),
			s2: match[5] === undefined ? undefined : Number(match[5]),
		});
	}

	return rows;
}

/**
 * Merge per-CPU profiles into one row per function: hits and time add up,
 * the average is recomputed, and s^2 is recombined from each CPU's sum of
 * squares the way the kernel computes it, so the merged value is what one
 * CPU would have printed for all the calls. Sorted by hits, descending.
 */
export function mergeFunctionProfiles(perCpu: ReadonlyArray<readonly FunctionProfileRow[]>): FunctionProfileRow[] {
	const merged = new Map<string, {hits: number; timeNs: number; squaresNs2: number; timed: boolean}>();
	for (const rows of perCpu) {
		for (const row of rows) {
			const entry = merged.get(row.function) ?? {hits: 0, timeNs: 0, squaresNs2: 0, timed: true};
			entry.hits += row.hits;
			if (row.timeUs === undefined) {
				entry.timed = false;
			} else {
				const n = row.hits;
				const avgNs = n === 0 ? 0 : (row.timeUs * 1000) / n;
				// Kernel: s2 = (sum_sq - n*avg^2) / (n*(n-1)*1000), printed as if ns -> us.
				const excess = n > 1 ? (row.s2 ?? 0) * 1000 * 1000 * n * (n - 1) : 0;
				entry.timeNs += row.timeUs * 1000;
				entry.squaresNs2 += excess + n * avgNs * avgNs;
			}

			merged.set(row.function, entry);
		}
	}

	const result: FunctionProfileRow[] = [];
	for (const [name, entry] of merged) {
		if (!entry.timed) {
			result.push({function: name, hits: entry.hits});
			continue;
		}

		const n = entry.hits;
		const avgNs = n === 0 ? 0 : entry.timeNs / n;
		const s2 = n > 1 ? Math.max(0, entry.squaresNs2 - n * avgNs * avgNs) / (n * (n - 1) * 1000) / 1000 : 0;
		result.push({function: name, hits: n, timeUs: entry.timeNs / 1000, avgUs: avgNs / 1000, s2});
	}

	return result.sort((a, b) => b.hits - a.hits || a.function.localeCompare(b.function));
}

/**
 * Read and merge trace_stat/function0..N. Throws TracefsError ENOENT (with a
 * CONFIG_FUNCTION_PROFILER hint) when the kernel has no function profiler.
 */
export async function readFunctionProfile(tracefs: Tracefs): Promise<FunctionProfileRow[]> {
	if (!(await tracefs.exists('function_profile_enabled'))) {
		throw new TracefsError('this kernel has no function profiler', {
			operation: 'read function profile', path: tracefs.path('function_profile_enabled'), code: 'ENOENT', usage: false,
			hint: 'it needs CONFIG_FUNCTION_PROFILER (Debian kernels lack it): count with kprobe_profile or a hist trigger instead',
		});
	}

	const files = (await tracefs.list('trace_stat')).filter(name => /^function\d+$/.test(name));
	return mergeFunctionProfiles(await Promise.all(files.map(async name => parseFunctionProfile(await tracefs.read(`trace_stat/${name}`)))));
}

// ---- kprobe_profile / uprobe_profile ---------------------------------------------

/** One line of kprobe_profile or uprobe_profile. */
export interface ProbeProfileEntry {
	/** The event name (the kernel prints no group). */
	readonly event: string;
	readonly hits: number;
	/** kprobe_profile: missed hits (kretprobe maxactive exhausted, recursion). */
	readonly misses?: number | undefined;
	/** uprobe_profile: the probed file. */
	readonly file?: string | undefined;
}

/**
 * Parse kprobe_profile ("  EVENT  HITS  MISSES") or uprobe_profile
 * ("  FILE EVENT  HITS"). The kernel omits the group: two groups' events
 * of the same name cannot be told apart here.
 */
export function parseProbeProfile(text: string, kind: 'kprobe' | 'uprobe'): ProbeProfileEntry[] {
	const entries: ProbeProfileEntry[] = [];
	for (const line of text.split('\n')) {
		const words = line.trim().split(/\s+/);
		if (kind === 'kprobe') {
			if (words.length === 3 && /^\d+$/.test(words[1]!) && /^\d+$/.test(words[2]!)) {
				entries.push({event: words[0]!, hits: Number(words[1]), misses: Number(words[2])});
			}
		} else if (words.length >= 3 && /^\d+$/.test(words.at(-1)!)) {
			// A file name may hold spaces; the last two words are event and hits.
			entries.push({file: words.slice(0, -2).join(' '), event: words.at(-2)!, hits: Number(words.at(-1))});
		}
	}

	return entries;
}

/**
 * Hits of the named probe events, from kprobe_profile or uprobe_profile
 * (0 for an event not listed). Events count only while enabled somewhere.
 */
export async function readProbeHits(tracefs: Tracefs, kind: 'kprobe' | 'uprobe', events: readonly string[]): Promise<Map<string, number>> {
	const text = await tracefs.readIfExists(`${kind}_profile`);
	if (text === undefined) {
		throw new TracefsError(`this kernel has no ${kind}_profile`, {
			operation: 'read probe profile', path: tracefs.path(`${kind}_profile`), code: 'ENOENT', usage: false,
			hint: `it needs CONFIG_${kind.toUpperCase()}_EVENTS`,
		});
	}

	const hits = new Map(events.map(event => [event, 0]));
	for (const entry of parseProbeProfile(text, kind)) {
		if (hits.has(entry.event)) {
			hits.set(entry.event, hits.get(entry.event)! + entry.hits);
		}
	}

	return hits;
}

// ---- hist triggers ----------------------------------------------------------------

export type HistKeyModifier = 'hex' | 'sym' | 'sym-offset' | 'execname' | 'syscall' | 'log2' | 'usecs' | 'buckets';

export interface HistKey {
	readonly field: string;
	readonly modifier?: HistKeyModifier | undefined;
	/** Bucket width for `.buckets=N`. */
	readonly buckets?: number | undefined;
}

export interface HistValue {
	readonly field: string;
	readonly modifier?: 'hex' | undefined;
}

export interface HistSort {
	/** A key or value field, or 'hitcount'. */
	readonly field: string;
	readonly descending?: boolean | undefined;
}

export interface HistTriggerSpec {
	readonly keys: ReadonlyArray<string | HistKey>;
	/** Values summed per key; hitcount is always there. */
	readonly values?: ReadonlyArray<string | HistValue> | undefined;
	readonly sort?: ReadonlyArray<string | HistSort> | undefined;
	/** Table size (entries); the kernel takes a power of two up to 131072. */
	readonly size?: number | undefined;
	/** Share the table between events (name=...). */
	readonly name?: string | undefined;
	/** Start paused. */
	readonly paused?: boolean | undefined;
	/** An event filter: only matching events are counted. */
	readonly filter?: string | undefined;
}

const histModifiers = new Set<string>(['hex', 'sym', 'sym-offset', 'execname', 'syscall', 'log2', 'usecs', 'buckets']);
const specialFields = new Set(['common_timestamp', 'common_cpu', 'common_stacktrace', 'stacktrace', 'cpu', 'common_comm']);

function bad(message: string, hint?: string): TracefsError {
	return new TracefsError(message, {operation: 'validate', usage: true, hint});
}

function asKey(key: string | HistKey): HistKey {
	if (typeof key !== 'string') {
		return key;
	}

	const match = /^(\w+)(?:\.([\w-]+)(?:=(\d+))?)?$/.exec(key);
	if (!match) {
		throw bad(`hist key "${key}" is not FIELD[.modifier]`);
	}

	if (match[2] !== undefined && !histModifiers.has(match[2])) {
		throw bad(`hist key "${key}": unknown modifier .${match[2]}`, 'modifiers: .hex .sym .sym-offset .execname .syscall .log2 .usecs .buckets=N');
	}

	return {field: match[1]!, modifier: match[2] as HistKeyModifier | undefined, buckets: match[3] === undefined ? undefined : Number(match[3])};
}

function asValue(value: string | HistValue): HistValue {
	if (typeof value !== 'string') {
		return value;
	}

	const match = /^(\w+)(?:\.(hex))?$/.exec(value);
	if (!match) {
		throw bad(`hist value "${value}" is not FIELD[.hex]`);
	}

	return {field: match[1]!, modifier: match[2] as 'hex' | undefined};
}

function asSort(sort: string | HistSort): HistSort {
	if (typeof sort !== 'string') {
		return sort;
	}

	const match = /^(\w+)(?:\.(ascending|descending))?$/.exec(sort);
	if (!match) {
		throw bad(`hist sort "${sort}" is not FIELD[.ascending|.descending]`);
	}

	return {field: match[1]!, descending: match[2] === 'descending'};
}

function checkField(field: string, format: EventFormat | undefined, what: string): void {
	if (!/^\w+$/.test(field)) {
		throw bad(`${what} "${field}" is not a field name`);
	}

	if (format && !format.byName.has(field) && !specialFields.has(field)) {
		throw bad(`${what} "${field}" is not a field of ${format.system}:${format.name}`, `fields: ${format.fields.map(candidate => candidate.name).join(' ')}`);
	}
}

/**
 * The trigger text for a hist trigger, validated (against the event's
 * format when given):
 * `hist:keys=common_pid.execname:vals=bytes:sort=hitcount.descending:size=2048 if FILTER`.
 * Throws a usage TracefsError naming the bad part.
 */
export function formatHistTrigger(spec: HistTriggerSpec, format?: EventFormat): string {
	if (spec.keys.length === 0) {
		throw bad('a hist trigger needs at least one key');
	}

	if (spec.keys.length > 3) {
		throw bad(`a hist trigger takes at most 3 keys (got ${spec.keys.length})`);
	}

	const keys = spec.keys.map(key => asKey(key));
	for (const key of keys) {
		checkField(key.field, format, 'hist key');
		const field = format?.byName.get(key.field);
		if (key.modifier === 'buckets') {
			if (key.buckets === undefined || !Number.isInteger(key.buckets) || key.buckets < 1) {
				throw bad(`hist key ${key.field}.buckets needs a bucket size: .buckets=N with N >= 1`);
			}
		} else if (key.buckets !== undefined) {
			throw bad(`hist key ${key.field}: a bucket size goes with .buckets only`);
		}

		if (field?.isString && key.modifier !== undefined) {
			throw bad(`hist key ${key.field} is a string: .${key.modifier} applies to numbers only`);
		}

		if (key.modifier === 'execname' && !/pid$/.test(key.field)) {
			throw bad(`hist key ${key.field}.execname: .execname applies to a PID field (common_pid)`);
		}
	}

	const values = (spec.values ?? []).map(value => asValue(value)).filter(value => value.field !== 'hitcount');
	for (const value of values) {
		checkField(value.field, format, 'hist value');
		if (format?.byName.get(value.field)?.isString) {
			throw bad(`hist value ${value.field} is a string: values must be numbers`);
		}
	}

	const sortable = new Set(['hitcount', ...keys.map(key => key.field), ...values.map(value => value.field)]);
	const sorts = (spec.sort ?? []).map(sort => asSort(sort));
	if (sorts.length > 2) {
		throw bad('a hist trigger sorts by at most 2 fields');
	}

	for (const sort of sorts) {
		if (!sortable.has(sort.field)) {
			throw bad(`hist sort field "${sort.field}" is neither a key, a value nor hitcount`);
		}
	}

	if (spec.size !== undefined && (!Number.isInteger(spec.size) || spec.size < 1 || spec.size > 131_072)) {
		throw bad(`hist size ${spec.size} must be an integer from 1 to 131072`);
	}

	if (spec.name !== undefined && !/^\w+$/.test(spec.name)) {
		throw bad(`hist name "${spec.name}" is not a valid name`);
	}

	const parts = [`keys=${keys.map(key => `${key.field}${key.modifier ? `.${key.modifier}` : ''}${key.buckets === undefined ? '' : `=${key.buckets}`}`).join(',')}`];
	parts.push(`vals=${['hitcount', ...values.map(value => `${value.field}${value.modifier ? `.${value.modifier}` : ''}`)].join(',')}`);
	if (sorts.length > 0) {
		parts.push(`sort=${sorts.map(sort => `${sort.field}${sort.descending ? '.descending' : ''}`).join(',')}`);
	}

	if (spec.size !== undefined) {
		parts.push(`size=${spec.size}`);
	}

	if (spec.name !== undefined) {
		parts.push(`name=${spec.name}`);
	}

	if (spec.paused) {
		parts.push('pause');
	}

	let text = `hist:${parts.join(':')}`;
	if (spec.filter !== undefined && spec.filter.trim() !== '') {
		validateValue(spec.filter, 'hist filter');
		text += ` if ${spec.filter.trim()}`;
	}

	return text;
}

/** The command that pauses, continues or clears an existing hist trigger (same keys, vals, sort and filter). */
export function histControl(trigger: string, action: 'pause' | 'continue' | 'clear'): string {
	const [body = '', ...filter] = trigger.split(' if ');
	const base = body.replace(/:(?:pause|cont|continue|clear)\b/g, '');
	return `${base}:${action === 'continue' ? 'cont' : action}${filter.length > 0 ? ` if ${filter.join(' if ')}` : ''}`;
}

/** A key field's value in a hist record, decoded by its modifier. */
export interface HistKeyValue {
	/** The text as printed, trimmed. */
	readonly raw: string;
	/** Plain numbers, .log2 (the power), .buckets (the low end), .execname and .syscall (the number). */
	readonly number?: number | undefined;
	/** .execname: the command name. */
	readonly comm?: string | undefined;
	/** .sym / .sym-offset: symbol (with +off/size) and address. */
	readonly symbol?: string | undefined;
	readonly address?: string | undefined;
	/** .log2 and .buckets: the value range [low, high] the bucket covers. */
	readonly range?: readonly [number, number] | undefined;
	/** stacktrace keys: the frames. */
	readonly frames?: readonly string[] | undefined;
}

export interface HistRecord {
	readonly key: Readonly<Record<string, HistKeyValue>>;
	readonly hitcount: number;
	/** Summed values by field (hitcount excluded). */
	readonly values: Readonly<Record<string, number>>;
}

export interface Histogram {
	/** The trigger as the kernel lists it (without [active]/[paused]). */
	readonly trigger: string;
	readonly paused: boolean;
	readonly keys: readonly HistKey[];
	readonly records: readonly HistRecord[];
	readonly totals: {readonly hits: number; readonly entries: number; readonly dropped: number};
}

function decodeKey(key: HistKey, raw: string): HistKeyValue {
	const text = raw.trim();
	switch (key.modifier) {
		case 'execname':
		case 'syscall': {
			const match = /^(.*?)\s*\[\s*(\d+)\]$/.exec(text);
			return match ? {raw: text, comm: key.modifier === 'execname' ? match[1] : undefined, symbol: key.modifier === 'syscall' ? match[1] : undefined, number: Number(match[2])} : {raw: text};
		}

		case 'sym':
		case 'sym-offset': {
			const match = /^\[([\da-f]+)\]\s*(.*)$/i.exec(text);
			return match ? {raw: text, address: match[1], symbol: match[2]} : {raw: text};
		}

		case 'log2': {
			const match = /^~\s*2\^(\d+)$/.exec(text);
			if (!match) {
				return {raw: text};
			}

			const power = Number(match[1]);
			return {raw: text, number: power, range: [power === 0 ? 0 : 2 ** (power - 1), 2 ** power]};
		}

		case 'buckets': {
			const match = /^~\s*(\d+)-(\d+)$/.exec(text);
			return match ? {raw: text, number: Number(match[1]), range: [Number(match[1]), Number(match[2])]} : {raw: text};
		}

		case 'hex': {
			return {raw: text, number: /^(?:0x)?[\da-f]+$/i.test(text) ? Number.parseInt(text.replace(/^0x/i, ''), 16) : undefined};
		}

		default: {
			if (key.field === 'stacktrace' || key.field === 'common_stacktrace') {
				return {raw: text, frames: text.split('\n').map(line => line.trim()).filter(Boolean)};
			}

			return /^-?\d+$/.test(text) ? {raw: text, number: Number(text)} : {raw: text};
		}
	}
}

/** Parse the keys of a trigger as listed ("hist:keys=a.execname,b:vals=..."). */
export function parseHistKeys(trigger: string): HistKey[] {
	const match = /(?:^|:)keys=([^:\s]+)/.exec(trigger);
	if (!match) {
		return [];
	}

	return match[1]!.split(',').map(key => {
		const parts = /^([\w]+)(?:\.([\w-]+)(?:=(\d+))?)?$/.exec(key);
		return parts
			? {field: parts[1]!, modifier: parts[2] as HistKeyModifier | undefined, buckets: parts[3] === undefined ? undefined : Number(parts[3])}
			: {field: key};
	});
}

function splitKeyFields(body: string, keys: readonly HistKey[]): Record<string, HistKeyValue> {
	const result: Record<string, HistKeyValue> = {};
	let rest = body;
	for (const [index, key] of keys.entries()) {
		const label = `${key.field}:`;
		if (!rest.startsWith(label)) {
			break;
		}

		rest = rest.slice(label.length);
		const next = keys[index + 1];
		let end = rest.length;
		if (next) {
			const at = rest.indexOf(`, ${next.field}:`);
			if (at !== -1) {
				end = at;
			}
		}

		result[key.field] = decodeKey(key, rest.slice(0, end));
		rest = rest.slice(end).replace(/^,\s*/, '');
	}

	return result;
}

/**
 * Parse an event's `hist` file: one Histogram per hist trigger, each with
 * its records ({key fields decoded, hitcount, values}) and totals (Hits,
 * Entries, Dropped). Key fields are found by the names the trigger lists,
 * so string keys may hold spaces and commas.
 */
export function parseHist(text: string): Histogram[] {
	const result: Histogram[] = [];
	let current: {trigger: string; paused: boolean; keys: HistKey[]; records: HistRecord[]; totals: {hits: number; entries: number; dropped: number}} | undefined;
	let pending: string | undefined;
	for (const line of text.split('\n')) {
		const info = /^# trigger info:\s*(.*?)\s*(?:\[(active|paused)\])?\s*$/.exec(line);
		if (info) {
			current = {trigger: info[1]!, paused: info[2] === 'paused', keys: parseHistKeys(info[1]!), records: [], totals: {hits: 0, entries: 0, dropped: 0}};
			result.push(current);
			continue;
		}

		if (!current) {
			continue;
		}

		if (pending !== undefined || line.startsWith('{')) {
			pending = pending === undefined ? line : `${pending}\n${line}`;
			const close = /\}\s*(hitcount:.*)$/.exec(pending);
			if (!close) {
				continue;
			}

			const body = pending.slice(pending.indexOf('{') + 1, close.index).replace(/^\s+/, '').replace(/\s+$/, '');
			const values: Record<string, number> = {};
			let hitcount = 0;
			for (const pair of close[1]!.matchAll(/([\w.]+):\s*(\S+)/g)) {
				const value = /^0x[\da-f]+$/i.test(pair[2]!) ? Number.parseInt(pair[2]!, 16) : Number(pair[2]);
				if (pair[1] === 'hitcount') {
					hitcount = value;
				} else {
					values[pair[1]!] = value;
				}
			}

			current.records.push({key: splitKeyFields(body, current.keys), hitcount, values});
			pending = undefined;
			continue;
		}

		const total = /^\s*(Hits|Entries|Dropped):\s*(\d+)/.exec(line);
		if (total) {
			current.totals[total[1]!.toLowerCase() as 'hits' | 'entries' | 'dropped'] = Number(total[2]);
		}
	}

	return result;
}

/**
 * A hist trigger on one event of one instance. `create` adds it (journaled
 * in the instance's journal when it has one); `destroy` removes it.
 */
export class HistTrigger {
	/**
	 * Validate the spec against the event's format and add the trigger.
	 * Throws a usage TracefsError (bad spec, or the kernel's refusal with its
	 * error_log message), or ENOENT when the kernel lacks hist triggers.
	 */
	static async create(instance: Instance, event: EventId, spec: HistTriggerSpec): Promise<HistTrigger> {
		const format = await instance.eventFormat(event);
		const text = formatHistTrigger(spec, format);
		if (!(await instance.exists(`events/${event.system}/${event.event}/hist`))) {
			throw new TracefsError('this kernel has no hist triggers', {
				operation: 'add hist trigger', path: instance.path(`events/${event.system}/${event.event}/hist`), code: 'ENOENT', usage: false,
				hint: 'it needs CONFIG_HIST_TRIGGERS',
			});
		}

		await instance.addTrigger(event, text);
		return new HistTrigger(instance, event, text);
	}

	#removed = false;

	private constructor(readonly instance: Instance, readonly event: EventId, readonly text: string) {}

	async pause(): Promise<void> {
		await this.instance.write(`events/${this.event.system}/${this.event.event}/trigger`, histControl(this.text, 'pause'), {append: true});
	}

	async continue(): Promise<void> {
		await this.instance.write(`events/${this.event.system}/${this.event.event}/trigger`, histControl(this.text, 'continue'), {append: true});
	}

	/** Empty the table (keys and counts) without removing the trigger. */
	async clear(): Promise<void> {
		await this.instance.write(`events/${this.event.system}/${this.event.event}/trigger`, histControl(this.text, 'clear'), {append: true});
	}

	/** The histogram of this trigger (the event's hist file may list others). */
	async read(): Promise<Histogram> {
		const all = parseHist(await this.instance.eventHist(this.event));
		const wanted = this.text.replace(/:pause\b/, '');
		const mine = all.find(histogram => histogram.trigger.startsWith(wanted.split(' if ')[0]!.split(':sort=')[0]!)) ?? all[0];
		if (!mine) {
			throw new TracefsError(`no histogram for ${this.event.system}:${this.event.event}`, {operation: 'read hist', usage: false});
		}

		return mine;
	}

	/** Remove the trigger; false when it was removed already. */
	async destroy(): Promise<boolean> {
		if (this.#removed) {
			return false;
		}

		await this.instance.removeTrigger(this.event, this.text.replace(/:pause\b/, ''));
		this.#removed = true;
		return true;
	}
}
