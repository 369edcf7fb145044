import {TracefsError} from './errors.js';
import type {KernelErrorLogEntry} from './errors.js';
import {validateValue} from './validate.js';

/**
 * Dynamic probe definitions (kprobe, kretprobe, uprobe, uretprobe) as typed
 * values. `parseProbeDefinition` reads the kernel's syntax and the shorter
 * perf-tools one; `formatProbeDefinition` writes the kernel's syntax back.
 *
 *     p[:[GRP/]NAME] SYM[+offs]|MEMADDR [FETCHARGS]        kprobe
 *     r[MAXACTIVE][:[GRP/]NAME] SYM[+0] [FETCHARGS]          kretprobe
 *     p[:[GRP/]NAME] PATH:OFFSET|SYMBOL[+offs] [FETCHARGS]   uprobe
 *     p:do_sys_open   r:bash:readline   p:/bin/bash:0x4245c0 (perf-tools: no name)
 */

export type ProbeKind = 'kprobe' | 'uprobe';

/** Where a kprobe attaches: a symbol (with an optional module and offset) or an address. */
export type KprobeLocation =
	| {readonly type: 'symbol'; readonly module?: string | undefined; readonly symbol: string; readonly offset: number}
	| {readonly type: 'address'; readonly address: bigint};

/**
 * Where a uprobe attaches: `file` as written (a path, or a name resolved
 * through PATH or the linker cache) and either a symbol plus an offset into
 * it, or a raw file offset (symbol undefined).
 */
export interface UprobeLocation {
	readonly type: 'file';
	readonly file: string;
	readonly symbol?: string | undefined;
	readonly offset: bigint;
}

export type FetchValue =
	| {readonly kind: 'register'; readonly register: string}
	| {readonly kind: 'stack'; readonly index?: number | undefined}
	| {readonly kind: 'retval'}
	| {readonly kind: 'comm'}
	| {readonly kind: 'arg'; readonly index: number}
	| {readonly kind: 'memory'; readonly symbol?: string | undefined; readonly address?: bigint | undefined; readonly offset: number}
	| {readonly kind: 'deref'; readonly offset: number; readonly user: boolean; readonly inner: FetchValue}
	| {readonly kind: 'immediate'; readonly text: string};

export type ScalarType =
	| 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'x8' | 'x16' | 'x32' | 'x64'
	| 'char' | 'string' | 'ustring' | 'symbol' | 'symstr';

export type FetchType =
	| {readonly base: ScalarType; readonly array?: number | undefined}
	| {readonly base: 'bitfield'; readonly width: number; readonly bitOffset: number; readonly container: 8 | 16 | 32 | 64};

export interface FetchArg {
	/** The field name in the event; the kernel names unnamed args arg1, arg2... */
	readonly name?: string | undefined;
	readonly value: FetchValue;
	readonly type?: FetchType | undefined;
}

export interface ProbeDefinition {
	readonly kind: ProbeKind;
	/** Entry ('p') or return ('r', also written `%return`). */
	readonly probe: 'entry' | 'return';
	/** kretprobe MAXACTIVE (r10:...). */
	readonly maxActive?: number | undefined;
	readonly group?: string | undefined;
	/** The event name; undefined lets `defaultEventName` choose. */
	readonly event?: string | undefined;
	readonly location: KprobeLocation | UprobeLocation;
	readonly args: readonly FetchArg[];
}

/** A parsed definition plus where each part came from in the user's text. */
export interface ParsedProbeDefinition extends ProbeDefinition {
	readonly source: ProbeSource;
}

/** Spans (start, end) into the user's text, for mapping kernel carets back. */
export interface ProbeSource {
	readonly text: string;
	readonly head: readonly [number, number];
	readonly location: readonly [number, number];
	readonly args: ReadonlyArray<readonly [number, number]>;
}

/** The register names x86_64 kernels accept after `%` (arch/x86/kernel/ptrace.c). */
export const x86_64Registers: readonly string[] = [
	'ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp',
	'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
	'ip', 'flags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'orig_ax',
];

const scalarTypes = new Set<string>([
	'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'x8', 'x16', 'x32', 'x64',
	'char', 'string', 'ustring', 'symbol', 'symstr',
]);

const maxArgs = 128;
const eventNamePattern = /^[A-Za-z_]\w{0,63}$/;

function usage(message: string, hint?: string): TracefsError {
	return new TracefsError(message, {operation: 'validate', usage: true, hint});
}

function parseInteger(text: string, what: string): bigint {
	if (!/^(?:0x[\da-f]+|\d+)$/i.test(text)) {
		throw usage(`${what} "${text}" is not a number`);
	}

	return BigInt(text);
}

function smallInteger(text: string, what: string): number {
	const value = parseInteger(text, what);
	if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
		throw usage(`${what} "${text}" is too large`);
	}

	return Number(value);
}

/** Whitespace-separated words with their start offsets (the kernel's argv_split). */
export function splitWords(text: string): Array<{readonly word: string; readonly start: number}> {
	const words: Array<{word: string; start: number}> = [];
	for (const match of text.matchAll(/\S+/g)) {
		words.push({word: match[0], start: match.index});
	}

	return words;
}

function looksLikeFetchArg(word: string): boolean {
	return word.includes('=') || /^[%$@+\-\\]/.test(word);
}

/**
 * Parse a probe definition of the given kind. Throws a usage TracefsError
 * naming the bad part; the result still needs `validateProbeDefinition`
 * against an architecture (done by `formatProbeDefinition`).
 */
export function parseProbeDefinition(text: string, kind: ProbeKind): ParsedProbeDefinition {
	validateValue(text, `${kind} definition`);
	const words = splitWords(text);
	const first = words[0];
	if (!first) {
		throw usage(`${kind} definition is empty`);
	}

	const head = /^([pr])(\d*)(?::(.*))?$/.exec(first.word);
	if (!head) {
		throw usage(`${kind} definition "${text.trim()}" must start with p: (entry) or r: (return)`, `e.g. ${kind === 'kprobe' ? 'p:do_sys_openat2' : 'p:bash:readline'}`);
	}

	let probe: 'entry' | 'return' = head[1] === 'r' ? 'return' : 'entry';
	let maxActive: number | undefined;
	if (head[2]) {
		if (probe !== 'return' || kind !== 'kprobe') {
			throw usage(`MAXACTIVE (${head[1]}${head[2]}) is only for kretprobes`);
		}

		maxActive = smallInteger(head[2], 'MAXACTIVE');
	}

	const afterColon = head[3];
	const headSpan = [first.start, first.start + first.word.length] as const;
	let group: string | undefined;
	let event: string | undefined;
	let locationText: string;
	let locationSpan: readonly [number, number];
	let argWords = words.slice(1);
	const second = words[1];
	if (second && !looksLikeFetchArg(second.word)) {
		// Kernel form: p[:[GRP/]NAME] LOCATION ARGS
		if (afterColon !== undefined && afterColon !== '') {
			const slash = afterColon.indexOf('/');
			if (slash === -1) {
				event = afterColon;
			} else {
				group = afterColon.slice(0, slash) || undefined;
				event = afterColon.slice(slash + 1) || undefined;
			}
		}

		locationText = second.word;
		locationSpan = [second.start, second.start + second.word.length];
		argWords = words.slice(2);
	} else {
		// perf-tools form: p:LOCATION ARGS (the event name is chosen for you)
		if (afterColon === undefined || afterColon === '') {
			throw usage(`${kind} definition "${text.trim()}" has no ${kind === 'kprobe' ? 'function' : 'target'}`, `e.g. ${kind === 'kprobe' ? 'p:do_sys_openat2' : 'p:bash:readline'}`);
		}

		locationText = afterColon;
		const start = first.start + first.word.length - afterColon.length;
		locationSpan = [start, start + afterColon.length];
	}

	if (locationText.endsWith('%return')) {
		locationText = locationText.slice(0, -'%return'.length);
		probe = 'return';
	}

	const location = kind === 'kprobe' ? parseKprobeLocation(locationText) : parseUprobeLocation(locationText);
	if (argWords.length > maxArgs) {
		throw usage(`too many fetch args (${argWords.length}; the kernel takes at most ${maxArgs})`);
	}

	const args = argWords.map(({word}) => parseFetchArg(word));
	return {
		kind, probe, maxActive, group, event, location, args,
		source: {
			text,
			head: headSpan,
			location: locationSpan,
			args: argWords.map(({word, start}) => [start, start + word.length] as const),
		},
	};
}

function parseKprobeLocation(text: string): KprobeLocation {
	if (/^0x[\da-f]+$/i.test(text) || /^\d+$/.test(text)) {
		return {type: 'address', address: BigInt(text)};
	}

	const match = /^(?:([\w.-]+):)?([A-Za-z_.][\w.$]*)(?:\+(0x[\da-f]+|\d+))?$/i.exec(text);
	if (!match) {
		throw usage(`kprobe location "${text}" is not SYMBOL[+offset], MODULE:SYMBOL or an address`);
	}

	return {
		type: 'symbol',
		module: match[1],
		symbol: match[2]!,
		offset: match[3] === undefined ? 0 : smallInteger(match[3], 'offset'),
	};
}

function parseUprobeLocation(text: string): UprobeLocation {
	const colon = text.lastIndexOf(':');
	if (colon <= 0 || colon === text.length - 1) {
		throw usage(`uprobe location "${text}" is not FILE:SYMBOL or FILE:0xOFFSET`, 'e.g. bash:readline, libc:malloc or /bin/bash:0x4245c0');
	}

	const file = text.slice(0, colon);
	let where = text.slice(colon + 1);
	// A reference counter offset (SDT semaphores): the kernel's "(0x...)" suffix.
	if (/\(.*\)$/.test(where)) {
		throw usage(`uprobe location "${text}": reference counter offsets are not supported`);
	}

	if (/^(?:0x[\da-f]+|\d+)$/i.test(where)) {
		return {type: 'file', file, offset: BigInt(where)};
	}

	let offset = 0n;
	const plus = /\+(0x[\da-f]+|\d+)$/i.exec(where);
	if (plus) {
		offset = BigInt(plus[1]!);
		where = where.slice(0, plus.index);
	}

	if (!/^[A-Za-z_.][\w.@$]*$/.test(where)) {
		throw usage(`uprobe symbol "${where}" in "${text}" is not a symbol name`);
	}

	return {type: 'file', file, symbol: where, offset};
}

/** Parse one fetch arg: [NAME=]FETCHARG[:TYPE]. */
export function parseFetchArg(text: string): FetchArg {
	let rest = text;
	let name: string | undefined;
	const eq = /^([A-Za-z_]\w*)=/.exec(rest);
	if (eq) {
		name = eq[1];
		rest = rest.slice(eq[0].length);
	} else if (/^[^%$@+\-\\]*=/.test(rest)) {
		throw usage(`fetch arg name in "${text}" is not a valid name (letters, digits, _)`);
	}

	let type: FetchType | undefined;
	// The type follows the last ':' outside parentheses and outside a \"string\".
	let depth = 0;
	let typeAt = -1;
	for (let i = 0; i < rest.length; i++) {
		const ch = rest[i];
		if (ch === '(') {
			depth++;
		} else if (ch === ')') {
			depth--;
		} else if (ch === ':' && depth === 0 && !rest.startsWith('\\"')) {
			typeAt = i;
		}
	}

	if (typeAt !== -1) {
		type = parseFetchType(rest.slice(typeAt + 1), text);
		rest = rest.slice(0, typeAt);
	}

	return {name, value: parseFetchValue(rest, text), type};
}

export function parseFetchType(text: string, context = text): FetchType {
	const bitfield = /^b(\d+)@(\d+)\/(\d+)$/.exec(text);
	if (bitfield) {
		const width = Number(bitfield[1]);
		const bitOffset = Number(bitfield[2]);
		const container = Number(bitfield[3]);
		if (container !== 8 && container !== 16 && container !== 32 && container !== 64) {
			throw usage(`bitfield container size in "${context}" must be 8, 16, 32 or 64`);
		}

		if (width < 1 || width + bitOffset > container) {
			throw usage(`bitfield b${width}@${bitOffset}/${container} in "${context}" does not fit its container`);
		}

		return {base: 'bitfield', width, bitOffset, container};
	}

	const match = /^(\w+)(?:\[(\d+)\])?$/.exec(text);
	if (!match || !scalarTypes.has(match[1]!)) {
		throw usage(`unknown fetch type "${text}" in "${context}"`, 'types: u8..u64, s8..s64, x8..x64, char, string, ustring, symbol, symstr, b<width>@<offset>/<size>, TYPE[N]');
	}

	const array = match[2] === undefined ? undefined : Number(match[2]);
	if (array !== undefined && (array < 1 || array > 64)) {
		throw usage(`array length in "${context}" must be 1..64`);
	}

	return {base: match[1] as ScalarType, array};
}

export function parseFetchValue(text: string, context = text): FetchValue {
	if (text === '') {
		throw usage(`fetch arg "${context}" is empty`);
	}

	if (text.startsWith('%')) {
		return {kind: 'register', register: text.slice(1)};
	}

	if (text === '$retval') {
		return {kind: 'retval'};
	}

	if (text === '$comm') {
		return {kind: 'comm'};
	}

	if (text === '$stack') {
		return {kind: 'stack'};
	}

	let match = /^\$stack(\d+)$/.exec(text);
	if (match) {
		return {kind: 'stack', index: Number(match[1])};
	}

	match = /^\$arg(\d+)$/.exec(text);
	if (match) {
		const index = Number(match[1]);
		if (index < 1) {
			throw usage(`$arg numbers start at 1 ("${context}")`);
		}

		return {kind: 'arg', index};
	}

	if (text.startsWith('$')) {
		throw usage(`unknown variable "${text}" in "${context}"`, 'variables: $retval, $comm, $stack, $stackN, $argN');
	}

	if (text.startsWith('\\')) {
		return {kind: 'immediate', text: text.slice(1)};
	}

	if (text.startsWith('@')) {
		const body = text.slice(1);
		if (/^(?:0x[\da-f]+|\d+)$/i.test(body)) {
			return {kind: 'memory', address: BigInt(body), offset: 0};
		}

		match = /^([A-Za-z_.][\w.]*)(?:([+-])(0x[\da-f]+|\d+))?$/i.exec(body);
		if (!match) {
			throw usage(`memory reference "${text}" in "${context}" is not @ADDR or @SYM[+|-offs]`);
		}

		const offset = match[3] === undefined ? 0 : smallInteger(match[3], 'offset') * (match[2] === '-' ? -1 : 1);
		return {kind: 'memory', symbol: match[1], offset};
	}

	match = /^([+-])?(u)?(0x[\da-f]+|\d+)\((.*)\)$/i.exec(text);
	if (match) {
		const offset = smallInteger(match[3]!, 'dereference offset') * (match[1] === '-' ? -1 : 1);
		return {kind: 'deref', offset, user: match[2] !== undefined, inner: parseFetchValue(match[4]!, context)};
	}

	throw usage(`fetch arg "${context}" is not understood`, 'e.g. %di, $retval, $arg1, +0(%si):string, @jiffies, $comm');
}

/** The options that describe the machine a definition is checked for. */
export interface ProbeCheckOptions {
	/** Register names accepted after '%'. Default: x86_64's. */
	readonly registers?: readonly string[];
}

/**
 * Check a definition before it is written: names, kinds of fetch args that
 * fit the probe (no $retval on an entry probe, no @SYM or $argN on uprobes),
 * known registers. Returns the definition; throws a usage TracefsError.
 */
export function validateProbeDefinition<T extends ProbeDefinition>(definition: T, options: ProbeCheckOptions = {}): T {
	const registers = options.registers ?? x86_64Registers;
	const what = definition.kind;
	if (definition.group !== undefined && !eventNamePattern.test(definition.group)) {
		throw usage(`${what} group "${definition.group}" is not a valid name (letters, digits, _; not starting with a digit)`);
	}

	if (definition.event !== undefined && !eventNamePattern.test(definition.event)) {
		throw usage(`${what} event name "${definition.event}" is not a valid name (letters, digits, _; not starting with a digit)`);
	}

	const location = definition.location;
	if (location.type === 'file') {
		validateValue(location.file, 'uprobe file');
		if (/\s/.test(location.file)) {
			throw usage(`uprobe file "${location.file}" contains white space, which the kernel cannot parse`);
		}
	} else if (location.type === 'symbol' && definition.probe === 'return' && location.offset !== 0) {
		throw usage(`a kretprobe goes on a function entry: "${location.symbol}+${location.offset}" has an offset`);
	}

	if (definition.maxActive !== undefined && (definition.kind !== 'kprobe' || definition.probe !== 'return')) {
		throw usage('MAXACTIVE is only for kretprobes');
	}

	// The kernel's KRETPROBE_MAXACTIVE_MAX.
	if (definition.maxActive !== undefined && definition.maxActive > 4096) {
		throw usage(`MAXACTIVE ${definition.maxActive} is too large (at most 4096)`);
	}

	const names = new Set<string>();
	for (const arg of definition.args) {
		if (arg.name !== undefined) {
			if (!/^[A-Za-z_]\w{0,63}$/.test(arg.name)) {
				throw usage(`fetch arg name "${arg.name}" is not a valid name`);
			}

			if (names.has(arg.name)) {
				throw usage(`fetch arg name "${arg.name}" is used twice`);
			}

			names.add(arg.name);
		}

		validateFetchValue(arg.value, definition, registers, formatFetchArg(arg), 0);
		if (arg.type && arg.type.base !== 'bitfield' && (arg.type.base === 'string' || arg.type.base === 'ustring' || arg.type.base === 'symstr')) {
			const direct = arg.value.kind === 'deref' || arg.value.kind === 'memory' || arg.value.kind === 'comm' || arg.value.kind === 'immediate';
			if (!direct && arg.type.base !== 'symstr') {
				throw usage(`"${formatFetchArg(arg)}": a ${arg.type.base} must be fetched through memory, e.g. +0(%si):${arg.type.base}`);
			}
		}
	}

	return definition;
}

function validateFetchValue(value: FetchValue, definition: ProbeDefinition, registers: readonly string[], arg: string, depth: number): void {
	switch (value.kind) {
		case 'register': {
			if (!registers.includes(value.register)) {
				const hint = /^[re](\w\w)$/.test(value.register) && registers.includes(value.register.slice(1))
					? `the kernel names it %${value.register.slice(1)}`
					: `registers: ${registers.map(name => `%${name}`).join(' ')}`;
				throw usage(`unknown register "%${value.register}" in "${arg}"`, hint);
			}

			break;
		}

		case 'retval': {
			if (definition.probe !== 'return') {
				throw usage(`"${arg}": $retval is only for return probes (r:)`);
			}

			break;
		}

		case 'arg': {
			if (definition.kind !== 'kprobe' || (definition.location.type === 'symbol' && definition.location.offset !== 0) || definition.location.type === 'address') {
				throw usage(`"${arg}": $argN is only for kprobes on a function entry`);
			}

			break;
		}

		case 'memory': {
			if (value.symbol !== undefined && definition.kind !== 'kprobe') {
				throw usage(`"${arg}": @SYM is only for kprobes (uprobes take @ADDR or @+OFFSET)`);
			}

			break;
		}

		case 'deref': {
			if (depth >= 16) {
				throw usage(`"${arg}": dereferences nest too deep`);
			}

			validateFetchValue(value.inner, definition, registers, arg, depth + 1);
			break;
		}

		case 'immediate': {
			validateValue(value.text, 'immediate value');
			break;
		}

		case 'stack':
		case 'comm': {
			break;
		}
	}
}

function hex(value: bigint): string {
	return `0x${value.toString(16)}`;
}

export function formatFetchValue(value: FetchValue): string {
	switch (value.kind) {
		case 'register': {
			return `%${value.register}`;
		}

		case 'stack': {
			return value.index === undefined ? '$stack' : `$stack${value.index}`;
		}

		case 'retval': {
			return '$retval';
		}

		case 'comm': {
			return '$comm';
		}

		case 'arg': {
			return `$arg${value.index}`;
		}

		case 'memory': {
			if (value.symbol === undefined) {
				return `@${hex(value.address ?? 0n)}`;
			}

			return value.offset === 0 ? `@${value.symbol}` : `@${value.symbol}${value.offset < 0 ? '-' : '+'}${Math.abs(value.offset)}`;
		}

		case 'deref': {
			return `${value.offset < 0 ? '-' : '+'}${value.user ? 'u' : ''}${Math.abs(value.offset)}(${formatFetchValue(value.inner)})`;
		}

		case 'immediate': {
			return `\\${value.text}`;
		}
	}
}

export function formatFetchType(type: FetchType): string {
	if (type.base === 'bitfield') {
		return `b${type.width}@${type.bitOffset}/${type.container}`;
	}

	return type.array === undefined ? type.base : `${type.base}[${type.array}]`;
}

export function formatFetchArg(arg: FetchArg): string {
	return `${arg.name === undefined ? '' : `${arg.name}=`}${formatFetchValue(arg.value)}${arg.type ? `:${formatFetchType(arg.type)}` : ''}`;
}

/** The location as the kernel reads it; a uprobe symbol must be resolved first (see resolveUprobe). */
export function formatProbeLocation(location: KprobeLocation | UprobeLocation): string {
	if (location.type === 'address') {
		return hex(location.address);
	}

	if (location.type === 'symbol') {
		return `${location.module ? `${location.module}:` : ''}${location.symbol}${location.offset === 0 ? '' : `+${location.offset}`}`;
	}

	if (location.symbol !== undefined) {
		throw usage(`uprobe location ${location.file}:${location.symbol} must be resolved to a file offset first`);
	}

	return `${location.file}:${hex(location.offset)}`;
}

/**
 * The event name used when a definition has none (perf-tools style): the
 * symbol, "_ret" appended for a return probe; for raw addresses or offsets
 * "p_"/"r_" plus the file's base name and the offset.
 */
export function defaultEventName(definition: ProbeDefinition): string {
	const location = definition.location;
	let base: string;
	if (location.type === 'symbol') {
		base = location.symbol + (location.offset === 0 ? '' : `_${location.offset}`);
	} else if (location.type === 'file' && location.symbol !== undefined) {
		base = location.symbol + (location.offset === 0n ? '' : `_${location.offset}`);
	} else {
		const file = location.type === 'file' ? (location.file.split('/').at(-1) ?? 'file') : 'addr';
		const offset = location.type === 'file' ? location.offset : location.address;
		base = `${definition.probe === 'return' ? 'r' : 'p'}_${file}_${hex(offset)}`;
	}

	let name = base.replaceAll(/\W/g, '_').replace(/^(\d)/, '_$1').slice(0, 60);
	if (definition.probe === 'return' && (location.type === 'symbol' || (location.type === 'file' && location.symbol !== undefined))) {
		name = `${name.slice(0, 56)}_ret`;
	}

	return name;
}

/** A piece of the written command and where it came from in the user's text. */
export interface CommandSegment {
	readonly text: string;
	/** Span in the user's text this segment stands for; undefined for added parts. */
	readonly source?: readonly [number, number] | undefined;
	/** True when `text` is exactly the user's text at `source` (carets map 1:1). */
	readonly verbatim: boolean;
}

/**
 * The command for <kind>_events, validated, as segments joined by single
 * spaces (as the kernel echoes it in error_log). The group and event name
 * must be set (or a default name is used); uprobe symbols must be resolved.
 */
export function probeCommand(definition: ProbeDefinition | ParsedProbeDefinition, options: ProbeCheckOptions = {}): CommandSegment[] {
	validateProbeDefinition(definition, options);
	const source = 'source' in definition ? definition.source : undefined;
	const event = definition.event ?? defaultEventName(definition);
	const kind = definition.probe === 'return' ? `r${definition.maxActive ?? ''}` : 'p';
	const head = `${kind}:${definition.group ? `${definition.group}/` : ''}${event}`;
	const segments: CommandSegment[] = [{text: head, source: source?.head, verbatim: false}];
	const location = formatProbeLocation(definition.location);
	segments.push({
		text: location,
		source: source?.location,
		verbatim: source !== undefined && source.text.slice(source.location[0], source.location[1]) === location,
	});
	for (const [index, arg] of definition.args.entries()) {
		const text = formatFetchArg(arg);
		const span = source?.args[index];
		segments.push({text, source: span, verbatim: span !== undefined && source!.text.slice(span[0], span[1]) === text});
	}

	return segments;
}

/** The command text for <kind>_events (see probeCommand). */
export function formatProbeDefinition(definition: ProbeDefinition, options: ProbeCheckOptions = {}): string {
	return probeCommand(definition, options).map(segment => segment.text).join(' ');
}

/**
 * Map a caret (an index into the command the kernel echoed in error_log)
 * onto the user's original text. Returns undefined when the caret points at
 * a part the user did not write (then point at nothing rather than lie).
 */
export function mapCaretToSource(segments: readonly CommandSegment[], command: string, caret: number): number | undefined {
	const written = segments.map(segment => segment.text).join(' ');
	// The kernel echoes its argv joined by spaces; it is our text, maybe cut short.
	if (!written.startsWith(command.trimEnd()) && !command.startsWith(written)) {
		return undefined;
	}

	let start = 0;
	for (const segment of segments) {
		const end = start + segment.text.length;
		if (caret >= start && caret <= end) {
			if (!segment.source) {
				return undefined;
			}

			if (segment.verbatim) {
				return segment.source[0] + Math.min(caret - start, segment.source[1] - segment.source[0]);
			}

			return segment.source[0];
		}

		start = end + 1;
	}

	return undefined;
}

/**
 * Render the kernel's complaint about a definition against the user's text:
 * "MESSAGE\n  TEXT\n     ^" (caret omitted when it cannot be mapped).
 */
export function describeProbeError(entry: KernelErrorLogEntry, segments: readonly CommandSegment[], userText: string): {message: string; caret: number | undefined; display: string} {
	const caret = entry.caret === undefined ? undefined : mapCaretToSource(segments, entry.command, entry.caret);
	const display = caret === undefined
		? `${entry.message}\n  ${userText}`
		: `${entry.message}\n  ${userText}\n  ${' '.repeat(caret)}^`;
	return {message: entry.message, caret, display};
}
