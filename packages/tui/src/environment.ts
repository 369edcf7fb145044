/**
 * What the app works with: the kernel's capabilities (or why there are
 * none), the tracepoint catalog, the probe tester, the bound tool cores and
 * the sample traces. `loadEnvironment` builds the real one; tests pass
 * recorded ones to the App.
 */
import {readdirSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {Instance, ProbeGroup, Tracefs, TracefsError, UndoJournal, ownedName, parseEventFormat, probeCapabilities, type Capabilities, type EventFormat, type ProbeKind} from '@ftrace-ts/tracefs';
import {describeError} from '@ftrace-ts/tools';
import {coreBindings} from './bindings.js';
import type {CoreBinding, FormValues} from './cores.js';
import type {RunRegistry} from './run-registry.js';

/** Reads the kernel's tracepoints (never changes anything). */
export interface EventCatalog {
	systems(): Promise<string[]>;
	events(system: string): Promise<string[]>;
	/** The parsed format and the format file's text. */
	format(system: string, event: string): Promise<{readonly format: EventFormat; readonly text: string}>;
}

/** The outcome of creating a probe in our group (it is removed again at once). */
export type ProbeTrial =
	| {readonly ok: true; readonly command: string; readonly event: string; readonly fields: readonly string[]}
	| {readonly ok: false; readonly message: string; readonly caret?: number | undefined; readonly kernel: boolean};

/** Creates a probe definition in the kernel to hear its verdict. */
export type ProbeTester = (definition: string, kind: ProbeKind) => Promise<ProbeTrial>;

/** A recorded trace shipped with the TUI, and the tool that replays it. */
export interface Sample {
	readonly title: string;
	readonly path: string;
	readonly tool: string;
	readonly values: FormValues;
}

export interface Environment {
	/** Absent when the kernel cannot be traced here (see `problem`). */
	readonly caps?: Capabilities | undefined;
	/** Why live tracing is not possible (not root, no tracefs), in one line. */
	readonly problem?: string | undefined;
	readonly events?: EventCatalog | undefined;
	readonly probes?: ProbeTester | undefined;
	readonly bindings: Readonly<Record<string, CoreBinding>>;
	readonly samples: readonly Sample[];
}

/** The directory of the shipped samples (packages/tui/samples). */
export const samplesDir = fileURLToPath(new URL('../../samples/', import.meta.url));

const sampleTools: Readonly<Record<string, ReadonlyArray<{tool: string; values?: FormValues; title: string}>>> = {
	iosnoop: [{tool: 'iosnoop', title: 'block I/O of dd oflag=direct on a loop device'}, {tool: 'iolatency', title: 'the same I/O as a latency histogram'}],
	opensnoop: [{tool: 'opensnoop', title: 'openat() calls of cat and ls'}, {tool: 'tpoint', values: {tracepoint: 'syscalls:sys_enter_openat'}, title: 'the raw sys_enter_openat events'}],
	execsnoop: [{tool: 'execsnoop', title: 'exec of true, ls, sh, date'}, {tool: 'tpoint', values: {tracepoint: 'sched:sched_process_exec'}, title: 'the raw sched_process_exec events'}],
	sched: [{tool: 'tpoint', values: {tracepoint: 'sched:sched_switch'}, title: 'scheduler switches and wakeups'}],
	funcgraph: [{tool: 'funcgraph', values: {funcstring: 'do_nanosleep'}, title: 'do_nanosleep call graph (from perf-tools examples)'}],
};

/** The samples in `dir` with the tools that replay them. */
export function listSamples(dir = samplesDir): Sample[] {
	let files: string[];
	try {
		files = readdirSync(dir).filter(file => file.endsWith('.trace')).sort();
	} catch {
		return [];
	}

	return files.flatMap(file => {
		const base = file.replace(/\.trace$/, '');
		const path = `${dir.replace(/\/$/, '')}/${file}`;
		return (sampleTools[base] ?? [{tool: 'tpoint', title: file}]).map(entry => ({title: `${file}: ${entry.title}`, path, tool: entry.tool, values: entry.values ?? {}}));
	});
}

/** The tool a replayed file goes to when none is named: by its name (iosnoop.trace -> iosnoop), else tpoint. */
export function toolForReplay(path: string): {tool: string; values: FormValues} {
	const base = path.split('/').at(-1)?.replace(/\.[^.]*$/, '') ?? '';
	const entry = sampleTools[base]?.[0];
	return entry ? {tool: entry.tool, values: entry.values ?? {}} : {tool: 'tpoint', values: {}};
}

function liveEvents(tracefs: Tracefs): EventCatalog {
	const top = Instance.top(tracefs);
	return {
		systems: async () => top.systems(),
		events: async system => top.events(system),
		async format(system, event) {
			const text = await tracefs.read(`events/${system}/${event}/format`);
			return {format: parseEventFormat(text, system), text};
		},
	};
}

/**
 * The live probe tester: creates the definition in a probe group of this
 * process, reads the event's fields, and removes it again. The attempt is a
 * registry run, so quitting or crashing mid-way still removes the probe.
 */
function liveProbes(tracefs: Tracefs, registry: RunRegistry): ProbeTester {
	return async (definition, kind) => {
		let trial: ProbeTrial = {ok: false, message: 'not tried', kernel: false};
		const run = registry.start(async () => {
			const journal = new UndoJournal();
			const group = ProbeGroup.open(tracefs, {name: ownedName('builder'), journal});
			try {
				const probe = await group.add(definition, kind);
				const text = await tracefs.read(`events/${probe.system}/${probe.event}/format`).catch(() => '');
				const fields = text ? parseEventFormat(text, probe.system).fields.filter(field => !field.common).map(field => `${field.type} ${field.name}`) : [];
				trial = {ok: true, command: probe.command, event: `${probe.system}/${probe.event}`, fields};
			} catch (error) {
				// A ProbeDefinitionError's kernel entry has its caret mapped onto the user's text.
				const kernelEntry = error instanceof TracefsError ? error.kernel : undefined;
				trial = kernelEntry
					? {ok: false, message: kernelEntry.message, caret: kernelEntry.caret, kernel: true}
					: {ok: false, message: describeError(error), kernel: false};
			} finally {
				await journal.restore();
				await group.destroy();
			}
		});
		await run.done;
		return trial;
	};
}

/**
 * Find tracefs and probe what the kernel can do. Never throws: a missing
 * tracefs or missing root becomes `problem`, and the samples stay offered.
 */
export async function loadEnvironment(registry: RunRegistry, options: {readonly samples?: string} = {}): Promise<Environment> {
	const samples = listSamples(options.samples);
	const base = {bindings: coreBindings, samples};
	if (process.getuid?.() !== 0) {
		return {...base, problem: 'not root: tracing needs root (sudo ftrace-tui); replay a sample meanwhile'};
	}

	try {
		const tracefs = await Tracefs.find();
		const caps = await probeCapabilities(tracefs);
		return {...base, caps, events: liveEvents(tracefs), probes: liveProbes(tracefs, registry)};
	} catch (error) {
		return {...base, problem: `${describeError(error)}; replay a sample meanwhile`};
	}
}
