/**
 * Choosing and placing the dynamic probes of opensnoop and execsnoop: a
 * kprobe where the kernel has kprobe events, else uprobes on the C library.
 * Probes go in a group of the tool's own (ftrace_ts_<pid>_<tool>), created
 * through the tracefs ProbeGroup with the session's journal, so closing the
 * session disables and removes them.
 */
import {ProbeGroup, Tracefs, ownedName, resolveTargetFile, resolveUprobeTarget, type ProbeEvent} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';
import type {ToolSession} from './session.js';

export type ProbeMechanism = 'kprobe' | 'uprobe';

/** The registers holding the first arguments of a function call, by Node's process.arch. */
export const argumentRegisters: Readonly<Record<string, readonly string[]>> = {
	x64: ['%di', '%si', '%dx', '%cx', '%r8', '%r9'],
	arm64: ['%x0', '%x1', '%x2', '%x3', '%x4', '%x5'],
};

/** The register of argument `index` (0-based) on this machine. Throws when the architecture is not supported. */
export function argumentRegister(index: number, arch = process.arch): string {
	const registers = argumentRegisters[arch];
	const register = registers?.[index];
	if (!register) {
		throw new UsageError(`probe arguments are not mapped for architecture ${arch} (supported: ${Object.keys(argumentRegisters).join(', ')})`);
	}

	return register;
}

/** Whether this kernel has kprobe events. */
export async function hasKprobes(tracefs: Tracefs): Promise<boolean> {
	return tracefs.exists('kprobe_events');
}

/** Whether this kernel has uprobe events. */
export async function hasUprobes(tracefs: Tracefs): Promise<boolean> {
	return tracefs.exists('uprobe_events');
}

/**
 * The mechanism to use: `forced` when given (checked against the kernel),
 * else kprobe when available, else uprobe. Throws UsageError when the
 * kernel has neither (or not the forced one).
 */
export async function chooseMechanism(tracefs: Tracefs, forced: ProbeMechanism | undefined, tool: string): Promise<ProbeMechanism> {
	const kprobes = await hasKprobes(tracefs);
	const uprobes = await hasUprobes(tracefs);
	if (forced === 'kprobe' && !kprobes) {
		throw new UsageError(`${tool}: this kernel has no kprobe events (CONFIG_KPROBE_EVENTS): try --mechanism uprobe`);
	}

	if (forced === 'uprobe' && !uprobes) {
		throw new UsageError(`${tool}: this kernel has no uprobe events (CONFIG_UPROBE_EVENTS)`);
	}

	if (forced) {
		return forced;
	}

	if (kprobes) {
		return 'kprobe';
	}

	if (uprobes) {
		return 'uprobe';
	}

	throw new UsageError(`${tool}: this kernel has neither kprobe nor uprobe events: file names cannot be read`);
}

/** The tool's probe group, removed when the session closes. */
export function probeGroupFor(session: ToolSession): ProbeGroup {
	return ProbeGroup.open(session.tracefs, {journal: session.journal, name: ownedName(session.tool.replaceAll(/\W/g, '_'))});
}

/** A C library function to probe and how to fetch its arguments. */
export interface LibraryProbe {
	readonly symbol: string;
	/** Fetch arguments in probe syntax, eg "filename=+0(%di):string". */
	readonly args: string;
}

/**
 * Put uprobes on the C library's functions, skipping symbols it lacks and
 * aliases of a function already probed (open/open64 share an address).
 * Returns the probes made and the library path. Throws when none could be
 * placed.
 */
export async function probeLibrary(group: ProbeGroup, probes: readonly LibraryProbe[], library = 'libc.so.6'): Promise<{path: string; events: ProbeEvent[]; symbols: string[]}> {
	const path = await resolveTargetFile(library);
	const seen = new Set<bigint>();
	const events: ProbeEvent[] = [];
	const symbols: string[] = [];
	for (const probe of probes) {
		let offset: bigint;
		try {
			// eslint-disable-next-line no-await-in-loop
			offset = (await resolveUprobeTarget(path, probe.symbol)).offset;
		} catch {
			continue;
		}

		if (seen.has(offset)) {
			continue;
		}

		seen.add(offset);
		const name = `u_${probe.symbol.replaceAll(/\W/g, '_')}`;
		// eslint-disable-next-line no-await-in-loop
		events.push(await group.add(`p:${name} ${path}:0x${offset.toString(16)} ${probe.args}`, 'uprobe'));
		symbols.push(probe.symbol);
	}

	if (events.length === 0) {
		throw new UsageError(`none of ${probes.map(probe => probe.symbol).join(', ')} found in ${path}`);
	}

	return {path, events, symbols};
}
