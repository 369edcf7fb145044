import {setTimeout as sleep} from 'node:timers/promises';
import {TracefsError, errnoCode} from './errors.js';
import {parseErrorLog} from './error-log.js';
import type {KernelErrorLogEntry} from './errors.js';
import {parseEventFormat, type EventFormat} from './format.js';
import type {UndoJournal} from './journal.js';
import {Tracefs} from './tracefs.js';
import {globToRegExp, validateFunctionGlob, validateName, validateUnsigned, validateValue} from './validate.js';

/** The function-filter files of an instance. */
export type FunctionFilterFile =
	| 'set_ftrace_filter'
	| 'set_ftrace_notrace'
	| 'set_graph_function'
	| 'set_graph_notrace';

/** A tracepoint (or dynamic event) by system and name. */
export interface EventId {
	readonly system: string;
	readonly event: string;
}

/** Parse "system:event" or "system/event" into an EventId, validating both names. */
export function parseEventId(spec: string): EventId {
	validateValue(spec, 'tracepoint');
	const match = /^([^:/\s]+)[:/]([^:/\s]+)$/.exec(spec);
	if (!match) {
		throw new TracefsError(`tracepoint "${spec}" is not of the form subsystem:event`, {operation: 'validate', usage: true});
	}

	return {system: validateName(match[1]!, 'subsystem'), event: validateName(match[2]!, 'event')};
}

const emptyFilterMarker = /^#### all functions enabled ####/;

export interface InstanceOptions {
	/** Record every change made through this handle, to undo later. */
	readonly journal?: UndoJournal | undefined;
}

/**
 * A tracing instance: the top one (`Instance.top`) or a named one under
 * instances/. Each owns a ring buffer, a tracer, options and per-event
 * enable/filter/trigger state. Every per-instance file is reached through it.
 */
export class Instance {
	/**
	 * The top instance. It cannot be destroyed; `isNew` is false.
	 */
	static top(tracefs: Tracefs, options: InstanceOptions = {}): Instance {
		return new Instance(tracefs, undefined, false, options.journal);
	}

	/**
	 * Create instances/NAME. When it exists already: with `exclusive` throws
	 * (EEXIST); otherwise opens it with `isNew` false. The caller destroys what
	 * it created (`destroy()`, or `await using` which destroys only when new).
	 */
	static async create(tracefs: Tracefs, name: string, options: InstanceOptions & {readonly exclusive?: boolean} = {}): Promise<Instance> {
		validateName(name, 'instance name');
		try {
			await tracefs.mkdir(`instances/${name}`);
		} catch (error) {
			if (error instanceof TracefsError && error.code === 'EEXIST' && !options.exclusive) {
				return new Instance(tracefs, name, false, options.journal);
			}

			if (error instanceof TracefsError && error.code === 'ENOENT' && !(await tracefs.exists('instances'))) {
				throw new TracefsError('this kernel has no tracing instances', {
					operation: 'create instance', path: tracefs.path('instances'), code: 'ENOENT',
					hint: 'instances need Linux 3.10+ with CONFIG_TRACING', cause: error, usage: false,
				});
			}

			throw error;
		}

		return new Instance(tracefs, name, true, options.journal);
	}

	/** Open an existing instances/NAME. Throws TracefsError ENOENT if absent. */
	static async open(tracefs: Tracefs, name: string, options: InstanceOptions = {}): Promise<Instance> {
		validateName(name, 'instance name');
		if (!(await tracefs.isDirectory(`instances/${name}`))) {
			throw new TracefsError(`instance "${name}" does not exist`, {
				operation: 'open instance', path: tracefs.path(`instances/${name}`), code: 'ENOENT', usage: false,
			});
		}

		return new Instance(tracefs, name, false, options.journal);
	}

	/** Names of the existing named instances. */
	static async list(tracefs: Tracefs): Promise<string[]> {
		return (await tracefs.exists('instances')) ? tracefs.list('instances') : [];
	}

	#destroyed = false;

	private constructor(
		readonly tracefs: Tracefs,
		/** undefined for the top instance. */
		readonly name: string | undefined,
		/** Whether this handle created the kernel object. */
		readonly isNew: boolean,
		public journal: UndoJournal | undefined,
	) {}

	get isTop(): boolean {
		return this.name === undefined;
	}

	/** "top" or the instance name, for messages. */
	get label(): string {
		return this.name ?? 'top';
	}

	/** The tracefs-relative path of a per-instance file. */
	file(relative: string): string {
		return this.name === undefined ? relative : `instances/${this.name}/${relative}`;
	}

	/** The absolute path of a per-instance file. */
	path(relative: string): string {
		return this.tracefs.path(this.file(relative));
	}

	async read(relative: string): Promise<string> {
		return this.tracefs.read(this.file(relative));
	}

	async exists(relative: string): Promise<boolean> {
		return this.tracefs.exists(this.file(relative));
	}

	/**
	 * Write a per-instance file; the kernel's refusal comes back as a
	 * TracefsError with this instance's error_log entry attached.
	 */
	async write(relative: string, value: string, options: {append?: boolean; what?: string} = {}): Promise<void> {
		await this.tracefs.write(this.file(relative), value, {
			...options,
			errorLog: this.file('error_log'),
		});
	}

	/**
	 * Remove the instance. Returns false when it was already gone (destroy
	 * twice is harmless). Throws for the top instance, and TracefsError EBUSY
	 * if a reader still holds it after a few retries.
	 */
	async destroy(): Promise<boolean> {
		if (this.name === undefined) {
			throw new TracefsError('the top instance cannot be destroyed', {operation: 'destroy instance', usage: true});
		}

		for (let attempt = 0; ; attempt++) {
			try {
				// eslint-disable-next-line no-await-in-loop
				await this.tracefs.rmdir(`instances/${this.name}`);
				this.#destroyed = true;
				return true;
			} catch (error) {
				if (error instanceof TracefsError && error.code === 'ENOENT') {
					this.#destroyed = true;
					return false;
				}

				if (error instanceof TracefsError && error.code === 'EBUSY' && attempt < 20) {
					// A closing trace_pipe reader may still hold a reference for a moment.
					// eslint-disable-next-line no-await-in-loop
					await sleep(50);
					continue;
				}

				throw error;
			}
		}
	}

	get isDestroyed(): boolean {
		return this.#destroyed;
	}

	/** Undo the journal (if any), then destroy the instance if this handle created it. */
	async [Symbol.asyncDispose](): Promise<void> {
		await this.journal?.restore();
		if (this.isNew && !this.#destroyed) {
			await this.destroy().catch(() => undefined);
		}
	}

	// ---- journaling -------------------------------------------------------

	/** Write a file, recording an undo step that writes `previous` back. */
	async #set(relative: string, value: string, previous: string | undefined, what?: string): Promise<void> {
		await this.write(relative, value, what ? {what} : {});
		if (this.journal && previous !== undefined && previous !== value) {
			this.journal.record(`${this.label} ${relative}: ${previous} -> ${value}`, async () => {
				await this.tracefs.write(this.file(relative), previous, {validate: false});
			});
		}
	}

	async #readTrim(relative: string): Promise<string> {
		return (await this.read(relative)).trim();
	}

	// ---- tracers ----------------------------------------------------------

	async availableTracers(): Promise<string[]> {
		return (await this.#readTrim('available_tracers')).split(/\s+/).filter(Boolean);
	}

	async currentTracer(): Promise<string> {
		return this.#readTrim('current_tracer');
	}

	/** Set current_tracer. Throws a usage error for a tracer the kernel does not list. */
	async setTracer(tracer: string): Promise<void> {
		validateName(tracer, 'tracer');
		const available = await this.availableTracers();
		if (!available.includes(tracer)) {
			throw new TracefsError(`tracer "${tracer}" is not available on this kernel (available: ${available.join(' ')})`, {
				operation: 'set tracer', path: this.path('current_tracer'), code: 'EINVAL', usage: true,
				hint: tracer === 'function_graph' ? 'it needs CONFIG_FUNCTION_GRAPH_TRACER' : tracer === 'function' ? 'it needs CONFIG_FUNCTION_TRACER' : undefined,
			});
		}

		await this.#set('current_tracer', tracer, await this.currentTracer());
	}

	async isTracingOn(): Promise<boolean> {
		return (await this.#readTrim('tracing_on')) === '1';
	}

	async setTracingOn(on: boolean): Promise<void> {
		await this.#set('tracing_on', on ? '1' : '0', (await this.isTracingOn()) ? '1' : '0');
	}

	/** buffer_size_kb per CPU, as a number (the "(expanded: N)" form reads as its first number). */
	async bufferSizeKb(): Promise<number> {
		return Number.parseInt(await this.#readTrim('buffer_size_kb'), 10);
	}

	async setBufferSizeKb(kb: number): Promise<void> {
		const value = validateUnsigned(kb, 'buffer size (KB)', 4_194_304);
		if (kb === 0) {
			throw new TracefsError('buffer size must be at least 1 KB', {operation: 'validate', usage: true});
		}

		await this.#set('buffer_size_kb', value, String(await this.bufferSizeKb()));
	}

	/** Empty the ring buffer (all CPUs). Not journaled: there is nothing to put back. */
	async clear(): Promise<void> {
		await this.write('trace', '', {});
	}

	/** The trace clocks and which is current. */
	async traceClock(): Promise<{current: string; available: string[]}> {
		const words = (await this.#readTrim('trace_clock')).split(/\s+/);
		const current = words.find(word => word.startsWith('['))?.slice(1, -1) ?? '';
		return {current, available: words.map(word => word.replace(/^\[(.*)\]$/, '$1'))};
	}

	async setTraceClock(clock: string): Promise<void> {
		validateName(clock, 'trace clock');
		const {current, available} = await this.traceClock();
		if (!available.includes(clock)) {
			throw new TracefsError(`trace clock "${clock}" is not available (available: ${available.join(' ')})`, {operation: 'validate', usage: true});
		}

		await this.#set('trace_clock', clock, current);
	}

	// ---- options ----------------------------------------------------------

	/** Every option in options/ with its state. */
	async options(): Promise<Record<string, boolean>> {
		const result: Record<string, boolean> = {};
		for (const line of (await this.read('trace_options')).split('\n')) {
			const word = line.trim();
			if (word === '') {
				continue;
			}

			if (word.startsWith('no')) {
				result[word.slice(2)] = false;
			} else {
				result[word] = true;
			}
		}

		return result;
	}

	async option(name: string): Promise<boolean> {
		validateName(name, 'option');
		const value = await this.tracefs.readIfExists(this.file(`options/${name}`));
		if (value === undefined) {
			throw new TracefsError(`option "${name}" does not exist on this kernel`, {operation: 'read option', path: this.path(`options/${name}`), code: 'ENOENT', usage: true});
		}

		return value.trim() === '1';
	}

	async setOption(name: string, on: boolean): Promise<void> {
		const previous = await this.option(name);
		await this.#set(`options/${name}`, on ? '1' : '0', previous ? '1' : '0');
	}

	// ---- function filters --------------------------------------------------

	/** The entries of a function filter file; [] when it holds none. */
	async functionFilter(file: FunctionFilterFile): Promise<string[]> {
		const text = await this.read(file);
		return text.split('\n').map(line => line.trim()).filter(line => line !== '' && !emptyFilterMarker.test(line) && !line.startsWith('#'));
	}

	/**
	 * Set a function filter file to `globs` (replacing it, or appending with
	 * `append`). Globs are validated first; an empty list clears the file.
	 * Throws a usage TracefsError when a glob matches no function.
	 */
	async setFunctionFilter(file: FunctionFilterFile, globs: readonly string[], options: {append?: boolean} = {}): Promise<void> {
		for (const glob of globs) {
			validateFunctionGlob(glob, `${file} pattern`);
		}

		const previous = await this.functionFilter(file);
		try {
			if (globs.length === 0) {
				await this.write(file, '', {});
			} else {
				// One pattern per write: the kernel reports which one it refused.
				for (const [index, glob] of globs.entries()) {
					// eslint-disable-next-line no-await-in-loop
					await this.write(file, glob, {append: options.append === true || index > 0, what: `${file} pattern "${glob}"`});
				}
			}
		} catch (error) {
			await this.#writeFunctionFilter(file, previous).catch(() => undefined);
			if (error instanceof TracefsError && error.code === 'EINVAL') {
				throw new TracefsError(`${error.message.replace(/ \(EINVAL\)$/, '')}: no traceable function matches`, {
					operation: 'set function filter', path: error.path, code: error.code, kernel: error.kernel, cause: error, usage: true,
					hint: 'see available_filter_functions; inlined and notrace functions cannot be traced',
				});
			}

			throw error;
		}

		this.journal?.record(`${this.label} ${file}`, async () => this.#writeFunctionFilter(file, previous));
	}

	async #writeFunctionFilter(file: FunctionFilterFile, entries: readonly string[]): Promise<void> {
		await this.tracefs.write(this.file(file), '', {validate: false});
		for (const entry of entries) {
			// eslint-disable-next-line no-await-in-loop
			await this.tracefs.write(this.file(file), entry, {append: true, validate: false}).catch(() => undefined);
		}
	}

	async #pids(file: string): Promise<number[]> {
		const text = await this.tracefs.readIfExists(this.file(file));
		if (text === undefined) {
			return [];
		}

		return text.split(/\s+/).filter(word => /^\d+$/.test(word)).map(Number);
	}

	async #setPids(file: string, pids: readonly number[]): Promise<void> {
		for (const pid of pids) {
			validateUnsigned(pid, 'PID', 4_194_304);
		}

		const previous = await this.#pids(file);
		await this.write(file, pids.join(' '), {what: file});
		this.journal?.record(`${this.label} ${file}`, async () => {
			await this.tracefs.write(this.file(file), previous.join(' '), {validate: false});
		});
	}

	/** PIDs the function tracers follow (set_ftrace_pid). */
	async ftracePids(): Promise<number[]> {
		return this.#pids('set_ftrace_pid');
	}

	async setFtracePids(pids: readonly number[]): Promise<void> {
		await this.#setPids('set_ftrace_pid', pids);
	}

	/** PIDs events are recorded for (set_event_pid). */
	async eventPids(): Promise<number[]> {
		return this.#pids('set_event_pid');
	}

	async setEventPids(pids: readonly number[]): Promise<void> {
		await this.#setPids('set_event_pid', pids);
	}

	/** PIDs events are not recorded for (set_event_notrace_pid, Linux 5.8 on; [] without it). */
	async eventNotracePids(): Promise<number[]> {
		return this.#pids('set_event_notrace_pid');
	}

	async setEventNotracePids(pids: readonly number[]): Promise<void> {
		await this.#setPids('set_event_notrace_pid', pids);
	}

	/** max_graph_depth (top instance file; 0 = unlimited). */
	async maxGraphDepth(): Promise<number> {
		return Number(await this.tracefs.read('max_graph_depth'));
	}

	async setMaxGraphDepth(depth: number): Promise<void> {
		const value = validateUnsigned(depth, 'max graph depth', 1000);
		const previous = String(await this.maxGraphDepth());
		await this.tracefs.write('max_graph_depth', value, {what: 'max_graph_depth'});
		this.journal?.record(`max_graph_depth: ${previous} -> ${value}`, async () => this.tracefs.write('max_graph_depth', previous, {validate: false}));
	}

	/** tracing_thresh in microseconds (top instance file; 0 = off). */
	async tracingThresh(): Promise<number> {
		return Number(await this.tracefs.read('tracing_thresh'));
	}

	async setTracingThresh(microseconds: number): Promise<void> {
		const value = validateUnsigned(microseconds, 'latency threshold (us)', 4_294_967);
		const previous = String(await this.tracingThresh());
		await this.tracefs.write('tracing_thresh', value, {what: 'tracing_thresh'});
		this.journal?.record(`tracing_thresh: ${previous} -> ${value}`, async () => this.tracefs.write('tracing_thresh', previous, {validate: false}));
	}

	/**
	 * Functions in available_filter_functions that match `glob` (all when
	 * omitted), without module suffixes, in file order, deduplicated.
	 */
	async searchFunctions(glob?: string): Promise<string[]> {
		const regexp = glob === undefined ? undefined : globToRegExp(validateFunctionGlob(glob));
		const text = await this.tracefs.read('available_filter_functions');
		const seen = new Set<string>();
		const result: string[] = [];
		for (const line of text.split('\n')) {
			const name = line.split(/\s/, 1)[0];
			if (!name || seen.has(name) || (regexp && !regexp.test(name))) {
				continue;
			}

			seen.add(name);
			result.push(name);
		}

		return result;
	}

	// ---- events ------------------------------------------------------------

	/** The event systems of this instance (directories under events/). */
	async systems(): Promise<string[]> {
		const entries = await this.tracefs.list(this.file('events'));
		const result: string[] = [];
		for (const entry of entries) {
			// eslint-disable-next-line no-await-in-loop
			if (await this.tracefs.isDirectory(this.file(`events/${entry}`))) {
				result.push(entry);
			}
		}

		return result;
	}

	/** The events of a system. Throws a usage error for an unknown system. */
	async events(system: string): Promise<string[]> {
		validateName(system, 'subsystem');
		if (!(await this.tracefs.isDirectory(this.file(`events/${system}`)))) {
			throw new TracefsError(`no tracepoint subsystem "${system}" on this kernel`, {operation: 'list events', path: this.path(`events/${system}`), code: 'ENOENT', usage: true});
		}

		const result: string[] = [];
		for (const entry of await this.tracefs.list(this.file(`events/${system}`))) {
			// eslint-disable-next-line no-await-in-loop
			if (await this.tracefs.isDirectory(this.file(`events/${system}/${entry}`))) {
				result.push(entry);
			}
		}

		return result;
	}

	/** Every event as {system, event}, from available_events (one read). */
	async allEvents(): Promise<EventId[]> {
		const text = await this.tracefs.read('available_events');
		return text.split('\n').filter(Boolean).map(line => {
			const [system = '', event = ''] = line.split(':');
			return {system, event};
		});
	}

	async eventExists(id: EventId): Promise<boolean> {
		return this.tracefs.isDirectory(this.file(`events/${id.system}/${id.event}`));
	}

	async #eventDir(id: EventId): Promise<string> {
		validateName(id.system, 'subsystem');
		validateName(id.event, 'event');
		const dir = `events/${id.system}/${id.event}`;
		if (!(await this.tracefs.isDirectory(this.file(dir)))) {
			const hasSystem = await this.tracefs.isDirectory(this.file(`events/${id.system}`));
			throw new TracefsError(
				hasSystem
					? `no tracepoint ${id.system}:${id.event} on this kernel`
					: `no tracepoint subsystem "${id.system}" on this kernel`,
				{operation: 'find event', path: this.path(dir), code: 'ENOENT', usage: true, hint: 'list them with: tpoint -l'},
			);
		}

		return dir;
	}

	/** The parsed format of an event. */
	async eventFormat(id: EventId): Promise<EventFormat> {
		const dir = await this.#eventDir(id);
		return parseEventFormat(await this.read(`${dir}/format`), id.system);
	}

	/** Whether an event is enabled ("X" for a system with mixed state reads as true). */
	async isEventEnabled(id: EventId): Promise<boolean> {
		const dir = await this.#eventDir(id);
		return (await this.#enableState(dir)) === '1';
	}

	/** "1" or "0": the enable file also reads "0*"/"1*" when triggers are attached (soft mode). */
	async #enableState(dir: string): Promise<'0' | '1'> {
		return (await this.#readTrim(`${dir}/enable`)).startsWith('1') ? '1' : '0';
	}

	/** Enable one event. Journaled: undo disables it if it was disabled. */
	async enableEvent(id: EventId): Promise<void> {
		const dir = await this.#eventDir(id);
		await this.#set(`${dir}/enable`, '1', await this.#enableState(dir));
	}

	async disableEvent(id: EventId): Promise<void> {
		const dir = await this.#eventDir(id);
		await this.#set(`${dir}/enable`, '0', await this.#enableState(dir));
	}

	/**
	 * Enable or disable a whole system (events/SYSTEM/enable), or every event
	 * (events/enable) when system is undefined. Journaled per event, so the
	 * undo restores the exact mix that was there.
	 */
	async setSystemEnabled(system: string | undefined, on: boolean): Promise<void> {
		const dir = system === undefined ? 'events' : `events/${validateName(system, 'subsystem')}`;
		if (!(await this.tracefs.isDirectory(this.file(dir)))) {
			throw new TracefsError(`no tracepoint subsystem "${system}" on this kernel`, {operation: 'enable', path: this.path(dir), code: 'ENOENT', usage: true});
		}

		const systems = system === undefined ? await this.systems() : [system];
		const previous: string[] = [];
		if (this.journal) {
			for (const sys of systems) {
				// eslint-disable-next-line no-await-in-loop
				for (const event of await this.events(sys)) {
					// eslint-disable-next-line no-await-in-loop
					const state = await this.tracefs.readIfExists(this.file(`events/${sys}/${event}/enable`));
					if (state !== undefined && !state.startsWith(on ? '1' : '0')) {
						previous.push(`events/${sys}/${event}/enable`);
					}
				}
			}
		}

		await this.write(`${dir}/enable`, on ? '1' : '0', {});
		if (previous.length > 0) {
			this.journal?.record(`${this.label} ${dir}/enable -> ${on ? 1 : 0}`, async () => {
				for (const file of previous) {
					// eslint-disable-next-line no-await-in-loop
					await this.tracefs.write(this.file(file), on ? '0' : '1', {validate: false}).catch(() => undefined);
				}
			});
		}
	}

	/** The event's filter, or undefined when none is set. */
	async eventFilter(id: EventId): Promise<string | undefined> {
		const dir = await this.#eventDir(id);
		const text = await this.#readTrim(`${dir}/filter`);
		// After a refused write the file shows the parse error; no filter is active.
		return text === 'none' || text.includes('parse_error:') ? undefined : text;
	}

	/**
	 * Set an event filter. The kernel checks it; a refusal throws a usage
	 * TracefsError with the kernel's error_log message and caret. Journaled.
	 */
	async setEventFilter(id: EventId, filter: string): Promise<void> {
		const dir = await this.#eventDir(id);
		validateValue(filter, `filter for ${id.system}:${id.event}`);
		const previous = await this.eventFilter(id);
		try {
			await this.write(`${dir}/filter`, filter, {what: `filter for ${id.system}:${id.event}`});
		} catch (error) {
			// A refused filter leaves the kernel's parse error in the filter file:
			// put the previous filter back so nothing is left half-set.
			await this.tracefs.write(this.file(`${dir}/filter`), previous ?? '0', {validate: false}).catch(() => undefined);
			throw error;
		}

		this.journal?.record(`${this.label} ${dir}/filter`, async () => {
			await this.tracefs.write(this.file(`${dir}/filter`), previous ?? '0', {validate: false});
		});
	}

	async clearEventFilter(id: EventId): Promise<void> {
		const dir = await this.#eventDir(id);
		const previous = await this.eventFilter(id);
		await this.write(`${dir}/filter`, '0', {});
		if (previous !== undefined) {
			this.journal?.record(`${this.label} ${dir}/filter`, async () => {
				await this.tracefs.write(this.file(`${dir}/filter`), previous, {validate: false});
			});
		}
	}

	/** The active triggers of an event, as the kernel lists them. */
	async eventTriggers(id: EventId): Promise<string[]> {
		const dir = await this.#eventDir(id);
		return (await this.read(`${dir}/trigger`)).split('\n').map(line => line.trim()).filter(line => line !== '' && !line.startsWith('#'));
	}

	/**
	 * Add a trigger (traceon, traceoff, stacktrace, snapshot,
	 * enable_event:sys:ev, disable_event:sys:ev, hist:...). Journaled: the
	 * undo removes it. Returns the exact text to pass to removeTrigger.
	 */
	async addTrigger(id: EventId, trigger: string): Promise<string> {
		const dir = await this.#eventDir(id);
		validateValue(trigger, `trigger for ${id.system}:${id.event}`);
		const text = trigger.trim();
		if (text === '' || text.startsWith('!')) {
			throw new TracefsError(`trigger "${trigger}" is empty or a removal: use removeTrigger`, {operation: 'validate', usage: true});
		}

		await this.#journalTriggerEffects(text);
		await this.write(`${dir}/trigger`, text, {append: true, what: `trigger for ${id.system}:${id.event}`});
		this.journal?.record(`${this.label} ${dir}/trigger ${text}`, async () => {
			await this.tracefs.write(this.file(`${dir}/trigger`), `!${text}`, {append: true, validate: false});
		});
		return text;
	}

	/**
	 * A trigger changes state when it fires: traceon/traceoff flip tracing_on,
	 * enable_event/disable_event flip another event. Record the state those
	 * would change first, so the undo (which runs after the trigger is removed)
	 * puts it back.
	 */
	async #journalTriggerEffects(trigger: string): Promise<void> {
		if (!this.journal) {
			return;
		}

		const command = trigger.split(/[:\s]/, 1)[0];
		if (command === 'traceon' || command === 'traceoff') {
			const previous = (await this.isTracingOn()) ? '1' : '0';
			this.journal.record(`${this.label} tracing_on (trigger ${trigger})`, async () => {
				await this.tracefs.write(this.file('tracing_on'), previous, {validate: false});
			});
		} else if (command === 'enable_event' || command === 'disable_event') {
			const [, system, event] = trigger.split(':');
			if (system && event && await this.eventExists({system, event})) {
				const dir = `events/${system}/${event}`;
				const previous = await this.#enableState(dir);
				this.journal.record(`${this.label} ${dir}/enable (trigger ${trigger})`, async () => {
					await this.tracefs.write(this.file(`${dir}/enable`), previous, {validate: false});
				});
			}
		}
	}

	/** Remove a trigger added with the same text. */
	async removeTrigger(id: EventId, trigger: string): Promise<void> {
		const dir = await this.#eventDir(id);
		validateValue(trigger, `trigger for ${id.system}:${id.event}`);
		await this.write(`${dir}/trigger`, `!${trigger.trim()}`, {append: true});
	}

	/** The hist file of an event (its hist triggers' output). */
	async eventHist(id: EventId): Promise<string> {
		const dir = await this.#eventDir(id);
		return this.read(`${dir}/hist`);
	}

	// ---- error log ----------------------------------------------------------

	/** This instance's error_log entries, oldest first ([] when the kernel has none). */
	async errorLog(): Promise<KernelErrorLogEntry[]> {
		const text = await this.tracefs.readIfExists(this.file('error_log'));
		return text === undefined ? [] : parseErrorLog(text);
	}
}

/** True when `error` is a TracefsError with the given errno code. */
export function isTracefsCode(error: unknown, code: string): boolean {
	return error instanceof TracefsError ? error.code === code : errnoCode(error) === code;
}
