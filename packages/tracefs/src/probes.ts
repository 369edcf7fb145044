import {TracefsError} from './errors.js';
import type {KernelErrorLogEntry} from './errors.js';
import {matchErrorLog, parseErrorLog} from './error-log.js';
import {resolveUprobeTarget, type ResolveFileOptions} from './elf.js';
import {Instance, type EventId} from './instance.js';
import type {UndoJournal} from './journal.js';
import {
	defaultEventName,
	mapCaretToSource,
	parseProbeDefinition,
	probeCommand,
	type CommandSegment,
	type ParsedProbeDefinition,
	type ProbeCheckOptions,
	type ProbeDefinition,
	type ProbeKind,
} from './probe-definition.js';
import type {Tracefs} from './tracefs.js';
import {validateName} from './validate.js';

/**
 * Ownership of dynamic events and instances. Everything this project
 * creates in the kernel's global namespaces is named `ftrace_ts_<pid>...`:
 * probe groups `ftrace_ts_<pid>`, instances `ftrace_ts_<pid>_<tool>`. The
 * PID says who owns it; a name whose process is gone is stale and may be
 * reclaimed by anyone. Names without the prefix are never touched.
 */
export const ownerPrefix = 'ftrace_ts_';

/** `ftrace_ts_<pid>` or `ftrace_ts_<pid>_<suffix>`: a name this process owns. */
export function ownedName(suffix?: string, pid: number = process.pid): string {
	if (suffix !== undefined && !/^\w{1,40}$/.test(suffix)) {
		throw new TracefsError(`name suffix "${suffix}" must be 1-40 letters, digits or _`, {operation: 'validate', usage: true});
	}

	return `${ownerPrefix}${pid}${suffix === undefined ? '' : `_${suffix}`}`;
}

/** The PID encoded in an owned name, or undefined when the name is not ours. */
export function ownerPidOf(name: string): number | undefined {
	const match = /^ftrace_ts_(\d{1,10})(?:_\w*)?$/.exec(name);
	if (!match) {
		return undefined;
	}

	const pid = Number(match[1]);
	return pid > 0 ? pid : undefined;
}

/** Whether a process exists (EPERM means it exists but is not ours to signal). */
export function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

const eventsFile: Readonly<Record<ProbeKind, string>> = {kprobe: 'kprobe_events', uprobe: 'uprobe_events'};

/** A line of kprobe_events or uprobe_events. */
export interface ListedProbe extends EventId {
	readonly kind: ProbeKind;
	/** The line as the kernel lists it, e.g. "p:grp/ev do_sys_openat2 name=+0(%si):string". */
	readonly line: string;
}

/** Every kprobe and uprobe event defined on the system (any group). */
export async function listProbeEvents(tracefs: Tracefs): Promise<ListedProbe[]> {
	const result: ListedProbe[] = [];
	for (const kind of ['kprobe', 'uprobe'] as const) {
		// eslint-disable-next-line no-await-in-loop
		const text = await tracefs.readIfExists(eventsFile[kind]);
		for (const line of (text ?? '').split('\n')) {
			const match = /^[pr]\d*:([^/\s]+)\/(\S+)/.exec(line);
			if (match) {
				result.push({kind, system: match[1]!, event: match[2]!, line});
			}
		}
	}

	return result;
}

/**
 * Remove one probe event, first disabling it and dropping its triggers in
 * every instance (the kernel refuses to remove an event still in use).
 * Returns false when the event was not there. Throws TracefsError (EBUSY
 * when something outside tracefs, such as perf, still holds it).
 */
export async function removeProbeEvent(tracefs: Tracefs, kind: ProbeKind, id: EventId): Promise<boolean> {
	validateName(id.system, 'probe group');
	validateName(id.event, 'probe event');
	const dir = `events/${id.system}/${id.event}`;
	if (!(await tracefs.isDirectory(dir))) {
		return false;
	}

	const instances = [Instance.top(tracefs), ...await Promise.all((await Instance.list(tracefs)).map(async name => Instance.open(tracefs, name).catch(() => undefined)))];
	for (const instance of instances) {
		if (!instance) {
			continue;
		}

		try {
			// eslint-disable-next-line no-await-in-loop
			await releaseIn(tracefs, instance, dir);
		} catch (error) {
			// Another tracer's instance removed meanwhile (its files answer ENODEV or are gone): nothing to release there.
			if (!(error instanceof TracefsError && (error.code === 'ENODEV' || error.code === 'ENOENT'))) {
				throw error;
			}
		}
	}

	try {
		await tracefs.write(eventsFile[kind], `-:${id.system}/${id.event}`, {append: true, errorLog: 'error_log', what: `removal of ${kind} ${id.system}/${id.event}`});
	} catch (error) {
		if (error instanceof TracefsError && error.code === 'ENOENT' && !(await tracefs.isDirectory(dir))) {
			return false;
		}

		throw error;
	}

	return true;
}

/** Drop the event's triggers and disable it in one instance. */
async function releaseIn(tracefs: Tracefs, instance: Instance, dir: string): Promise<void> {
	const triggers = await tracefs.readIfExists(instance.file(`${dir}/trigger`));
	for (const line of (triggers ?? '').split('\n')) {
		const trigger = line.replace(/\s*\[(?:active|paused)\]\s*$/, '').trim();
		if (trigger !== '' && !trigger.startsWith('#')) {
			// eslint-disable-next-line no-await-in-loop
			await tracefs.write(instance.file(`${dir}/trigger`), `!${trigger}`, {append: true, validate: false}).catch(() => undefined);
		}
	}

	const enabled = await tracefs.readIfExists(instance.file(`${dir}/enable`));
	if (enabled !== undefined && enabled.trim() !== '0') {
		await tracefs.write(instance.file(`${dir}/enable`), '0', {validate: false});
	}
}

/** How long removeProbeEvent retries a removal the kernel refuses as busy. */
const busyRetryMs = 2000;

/** What reclaimStaleGroups removed. */
export interface ReclaimReport {
	readonly instances: readonly string[];
	readonly probes: readonly string[];
	readonly failures: ReadonlyArray<{readonly name: string; readonly error: unknown}>;
}

/**
 * Remove what dead owners left behind: instances and probe groups named
 * `ftrace_ts_<pid>...` whose process no longer exists. Names without our
 * prefix, and names of live processes, are left alone. Never throws for a
 * single item; failures are reported.
 */
export async function reclaimStaleGroups(tracefs: Tracefs, options: {readonly isAlive?: (pid: number) => boolean} = {}): Promise<ReclaimReport> {
	const alive = options.isAlive ?? isProcessAlive;
	const stale = (name: string) => {
		const pid = ownerPidOf(name);
		return pid !== undefined && pid !== process.pid && !alive(pid);
	};

	const instances: string[] = [];
	const probes: string[] = [];
	const failures: Array<{name: string; error: unknown}> = [];
	// Instances first: removing one disables whatever it had enabled.
	for (const name of await Instance.list(tracefs)) {
		if (!stale(name)) {
			continue;
		}

		try {
			// eslint-disable-next-line no-await-in-loop
			if (await (await Instance.open(tracefs, name)).destroy()) {
				instances.push(name);
			}
		} catch (error) {
			failures.push({name: `instances/${name}`, error});
		}
	}

	for (const probe of await listProbeEvents(tracefs)) {
		if (!stale(probe.system)) {
			continue;
		}

		try {
			// eslint-disable-next-line no-await-in-loop
			if (await removeProbeEvent(tracefs, probe.kind, probe)) {
				probes.push(`${probe.system}/${probe.event}`);
			}
		} catch (error) {
			failures.push({name: `${probe.system}/${probe.event}`, error});
		}
	}

	return {instances, probes, failures};
}

/**
 * A probe definition the kernel refused, with the kernel's error_log entry
 * re-aimed at the user's own text: `kernel.command` is what the user wrote
 * and `kernel.caret` points into it (the kernel's own echo is in
 * `kernelCommand`/`kernelCaret`).
 */
export class ProbeDefinitionError extends TracefsError {
	/** The definition as the user wrote it. */
	readonly definition: string;
	/** What was written to <kind>_events. */
	readonly written: string;
	readonly kernelCommand: string | undefined;
	readonly kernelCaret: number | undefined;

	constructor(message: string, options: {definition: string; written: string; cause: TracefsError; kernel?: KernelErrorLogEntry | undefined; original?: KernelErrorLogEntry | undefined}) {
		super(message, {
			operation: options.cause.operation,
			path: options.cause.path,
			code: options.cause.code,
			kernel: options.kernel,
			hint: options.cause.hint,
			cause: options.cause,
			usage: true,
		});
		this.definition = options.definition;
		this.written = options.written;
		this.kernelCommand = options.original?.command;
		this.kernelCaret = options.original?.caret;
	}

	/** The kernel's message, the user's text, and a caret under the bad spot. */
	display(): string {
		const lines = [`${this.kernel?.message ?? this.message}`, `  ${this.definition}`];
		if (this.kernel?.caret !== undefined) {
			lines.push(`  ${' '.repeat(this.kernel.caret)}^`);
		}

		return lines.join('\n');
	}
}

/** A probe this process created: its event is events/<system>/<event>. */
export interface ProbeEvent extends EventId {
	readonly kind: ProbeKind;
	/** The definition as written to <kind>_events. */
	readonly command: string;
	/** The resolved definition (uprobe symbols replaced by file offsets). */
	readonly definition: ProbeDefinition;
}

export interface ProbeGroupOptions extends ProbeCheckOptions, ResolveFileOptions {
	/** Undo steps are recorded here (removal of each probe). */
	readonly journal?: UndoJournal | undefined;
	/** Group name; must be owned by this process. Default `ftrace_ts_<pid>`. */
	readonly name?: string | undefined;
}

/**
 * The probe group of this process. `add` creates kprobes and uprobes in it;
 * `destroy` (or the journal, or `await using`) removes every one of them,
 * disabling them in every instance first. Nothing exists in the kernel until
 * the first `add`. The caller must destroy it (or restore its journal).
 */
export class ProbeGroup {
	/** A handle on this process's group. Throws a usage error for a name this process does not own. */
	static open(tracefs: Tracefs, options: ProbeGroupOptions = {}): ProbeGroup {
		const name = options.name ?? ownedName();
		validateName(name, 'probe group');
		if (ownerPidOf(name) !== process.pid) {
			throw new TracefsError(`probe group "${name}" is not owned by this process (${ownedName()}...)`, {operation: 'validate', usage: true});
		}

		return new ProbeGroup(tracefs, name, options);
	}

	readonly #probes: ProbeEvent[] = [];

	private constructor(readonly tracefs: Tracefs, readonly name: string, readonly options: ProbeGroupOptions) {}

	/** The probes created through this handle and not removed yet. */
	get probes(): readonly ProbeEvent[] {
		return this.#probes;
	}

	/**
	 * Create a probe from a definition (text in kernel or perf-tools syntax,
	 * or a typed ProbeDefinition) in this group. Uprobe symbols are resolved
	 * from the file's ELF symbol tables. Returns the event to enable in an
	 * instance. Throws a usage TracefsError for a bad definition, and a
	 * ProbeDefinitionError carrying the kernel's error_log message with its
	 * caret mapped onto `definition`'s text when the kernel refuses it.
	 */
	async add(definition: string | ProbeDefinition, kind?: ProbeKind): Promise<ProbeEvent> {
		let parsed: ProbeDefinition | ParsedProbeDefinition;
		if (typeof definition === 'string') {
			if (!kind) {
				throw new TracefsError('a textual probe definition needs its kind (kprobe or uprobe)', {operation: 'validate', usage: true});
			}

			parsed = parseProbeDefinition(definition, kind);
		} else {
			parsed = definition;
		}

		if (parsed.group !== undefined && parsed.group !== this.name) {
			throw new TracefsError(`probe group "${parsed.group}" in the definition: probes go in this process's group ${this.name}; leave the group out`, {operation: 'validate', usage: true});
		}

		const event = parsed.event ?? defaultEventName(parsed);
		if (this.#probes.some(probe => probe.event === event)) {
			throw new TracefsError(`probe event ${this.name}/${event} exists already: give the probe a name (p:NAME ...)`, {operation: 'validate', usage: true});
		}

		let location = parsed.location;
		if (location.type === 'file' && location.symbol !== undefined) {
			const resolved = await resolveUprobeTarget(location.file, location.symbol, location.offset, this.options);
			location = {type: 'file', file: resolved.path, offset: resolved.offset};
		} else if (location.type === 'file' && !location.file.startsWith('/')) {
			const resolved = await resolveUprobeTarget(location.file, undefined, location.offset, this.options);
			location = {type: 'file', file: resolved.path, offset: resolved.offset};
		}

		const resolved = {...parsed, group: this.name, event, location} as ProbeDefinition | ParsedProbeDefinition;
		const segments = probeCommand(resolved, this.options);
		const command = segments.map(segment => segment.text).join(' ');
		const probeKind = parsed.kind;
		// Tracefs.write skips error_log on ENOENT, which is how the kernel refuses an unknown symbol.
		const logBefore = parseErrorLog(await this.tracefs.readIfExists('error_log').catch(() => undefined) ?? '');
		try {
			await this.tracefs.write(eventsFile[probeKind], command, {append: true, errorLog: 'error_log', what: `${probeKind} definition`});
		} catch (error) {
			if (error instanceof TracefsError && !error.kernel) {
				const entries = parseErrorLog(await this.tracefs.readIfExists('error_log').catch(() => undefined) ?? '');
				const kernel = matchErrorLog(entries, command, logBefore);
				if (kernel) {
					Object.defineProperty(error, 'kernel', {value: kernel});
				}
			}

			throw this.#refused(error, segments, command, typeof definition === 'string' ? definition : command);
		}

		const probe: ProbeEvent = {kind: probeKind, system: this.name, event, command, definition: resolved};
		this.#probes.push(probe);
		this.options.journal?.record(`remove ${probeKind} ${this.name}/${event}`, async () => {
			await this.remove(probe);
		});
		return probe;
	}

	#refused(error: unknown, segments: readonly CommandSegment[], written: string, userText: string): unknown {
		if (!(error instanceof TracefsError)) {
			return error;
		}

		const original = error.kernel;
		let kernel: KernelErrorLogEntry | undefined;
		if (original) {
			const caret = original.caret === undefined ? undefined : mapCaretToSource(segments, original.command, original.caret);
			kernel = {...original, command: userText, caret};
		}

		let message = `kernel refused ${JSON.stringify(userText.trim())}`;
		if (error.code) {
			message += ` (${error.code})`;
		}

		if (kernel) {
			message += `: ${kernel.message}`;
			if (kernel.caret !== undefined) {
				message += ` at position ${kernel.caret}`;
			}
		}

		return new ProbeDefinitionError(message, {definition: userText, written, cause: error, kernel, original});
	}

	/** Remove one probe of this group (disabling it everywhere first). Returns false if it was gone. */
	async remove(probe: ProbeEvent): Promise<boolean> {
		const index = this.#probes.indexOf(probe);
		const removed = await removeProbeEvent(this.tracefs, probe.kind, probe);
		if (index !== -1) {
			this.#probes.splice(index, 1);
		}

		return removed;
	}

	/**
	 * Remove every probe of this group (also ones an earlier handle of this
	 * process made), newest first. Never throws: failures are returned.
	 */
	async destroy(): Promise<Array<{probe: string; error: unknown}>> {
		const failures: Array<{probe: string; error: unknown}> = [];
		for (const probe of [...this.#probes].reverse()) {
			try {
				// eslint-disable-next-line no-await-in-loop
				await this.remove(probe);
			} catch (error) {
				failures.push({probe: `${probe.system}/${probe.event}`, error});
			}
		}

		try {
			for (const listed of await listProbeEvents(this.tracefs)) {
				if (listed.system === this.name) {
					try {
						// eslint-disable-next-line no-await-in-loop
						await removeProbeEvent(this.tracefs, listed.kind, listed);
					} catch (error) {
						failures.push({probe: `${listed.system}/${listed.event}`, error});
					}
				}
			}
		} catch (error) {
			failures.push({probe: this.name, error});
		}

		return failures;
	}

	async [Symbol.asyncDispose](): Promise<void> {
		await this.destroy();
	}
}
