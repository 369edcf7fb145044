import {open, readdir, readFile, stat} from 'node:fs/promises';
import {delimiter, isAbsolute, resolve as resolvePath} from 'node:path';
import {TracefsError, errnoCode} from './errors.js';

/**
 * Just enough ELF64 (little-endian) to place a uprobe: the file and program
 * headers, section headers, and the .symtab/.dynsym symbol tables. A
 * symbol's virtual address becomes a file offset through the PT_LOAD segment
 * that contains it, which is right for PIE, non-PIE and shared objects alike.
 */

export type ElfType = 'REL' | 'EXEC' | 'DYN' | 'CORE' | 'OTHER';
export type ElfSymbolType = 'NOTYPE' | 'OBJECT' | 'FUNC' | 'SECTION' | 'FILE' | 'COMMON' | 'TLS' | 'IFUNC' | 'OTHER';

export interface ElfSegment {
	/** p_type (1 = PT_LOAD). */
	readonly type: number;
	readonly flags: number;
	readonly offset: bigint;
	readonly vaddr: bigint;
	readonly fileSize: bigint;
	readonly memSize: bigint;
}

export interface ElfSection {
	readonly name: string;
	readonly type: number;
	readonly flags: bigint;
	readonly addr: bigint;
	readonly offset: bigint;
	readonly size: bigint;
	readonly link: number;
	readonly entrySize: bigint;
}

export interface ElfSymbol {
	readonly name: string;
	readonly value: bigint;
	readonly size: bigint;
	readonly type: ElfSymbolType;
	readonly binding: 'LOCAL' | 'GLOBAL' | 'WEAK' | 'OTHER';
	/** st_shndx: 0 means undefined (imported). */
	readonly sectionIndex: number;
	readonly table: '.symtab' | '.dynsym';
}

const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const EM_X86_64 = 62;

const symbolTypes: readonly ElfSymbolType[] = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS'];
const elfTypes: Readonly<Record<number, ElfType>> = {1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE'};

function elfError(path: string, message: string, cause?: unknown): TracefsError {
	return new TracefsError(`${path}: ${message}`, {operation: 'read ELF', path, cause, usage: true, code: errnoCode(cause)});
}

/** A random-access view of an ELF file (a Buffer, or an open file read lazily). */
interface Source {
	read(offset: bigint, length: number): Promise<Buffer>;
}

/**
 * An ELF64 LE file. Create with `ElfFile.open(path)` (reads headers and
 * symbol tables on demand, never the whole file) or `ElfFile.fromBuffer`.
 * Holds no file descriptor after `open` resolves.
 */
export class ElfFile {
	/** Open and parse the headers of `path`. Throws a usage TracefsError for a non-ELF64-LE file. */
	static async open(path: string): Promise<ElfFile> {
		let handle;
		try {
			handle = await open(path, 'r');
		} catch (error) {
			throw elfError(path, `cannot open (${errnoCode(error) ?? 'error'})`, error);
		}

		try {
			const size = BigInt((await handle.stat()).size);
			const file = handle;
			const source: Source = {
				async read(offset, length) {
					if (offset < 0n || offset + BigInt(length) > size) {
						throw elfError(path, `truncated: wants bytes ${offset}..${offset + BigInt(length)} of ${size}`);
					}

					const buffer = Buffer.alloc(length);
					await file.read(buffer, 0, length, Number(offset));
					return buffer;
				},
			};
			const elf = await ElfFile.#parse(path, source);
			await elf.#loadSymbols(source);
			return elf;
		} finally {
			await handle.close();
		}
	}

	static async fromBuffer(buffer: Buffer, path = '<buffer>'): Promise<ElfFile> {
		const source: Source = {
			async read(offset, length) {
				if (offset < 0n || offset + BigInt(length) > BigInt(buffer.length)) {
					throw elfError(path, 'truncated');
				}

				return buffer.subarray(Number(offset), Number(offset) + length);
			},
		};
		const elf = await ElfFile.#parse(path, source);
		await elf.#loadSymbols(source);
		return elf;
	}

	static async #parse(path: string, source: Source): Promise<ElfFile> {
		const header = await source.read(0n, 64).catch((error: unknown) => {
			throw elfError(path, 'too short to be an ELF file', error);
		});
		if (header.readUInt32BE(0) !== 0x7F_45_4C_46) {
			throw elfError(path, 'not an ELF file');
		}

		if (header[4] !== 2 || header[5] !== 1) {
			throw elfError(path, 'only 64-bit little-endian ELF files are supported');
		}

		const type = elfTypes[header.readUInt16LE(16)] ?? 'OTHER';
		const machine = header.readUInt16LE(18);
		const phoff = header.readBigUInt64LE(32);
		const shoff = header.readBigUInt64LE(40);
		const phentsize = header.readUInt16LE(54);
		const phnum = header.readUInt16LE(56);
		const shentsize = header.readUInt16LE(58);
		let shnum = header.readUInt16LE(60);
		let shstrndx = header.readUInt16LE(62);

		const segments: ElfSegment[] = [];
		if (phnum > 0) {
			if (phentsize < 56) {
				throw elfError(path, 'bad program header size');
			}

			const table = await source.read(phoff, phentsize * phnum);
			for (let i = 0; i < phnum; i++) {
				const at = i * phentsize;
				segments.push({
					type: table.readUInt32LE(at),
					flags: table.readUInt32LE(at + 4),
					offset: table.readBigUInt64LE(at + 8),
					vaddr: table.readBigUInt64LE(at + 16),
					fileSize: table.readBigUInt64LE(at + 32),
					memSize: table.readBigUInt64LE(at + 40),
				});
			}
		}

		const sections: ElfSection[] = [];
		if (shoff !== 0n) {
			if (shentsize < 64) {
				throw elfError(path, 'bad section header size');
			}

			// Extended numbering: the real counts live in section header 0.
			const first = await source.read(shoff, shentsize);
			if (shnum === 0) {
				shnum = Number(first.readBigUInt64LE(32));
			}

			if (shstrndx === 0xFF_FF) {
				shstrndx = first.readUInt32LE(40);
			}

			const table = await source.read(shoff, shentsize * shnum);
			const raw = [];
			for (let i = 0; i < shnum; i++) {
				const at = i * shentsize;
				raw.push({
					nameOffset: table.readUInt32LE(at),
					type: table.readUInt32LE(at + 4),
					flags: table.readBigUInt64LE(at + 8),
					addr: table.readBigUInt64LE(at + 16),
					offset: table.readBigUInt64LE(at + 24),
					size: table.readBigUInt64LE(at + 32),
					link: table.readUInt32LE(at + 40),
					entrySize: table.readBigUInt64LE(at + 56),
				});
			}

			const names = raw[shstrndx];
			const nameTable = names && names.size > 0n ? await source.read(names.offset, Number(names.size)) : Buffer.alloc(0);
			for (const section of raw) {
				sections.push({...section, name: cString(nameTable, section.nameOffset)});
			}
		}

		return new ElfFile(path, type, machine, segments, sections);
	}

	#symbols: ElfSymbol[] = [];

	private constructor(
		readonly path: string,
		readonly type: ElfType,
		/** e_machine (62 = x86_64). */
		readonly machine: number,
		readonly segments: readonly ElfSegment[],
		readonly sections: readonly ElfSection[],
	) {}

	get isX86_64(): boolean {
		return this.machine === EM_X86_64;
	}

	/** The PT_LOAD segments, in file order. */
	get loadSegments(): ElfSegment[] {
		return this.segments.filter(segment => segment.type === PT_LOAD);
	}

	/** Every symbol of .symtab then .dynsym (stripped files have only .dynsym). */
	get symbols(): readonly ElfSymbol[] {
		return this.#symbols;
	}

	async #loadSymbols(source: Source): Promise<void> {
		for (const wanted of [SHT_SYMTAB, SHT_DYNSYM]) {
			const section = this.sections.find(candidate => candidate.type === wanted);
			if (!section || section.size === 0n) {
				continue;
			}

			const strings = this.sections[section.link];
			if (!strings) {
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			const table = await source.read(section.offset, Number(section.size));
			// eslint-disable-next-line no-await-in-loop
			const names = await source.read(strings.offset, Number(strings.size));
			const entrySize = Number(section.entrySize || 24n);
			for (let at = 0; at + 24 <= table.length; at += entrySize) {
				const info = table[at + 4]!;
				const bind = info >> 4;
				const symbolType = info & 0xF;
				this.#symbols.push({
					name: cString(names, table.readUInt32LE(at)),
					value: table.readBigUInt64LE(at + 8),
					size: table.readBigUInt64LE(at + 16),
					type: symbolType === 10 ? 'IFUNC' : symbolTypes[symbolType] ?? 'OTHER',
					binding: bind === 0 ? 'LOCAL' : bind === 1 ? 'GLOBAL' : bind === 2 ? 'WEAK' : 'OTHER',
					sectionIndex: table.readUInt16LE(at + 6),
					table: wanted === SHT_SYMTAB ? '.symtab' : '.dynsym',
				});
			}
		}
	}

	/**
	 * The defined function (or, failing that, any defined symbol) named
	 * `name`; a "@VERSION" suffix in the table is ignored. Global beats weak
	 * beats local. Undefined when there is none.
	 */
	findSymbol(name: string): ElfSymbol | undefined {
		const rank = (symbol: ElfSymbol) =>
			(symbol.type === 'FUNC' || symbol.type === 'IFUNC' ? 0 : 10)
			+ (symbol.binding === 'GLOBAL' ? 0 : symbol.binding === 'WEAK' ? 1 : 2);
		let best: ElfSymbol | undefined;
		for (const symbol of this.#symbols) {
			if (symbol.sectionIndex === 0 || symbol.value === 0n) {
				continue;
			}

			const plain = symbol.name.split('@', 1)[0];
			if (plain !== name) {
				continue;
			}

			if (!best || rank(symbol) < rank(best)) {
				best = symbol;
			}
		}

		return best;
	}

	/**
	 * The file offset of a virtual address: vaddr - p_vaddr + p_offset of the
	 * PT_LOAD segment holding it (within its file-backed part). Throws a usage
	 * TracefsError when no segment maps it.
	 */
	fileOffset(vaddr: bigint): bigint {
		for (const segment of this.loadSegments) {
			if (vaddr >= segment.vaddr && vaddr < segment.vaddr + segment.fileSize) {
				return vaddr - segment.vaddr + segment.offset;
			}
		}

		throw elfError(this.path, `address 0x${vaddr.toString(16)} is in no loadable segment`);
	}
}

function cString(buffer: Buffer, offset: number): string {
	if (offset >= buffer.length) {
		return '';
	}

	const end = buffer.indexOf(0, offset);
	return buffer.toString('latin1', offset, end === -1 ? buffer.length : end);
}

// ---- finding the file -------------------------------------------------------

export interface LdCacheEntry {
	/** The soname key, e.g. "libc.so.6". */
	readonly name: string;
	readonly path: string;
	/** Entry flags: low byte 0x03 = ELF libc6; 0x0300 = x86-64. */
	readonly flags: number;
}

const oldCacheMagic = 'ld.so-1.7.0';
const newCacheMagic = 'glibc-ld.so.cache1.1';

/**
 * Parse /etc/ld.so.cache (the "glibc-ld.so.cache1.1" format, optionally
 * behind the old "ld.so-1.7.0" table). Returns entries in file order (the
 * linker's preference order). Throws on a file in neither format.
 */
export function parseLdSoCache(buffer: Buffer): LdCacheEntry[] {
	let base = 0;
	if (buffer.toString('latin1', 0, oldCacheMagic.length) === oldCacheMagic) {
		const count = buffer.readUInt32LE(12);
		// The new table follows the old one, 8-byte aligned.
		base = (16 + count * 12 + 7) & ~7;
	}

	if (buffer.toString('latin1', base, base + newCacheMagic.length) !== newCacheMagic) {
		throw new TracefsError('ld.so.cache is in an unknown format', {operation: 'read ld.so.cache', usage: false});
	}

	const count = buffer.readUInt32LE(base + 20);
	const entries: LdCacheEntry[] = [];
	const first = base + 48;
	for (let i = 0; i < count; i++) {
		const at = first + i * 24;
		if (at + 24 > buffer.length) {
			break;
		}

		// String offsets are from the start of the new table.
		entries.push({
			flags: buffer.readInt32LE(at),
			name: cString(buffer, base + buffer.readUInt32LE(at + 4)),
			path: cString(buffer, base + buffer.readUInt32LE(at + 8)),
		});
	}

	return entries;
}

/** Directories searched for a library when the linker cache does not know it. */
export const standardLibraryDirs = [
	'/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib',
] as const;

async function isFile(path: string): Promise<boolean> {
	try {
		return (await stat(path)).isFile();
	} catch {
		return false;
	}
}

async function isElf(path: string): Promise<boolean> {
	try {
		const handle = await open(path, 'r');
		try {
			const magic = Buffer.alloc(4);
			await handle.read(magic, 0, 4, 0);
			return magic.readUInt32BE(0) === 0x7F_45_4C_46;
		} finally {
			await handle.close();
		}
	} catch {
		return false;
	}
}

function libraryNames(name: string): (candidate: string) => boolean {
	const base = name.startsWith('lib') ? name : `lib${name}`;
	if (base.includes('.so')) {
		return candidate => candidate === base;
	}

	return candidate => candidate === `${base}.so` || candidate.startsWith(`${base}.so.`);
}

export interface ResolveFileOptions {
	/** PATH to search for executables; default process.env.PATH. */
	readonly path?: string | undefined;
	/** The linker cache file; default /etc/ld.so.cache. */
	readonly ldCache?: string | undefined;
}

/**
 * Find the file a uprobe target names, as perf-tools' uprobe does:
 * an absolute or ./relative path as is; "libc", "libc.so.6", "pthread"
 * through /etc/ld.so.cache (x86-64 entries) then the standard library
 * directories; any other name through PATH, then as a library. Returns an
 * absolute path; throws a usage TracefsError naming what was searched.
 */
export async function resolveTargetFile(name: string, options: ResolveFileOptions = {}): Promise<string> {
	if (name === '') {
		throw new TracefsError('uprobe target is empty', {operation: 'resolve target', usage: true});
	}

	if (name.includes('/')) {
		const path = isAbsolute(name) ? name : resolvePath(name);
		if (!(await isFile(path))) {
			throw new TracefsError(`uprobe target ${path} does not exist`, {operation: 'resolve target', path, code: 'ENOENT', usage: true});
		}

		return path;
	}

	const looksLikeLibrary = name.startsWith('lib') || name.includes('.so');
	if (!looksLikeLibrary) {
		for (const dir of (options.path ?? process.env['PATH'] ?? '').split(delimiter)) {
			if (dir === '') {
				continue;
			}

			const candidate = `${dir}/${name}`;
			// eslint-disable-next-line no-await-in-loop
			if (await isFile(candidate)) {
				return candidate;
			}
		}
	}

	const matches = libraryNames(name);
	try {
		const cache = parseLdSoCache(await readFile(options.ldCache ?? '/etc/ld.so.cache'));
		const wantX8664 = process.arch === 'x64';
		const hit = cache.find(entry => matches(entry.name) && (!wantX8664 || (entry.flags & 0xFF_00) === 0x03_00 || (entry.flags & 0xFF_00) === 0));
		if (hit) {
			return hit.path;
		}
	} catch {
		// No cache (static systems, containers): the directories below still work.
	}

	for (const dir of standardLibraryDirs) {
		let entries: string[];
		try {
			// eslint-disable-next-line no-await-in-loop
			entries = (await readdir(dir)).sort();
		} catch {
			continue;
		}

		// Versioned names first: a bare libX.so is often a linker script.
		const candidates = entries.filter(entry => matches(entry)).sort((a, b) => Number(a.endsWith('.so')) - Number(b.endsWith('.so')));
		for (const candidate of candidates) {
			// eslint-disable-next-line no-await-in-loop
			if (await isElf(`${dir}/${candidate}`)) {
				return `${dir}/${candidate}`;
			}
		}
	}

	throw new TracefsError(`cannot find uprobe target "${name}" in PATH, /etc/ld.so.cache or ${standardLibraryDirs.join(' ')}`, {
		operation: 'resolve target', code: 'ENOENT', usage: true, hint: 'give an absolute path',
	});
}

export interface ResolvedUprobeTarget {
	/** The absolute path written into uprobe_events. */
	readonly path: string;
	/** File offset of the probe point. */
	readonly offset: bigint;
	/** The symbol found (undefined for a raw offset). */
	readonly symbol?: ElfSymbol | undefined;
}

/**
 * Place a uprobe: resolve `file` (see resolveTargetFile) and turn `symbol`
 * plus `offset` into a file offset through the symbol tables and PT_LOAD
 * segments; with no symbol, `offset` is already a file offset. Throws a
 * usage TracefsError for an unknown symbol or a non-ELF file.
 */
export async function resolveUprobeTarget(file: string, symbol: string | undefined, offset = 0n, options: ResolveFileOptions = {}): Promise<ResolvedUprobeTarget> {
	const path = await resolveTargetFile(file, options);
	if (symbol === undefined) {
		return {path, offset};
	}

	const elf = await ElfFile.open(path);
	const found = elf.findSymbol(symbol);
	if (!found) {
		const hint = elf.sections.some(section => section.type === SHT_SYMTAB)
			? undefined
			: 'the file is stripped (no .symtab): only exported (.dynsym) functions can be named; give a 0xOFFSET';
		throw new TracefsError(`symbol "${symbol}" not found in ${path}`, {operation: 'resolve target', path, code: 'ENOENT', usage: true, hint});
	}

	if (offset !== 0n && found.size !== 0n && offset >= found.size) {
		throw new TracefsError(`offset ${offset} is beyond ${symbol} (size ${found.size}) in ${path}`, {operation: 'resolve target', path, usage: true});
	}

	return {path, offset: elf.fileOffset(found.value + offset), symbol: found};
}
