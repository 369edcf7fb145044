/**
 * Folds `perf script` output into one line per unique stack: frames joined
 * by `;`, root first, then a space and the summed sample count (or period).
 *
 * The rules follow FlameGraph's stackcollapse-perf.pl so that output is
 * byte-identical: same event-record and frame recognition, same name tidying
 * (Java signatures, C++ arguments, Go methods), same annotations and the same
 * byte-wise sort. Input is treated as bytes (latin1 strings), as Perl does.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';

export interface CollapseOptions {
	/** Append the PID to the process name: `comm-PID`. */
	pid?: boolean;
	/** Append PID and TID to the process name: `comm-PID/TID`. */
	tid?: boolean;
	/** Annotate kernel frames with `_[k]`. */
	kernel?: boolean;
	/** Annotate JIT frames (from /tmp/perf-PID.map) with `_[j]`. */
	jit?: boolean;
	/** Both `kernel` and `jit`. */
	all?: boolean;
	/** Keep raw addresses for unresolved frames: `[unknown <addr>]`. */
	addrs?: boolean;
	/** Expand inlined frames with addr2line (runs addr2line and nm). */
	inline?: boolean;
	/** With `inline`, append `:file:line` to each expanded frame. */
	context?: boolean;
	/** Input comes from `perf script -F+srcline`: each frame is followed by a source line. */
	srcline?: boolean;
	/** Keep only samples of this event; default: the first event seen. */
	eventFilter?: string;
	/** Receives warnings (unrecognized lines, event filtering); default: ignored. */
	onWarning?: (message: string) => void;
	/** addr2line executable for `inline` (default `addr2line` from PATH). */
	addr2line?: string;
	/** nm executable for `inline` (default `nm` from PATH). */
	nm?: string;
}

// Perl's \s on byte strings: no NBSP, no NEL.
const WS = '[\\t\\n\\v\\f\\r ]';
const NWS = '[^\\t\\n\\v\\f\\r ]';
const recordRe = new RegExp(`^(${NWS}.+?)${WS}+(\\d+)\\/*(\\d+)*${WS}+`, 's');
const eventRe = new RegExp(`:${WS}*(\\d+)*${WS}+(${NWS}+):${WS}*$`, 's');
const frameRe = new RegExp(`^${WS}*(\\w+)${WS}*(.+) \\((.*)\\)`, 's');
const offsetRe = /\+0x[\da-f]+$/;
const goMethodRe = /\.\(.*\)\./s;
const argsRe = /\((?!anonymous namespace\)).*/s;
const quotesRe = /["']/g;
const inlineSkipRe = /(perf-\d+.map|kernel\.|\[[^\]]+\])/s;
const kernelModRe = /(^\[|vmlinux$)/;
const jitModRe = /\/tmp\/perf-\d+\.map/;
const srclineBracketRe = /\[.*?\]/gs;
const leadingWsRe = new RegExp(`^${WS}*`);
const trailingWsRe = new RegExp(`${WS}*$`);

/** Perl truthiness of a scalar string. */
function perlTrue(value: string | undefined): value is string {
	return value !== undefined && value !== '' && value !== '0';
}

/** Perl's `split /sep/`: trailing empty fields are dropped. */
export function perlSplit(text: string, separator: string | RegExp): string[] {
	const parts = text.split(separator);
	while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
	return parts;
}

/** A string not sharing storage with a larger one (V8 slices share). */
function flatCopy(text: string): string {
	return Buffer.from(text, 'latin1').toString('latin1');
}

type Count = number | bigint;

function addCount(a: Count | undefined, b: Count): Count {
	if (a === undefined) return b;
	if (typeof a === 'number' && typeof b === 'number') {
		const sum = a + b;
		if (Number.isSafeInteger(sum) || !Number.isInteger(sum)) return sum;
	}
	return BigInt(a) + BigInt(b);
}

function parseCount(digits: string): Count {
	const value = Number(digits);
	return Number.isSafeInteger(value) ? value : BigInt(digits);
}

/** A distinct stack: process name and frame ids (leaf first), summed. */
interface StackEntry {
	pname: number;
	ids: Int32Array;
	count: Count;
	next: StackEntry | undefined;
}

function sameIds(a: Int32Array, b: readonly number[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

interface PendingSrcline {
	parts: string[];
	index: number;
	done: string[];
	mod: string;
	pc: string;
	unknown: boolean;
}

/**
 * Streaming folder: feed it text with {@link write} (any chunking) or whole
 * lines with {@link pushLine}, then call {@link end} and read {@link lines}.
 * Memory grows with the number of unique stacks, not with the input size.
 */
export class PerfStackCollapser {
	readonly #options: CollapseOptions;
	readonly #kernel: boolean;
	readonly #jit: boolean;
	// Samples are summed by stack: frame names interned to ids, stacks kept
	// as id sequences (leaf first) in a hash table; the "a;b;c" keys are
	// made once per distinct stack, in lines().
	readonly #stacks = new Map<number, StackEntry>();
	readonly #names: string[] = [];
	readonly #nameIds = new Map<string, number>();
	#eventFilter: string;
	#eventDefaulted = false;
	#eventWarned = false;
	#ids: number[] = [];
	#pname: string | undefined;
	#pnameId = -1;
	#java = false;
	#period: Count = 1;
	#partial = '';
	#pending: PendingSrcline | undefined;
	#ended = false;
	readonly #inlineCache = new Map<string, string>();
	readonly #nmCache = new Map<string, string>();
	// Frames derived from one (line, java-ness) pair never change; perf
	// repeats the same frame lines (address, symbol) millions of times.
	#lines = new Map<string, number[]>();
	#javaLines = new Map<string, number[]>();
	readonly #cacheLines: boolean;
	// Sample stacks without their leaf line, as text, with their frame ids;
	// listed by their first line.
	#blocks = new Map<string, { text: string; ids: number[] }[]>();
	#javaBlocks = new Map<string, { text: string; ids: number[] }[]>();
	#blockChars = 0;

	constructor(options: CollapseOptions = {}) {
		this.#options = options;
		this.#kernel = Boolean(options.kernel || options.all);
		this.#jit = Boolean(options.jit || options.all);
		this.#eventFilter = options.eventFilter ?? '';
		this.#cacheLines = !options.srcline && !options.inline;
	}

	/** Feeds a piece of text; lines may span calls. */
	write(chunk: string): void {
		let start = 0;
		const text = chunk;
		if (this.#partial !== '') {
			// Finish the pending line apart: scanning `partial + chunk` (a
			// cons string) is much slower than scanning the flat chunk.
			const newline = chunk.indexOf('\n');
			if (newline === -1) {
				this.#partial += chunk;
				return;
			}
			const line = this.#partial + chunk.slice(0, newline);
			this.#partial = '';
			this.pushLine(line);
			start = newline + 1;
		}
		const length = text.length;
		const cacheLines = this.#cacheLines;
		while (start < length) {
			const newline = text.indexOf('\n', start);
			if (newline === -1) break;
			const first = text.charCodeAt(start);
			const line = text.slice(start, newline);
			if (first === 32 || first === 9) {
				// An indented (frame) line seen before: its frame ids.
				if (!cacheLines || !this.#cachedFrameLine(line)) this.pushLine(line);
			} else {
				this.pushLine(line);
				// A record line: its stack follows.
				if (cacheLines && newline !== start && first !== 35 /* # */) {
					start = this.#stackLines(text, newline + 1);
					continue;
				}
			}
			start = newline + 1;
		}
		if (start < length) this.#partial = text.slice(start);
	}

	/**
	 * The frame lines after a record line, from `start`: the first (the
	 * leaf, whose address is wherever the sample hit) as a line, the others
	 * (return addresses, which repeat for a given call path) looked up as
	 * one block. Returns where line-by-line processing resumes.
	 */
	#stackLines(text: string, start: number): number {
		const leafEnd = text.indexOf('\n', start);
		if (leafEnd === -1) return start;
		const first = text.charCodeAt(start);
		if (first !== 32 && first !== 9) return start;
		const leaf = text.slice(start, leafEnd);
		if (!this.#cachedFrameLine(leaf)) this.pushLine(leaf);
		// The callers: up to the blank line ending the sample.
		const end = text.indexOf('\n\n', leafEnd);
		if (end <= leafEnd) return leafEnd + 1;
		// Found by the first caller line, then compared whole: hashing a
		// short line and comparing (memcmp) costs less than hashing it all.
		const firstEnd = text.indexOf('\n', leafEnd + 1);
		const head = text.slice(leafEnd + 1, firstEnd);
		const key = text.slice(leafEnd + 1, end);
		const java = this.#java;
		const candidates = (java ? this.#javaBlocks : this.#blocks).get(head);
		let ids: number[] | undefined;
		if (candidates !== undefined) {
			for (let i = 0; i < candidates.length; i++) {
				const block = candidates[i]!;
				if (block.text.length === key.length && block.text === key) {
					ids = block.ids;
					break;
				}
			}
		}
		if (ids !== undefined) {
			if (this.#pnameId !== -1) {
				const stack = this.#ids;
				for (let i = 0; i < ids.length; i++) stack.push(ids[i]!);
			}
			return end + 1;
		}
		// Line by line; kept as a block when every line is a known frame line.
		let cacheable = this.#pnameId !== -1;
		const from = this.#ids.length;
		let lineStart = leafEnd + 1;
		while (lineStart <= end) {
			const newline = text.indexOf('\n', lineStart);
			const line = text.slice(lineStart, newline);
			const c = text.charCodeAt(lineStart);
			if (c !== 32 && c !== 9) {
				cacheable = false;
				this.pushLine(line);
			} else if (!this.#cachedFrameLine(line)) {
				this.pushLine(line);
				cacheable &&= (java ? this.#javaLines : this.#lines).has(line);
			}
			lineStart = newline + 1;
		}
		if (cacheable && this.#pnameId !== -1 && this.#java === java) {
			if (this.#blockChars > 16_000_000) {
				this.#blocks = new Map();
				this.#javaBlocks = new Map();
				this.#blockChars = 0;
			}
			const blocks = java ? this.#javaBlocks : this.#blocks;
			const list = candidates ?? [];
			if (candidates === undefined) blocks.set(flatCopy(head), list);
			if (list.length < 32) {
				this.#blockChars += key.length;
				list.push({ text: flatCopy(key), ids: this.#ids.slice(from) });
			}
		}
		return end + 1;
	}

	/** Pushes the frames of a known frame line; false when it is not cached. */
	#cachedFrameLine(line: string): boolean {
		const ids = (this.#java ? this.#javaLines : this.#lines).get(line);
		if (ids === undefined) return false;
		if (this.#pnameId !== -1) {
			const stack = this.#ids;
			for (let i = 0; i < ids.length; i++) stack.push(ids[i]!);
		}
		return true;
	}

	/** Ends the input: a final line without a newline is processed. */
	end(): void {
		if (this.#ended) return;
		this.#ended = true;
		if (this.#partial !== '') {
			const last = this.#partial;
			this.#partial = '';
			this.pushLine(last);
		}
		// A frame waiting for source lines at end of input gets none.
		while (this.#pending) this.#feedSrcline(undefined);
	}

	/** Processes one line (without its newline). */
	pushLine(line: string): void {
		if (this.#pending) {
			this.#feedSrcline(line);
			return;
		}
		const first = line.charCodeAt(0);
		if (first === 35 /* # */) return;
		if (line === '') {
			this.#endSample();
			return;
		}
		// A record starts with a non-space; frames are indented.
		if (first !== 32 && first !== 9) {
			const record = recordRe.exec(line);
			if (record) {
				this.#startRecord(line, record);
				return;
			}
		}
		// Frame lines repeat (same address, same symbol): reuse their frames.
		const cacheable = this.#cacheLines && (first === 32 || first === 9);
		if (cacheable && this.#cachedFrameLine(line)) return;
		const frame = frameRe.exec(line);
		if (frame) {
			if (this.#pnameId === -1) return;
			this.#addFrameLine(line, frame[1]!, frame[2]!, frame[3]!, cacheable);
			return;
		}
		this.#options.onWarning?.(`Unrecognized line: ${line}`);
	}

	#endSample(): void {
		if (this.#pnameId === -1) return;
		const ids = this.#ids;
		const pnameId = this.#pnameId;
		let hash = Math.imul(0x811c9dc5 ^ pnameId, 0x01000193);
		for (let i = 0; i < ids.length; i++) hash = Math.imul(hash ^ ids[i]!, 0x01000193);
		let entry = this.#stacks.get(hash);
		for (; entry !== undefined; entry = entry.next) {
			if (entry.pname === pnameId && sameIds(entry.ids, ids)) break;
		}
		if (entry === undefined) {
			entry = { pname: pnameId, ids: Int32Array.from(ids), count: this.#period, next: this.#stacks.get(hash) };
			this.#stacks.set(hash, entry);
		} else {
			entry.count = addCount(entry.count, this.#period);
		}
		ids.length = 0;
		this.#pname = undefined;
		this.#pnameId = -1;
	}

	/** The id of a frame (or process) name. */
	#nameId(name: string): number {
		let id = this.#nameIds.get(name);
		if (id === undefined) {
			id = this.#names.length;
			const copy = flatCopy(name);
			this.#names.push(copy);
			this.#nameIds.set(copy, id);
		}
		return id;
	}

	#pushName(name: string): void {
		this.#ids.push(this.#nameId(name));
	}

	#startRecord(line: string, record: RegExpExecArray): void {
		const comm = record[1]!;
		let pid = record[2]!;
		let tid = record[3];
		if (!perlTrue(tid)) {
			tid = pid;
			pid = '?';
		}
		let period: string | undefined;
		const event = eventRe.exec(line);
		if (event) {
			period = event[1];
			const name = event[2]!;
			if (this.#eventFilter === '') {
				// Merging different events (cycles and instructions, say)
				// would mislead: keep the first one seen unless told.
				this.#eventFilter = name;
				this.#eventDefaulted = true;
			} else if (name !== this.#eventFilter) {
				if (this.#eventDefaulted && !this.#eventWarned) {
					this.#options.onWarning?.(`Filtering for events of type: ${name}`);
					this.#eventWarned = true;
				}
				return;
			}
		}
		this.#period = perlTrue(period) ? parseCount(period) : 1;
		let pname: string;
		if (this.#options.tid) pname = `${comm}-${pid}/${tid}`;
		else if (this.#options.pid) pname = `${comm}-${pid}`;
		else pname = comm;
		this.#pname = pname.replaceAll(' ', '_');
		this.#pnameId = perlTrue(this.#pname) ? this.#nameId(this.#pname) : -1;
		this.#java = this.#pname.startsWith('java');
	}

	#addFrameLine(line: string, pc: string, rawfunc: string, mod: string, cacheable: boolean): void {
		const options = this.#options;
		if (options.inline && !inlineSkipRe.test(mod)) {
			const expanded = this.#inline(pc, rawfunc, mod);
			if (expanded !== '' && expanded !== '??' && expanded !== '??:??:0') {
				this.#pushName(expanded);
				return;
			}
		}
		const java = this.#java;
		if (options.srcline) {
			const parts = this.#frameParts(rawfunc);
			if (parts === undefined) return;
			this.#pending = { parts, index: 0, done: [], mod, pc, unknown: false };
			this.#feedSrcline(null);
			return;
		}
		const ids: number[] = [];
		const parts = this.#frameParts(rawfunc);
		if (parts !== undefined) {
			// Within one perf line, `a->b` lists the caller first; frames are
			// kept leaf first (reversed once per distinct stack).
			for (let i = parts.length - 1; i >= 0; i--) ids.push(this.#nameId(this.#tidy(parts[i]!, i > 0, mod, pc, java).func));
		}
		for (let i = 0; i < ids.length; i++) this.#ids.push(ids[i]!);
		if (!cacheable) return;
		if (this.#lines.size + this.#javaLines.size >= 200_000) {
			this.#lines = new Map();
			this.#javaLines = new Map();
		}
		// A copy: a slice of an input chunk would keep the whole chunk alive.
		(java ? this.#javaLines : this.#lines).set(flatCopy(line), ids);
	}

	/** Splits `a->b` inline chains; undefined for `(comm)` pseudo-frames. */
	#frameParts(rawfunc: string): string[] | undefined {
		// Linux 4.8+ prints symbol offsets (`func+0x1c`); drop them.
		const func = rawfunc.replace(offsetRe, '');
		if (func.startsWith('(')) return undefined;
		return perlSplit(func, '->');
	}

	#tidy(part: string, inlined: boolean, mod: string, pc: string, java: boolean): { func: string; unknown: boolean } {
		let func = part;
		let unknown = false;
		if (func === '[unknown]') {
			if (mod !== '[unknown]') {
				func = mod.replace(/.*\//s, '');
			} else {
				func = 'unknown';
				unknown = true;
			}
			func = this.#options.addrs ? `[${func} <${pc}>]` : `[${func}]`;
		}
		func = func.replaceAll(';', ':');
		// Go methods ("net/http.(*Client).Do") keep their parentheses; for
		// anything else the argument list is noise.
		if (!goMethodRe.test(func)) func = func.replace(argsRe, '');
		func = func.replace(quotesRe, '');
		if (java && func.includes('/') && func.startsWith('L')) func = func.slice(1);
		if (inlined) {
			if (!func.includes('_[i]')) func += '_[i]';
		} else if (this.#kernel && kernelModRe.test(mod) && !mod.includes('unknown')) {
			func += '_[k]';
		} else if (this.#jit && jitModRe.test(mod)) {
			if (!func.includes('_[j]')) func += '_[j]';
		}
		return { func, unknown };
	}

	/**
	 * Continues a `--srcline` frame line: each of its parts consumes the next
	 * input line as its source location (unless the part is unknown).
	 * `null` starts processing, `undefined` means end of input.
	 */
	#feedSrcline(line: string | null | undefined): void {
		const pending = this.#pending!;
		const java = this.#pname!.startsWith('java');
		let waiting = line !== null;
		while (pending.index < pending.parts.length) {
			const { func, unknown } = this.#tidy(pending.parts[pending.index]!, pending.done.length > 0, pending.mod, pending.pc, java);
			pending.unknown ||= unknown;
			if (pending.unknown) {
				pending.done.push(func);
				pending.index++;
				continue;
			}
			if (!waiting) return; // need the next line
			waiting = false;
			let source = line ?? '';
			source = source.replace(srclineBracketRe, '').replace(leadingWsRe, '').replace(trailingWsRe, '');
			pending.done.push(source === '' ? func : `${func}:${source}`);
			pending.index++;
			if (line === undefined) waiting = true;
		}
		this.#pending = undefined;
		for (let i = pending.done.length - 1; i >= 0; i--) this.#pushName(pending.done[i]!);
	}

	#inline(pc: string, rawfunc: string, mod: string): string {
		const cacheKey = `${pc}\0${mod}`;
		const cached = this.#inlineCache.get(cacheKey);
		if (cached !== undefined) return cached;
		let output = this.#run(this.#options.addr2line ?? 'addr2line', ['-a', pc, '-e', mod, '-i', '-f', '-s', '-C']);
		output = output.replace(/^.*\n/, '');
		if (/\?\?\n\?\?:0/.test(output)) {
			const offset = /^(.+)\+0x([0-9a-f]+)$/s.exec(rawfunc);
			if (offset) {
				let symbols = this.#nmCache.get(mod);
				if (symbols === undefined) {
					symbols = this.#run(this.#options.nm ?? 'nm', [mod]);
					this.#nmCache.set(mod, symbols);
				}
				const escaped = offset[1]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
				const base = new RegExp(`^([0-9a-f]+) . ${escaped}$`, 'm').exec(symbols);
				if (base) {
					const newPc = '0x' + (parseInt(base[1]!, 16) + parseInt(offset[2]!, 16)).toString(16);
					const result = this.#inline(newPc, '', mod);
					this.#inlineCache.set(cacheKey, result);
					return result;
				}
			}
		}
		const frames: string[] = [];
		let name: string | undefined;
		for (const raw of output.split(/(?<=\n)/)) {
			if (raw === '') continue;
			const text = raw.replace(/\n$/, '').replace(/ \(discriminator \S+\)/, '');
			if (name === undefined || name === '') {
				name = text;
			} else {
				frames.unshift(this.#options.context ? `${name}:${text}` : name);
				name = '';
			}
		}
		const result = frames.join(';');
		this.#inlineCache.set(cacheKey, result);
		return result;
	}

	#run(command: string, args: string[]): string {
		try {
			return execFileSync(command, args, { encoding: 'latin1', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30 });
		} catch (error) {
			const failed = error as { stdout?: string };
			return typeof failed.stdout === 'string' ? failed.stdout : '';
		}
	}

	/** The folded counts so far, keyed by stack. */
	counts(): ReadonlyMap<string, number | bigint> {
		const names = this.#names;
		const counts = new Map<string, Count>();
		for (const head of this.#stacks.values()) {
			for (let entry: StackEntry | undefined = head; entry !== undefined; entry = entry.next) {
				const ids = entry.ids;
				let key = names[entry.pname]!;
				for (let i = ids.length - 1; i >= 0; i--) key += ';' + names[ids[i]!]!;
				// Names with ";" (inline expansions) can make equal keys.
				counts.set(key, addCount(counts.get(key), entry.count));
			}
		}
		return counts;
	}

	/** Folded lines `stack count`, sorted byte-wise as the Perl script prints them. */
	lines(): string[] {
		const counts = this.counts();
		const keys = [...counts.keys()].sort();
		return keys.map((key) => `${key} ${counts.get(key)!}`);
	}
}

/**
 * Folds a complete `perf script` text. Returns the folded text (one
 * `stack count` line each, newline-terminated). Throws nothing for bad input:
 * unrecognized lines go to `options.onWarning`.
 */
export function collapsePerf(text: string, options: CollapseOptions = {}): string {
	const collapser = new PerfStackCollapser(options);
	collapser.write(text);
	collapser.end();
	const lines = collapser.lines();
	return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * Folds `perf script` output read from a byte stream (a file, stdin, a pipe)
 * without holding the input in memory. Returns the sorted folded lines.
 * Rejects with the stream's error if reading fails.
 */
export async function collapsePerfStream(input: AsyncIterable<Buffer | string>, options: CollapseOptions = {}): Promise<string[]> {
	const collapser = new PerfStackCollapser(options);
	for await (const chunk of input) {
		collapser.write(typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
	}
	collapser.end();
	return collapser.lines();
}

/**
 * Folds the files in order, as if concatenated (Perl's `<>`). Returns the
 * sorted folded lines; rejects with the fs error of a missing file.
 */
export async function collapsePerfFiles(paths: readonly string[], options: CollapseOptions = {}): Promise<string[]> {
	const collapser = new PerfStackCollapser(options);
	for (const path of paths) {
		for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
			collapser.write((chunk as Buffer).toString('latin1'));
		}
	}
	collapser.end();
	return collapser.lines();
}

/**
 * Feeds a file (or stdin, "-") to the collapser, as the CLIs read their
 * input: synchronous 64 KB reads, no stream machinery, and the chunks stay
 * small young-generation strings (larger ones are promoted and linger). A
 * non-blocking stdin (EAGAIN) is read as a stream instead. A file that
 * cannot be opened or read rejects with Error "can't read PATH: CODE".
 */
export async function readPerfScript(collapser: PerfStackCollapser, path: string): Promise<void> {
	const cannotRead = (error: unknown): Error => new Error(`can't read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
	let fd: number;
	try {
		fd = path === '-' ? 0 : openSync(path, 'r');
	} catch (error) {
		throw cannotRead(error);
	}
	const buffer = Buffer.allocUnsafe(64 * 1024);
	try {
		for (;;) {
			let count: number;
			try {
				count = readSync(fd, buffer, 0, buffer.length, null);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || fd !== 0) throw cannotRead(error);
				for await (const chunk of process.stdin) collapser.write((chunk as Buffer).toString('latin1'));
				return;
			}
			if (count === 0) return;
			collapser.write(buffer.toString('latin1', 0, count));
		}
	} finally {
		if (fd !== 0) closeSync(fd);
	}
}
