import {ElfFile, resolveTargetFile} from '@ftrace-ts/tracefs';
import {probeTrace, type ProbeTraceOptions, type ProbeTraceRecord} from './probe-trace.js';

/**
 * uprobe: trace a user-level function (entry or return) with perf-tools'
 * syntax, e.g. p:bash:readline, r:libc:malloc $retval, p:/bin/bash:0x4245c0.
 * Targets resolve through PATH and the linker cache; symbols through the
 * file's ELF symbol tables. See probeTrace for the run itself.
 */
export async function * uprobe(options: ProbeTraceOptions): AsyncGenerator<ProbeTraceRecord> {
	yield * probeTrace('uprobe', options);
}

/** A function a uprobe can name in a target. */
export interface UprobeSymbol {
	readonly name: string;
	/** Virtual address as the ELF file gives it. */
	readonly address: bigint;
	readonly size: bigint;
}

/**
 * The functions of a target ("bash", "libc", a path) that uprobe can name:
 * defined FUNC symbols of .symtab and .dynsym, by name, once each. Returns
 * the resolved path too. Throws a usage TracefsError for an unknown target
 * or a non-ELF file.
 */
export async function listUprobeTargets(target: string): Promise<{path: string; symbols: UprobeSymbol[]}> {
	const path = await resolveTargetFile(target);
	const elf = await ElfFile.open(path);
	const byName = new Map<string, UprobeSymbol>();
	for (const symbol of elf.symbols) {
		if ((symbol.type === 'FUNC' || symbol.type === 'IFUNC') && symbol.sectionIndex !== 0 && symbol.name !== '' && !byName.has(symbol.name)) {
			byName.set(symbol.name, {name: symbol.name, address: symbol.value, size: symbol.size});
		}
	}

	return {path, symbols: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))};
}
