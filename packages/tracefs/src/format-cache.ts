/**
 * Event formats by name and by id, loaded lazily from an instance or given
 * up front (replays of traces recorded elsewhere).
 */
import {parseEventFormat, type EventFormat} from './format.js';
import type {Instance} from './instance.js';
import {compileBodyDecoder, type BodyDecoder} from './print-format.js';

/** A format file's text with the system it belongs to (the file does not name it). */
export interface FormatText {
	readonly system: string;
	readonly text: string;
}

const reloadIntervalMs = 1000;

/**
 * A cache of parsed event formats. The sync lookups (`byName`, `byId`) only
 * see what is loaded; the async ones (`load`, `loadId`) read missing formats
 * from the instance, when there is one. Nothing to destroy.
 */
export class FormatCache {
	/**
	 * A cache that reads formats from `instance` on demand. Reads
	 * `available_events` once (again at most once a second when a name is
	 * missing: dynamic events come and go).
	 */
	static forInstance(instance: Instance): FormatCache {
		return new FormatCache(instance);
	}

	/** A cache holding exactly these formats (format texts or parsed ones). Throws Error on a text that is not a format file. */
	static fromFormats(formats: ReadonlyArray<FormatText | EventFormat>): FormatCache {
		const cache = new FormatCache(undefined);
		for (const format of formats) {
			if ('text' in format) {
				cache.add(parseEventFormat(format.text, format.system), format.text);
			} else {
				cache.add(format);
			}
		}

		return cache;
	}

	readonly #byName = new Map<string, EventFormat>();
	readonly #byId = new Map<number, EventFormat>();
	readonly #decoders = new Map<EventFormat, BodyDecoder>();
	readonly #texts = new Map<EventFormat, string>();
	#systemsByName: Map<string, string> | undefined;
	#systemsLoadedAt = 0;
	#idsScanned = false;
	#added = 0;

	private constructor(readonly instance: Instance | undefined) {}

	/** How many times add() ran: what was looked up in this cache may differ once it changes. */
	get generation(): number {
		return this.#added;
	}

	/** Add (or replace) a format. */
	add(format: EventFormat, text?: string): void {
		this.#added++;
		this.#byName.set(format.name, format);
		this.#byId.set(format.id, format);
		if (text !== undefined) {
			this.#texts.set(format, text);
		}
	}

	/** The loaded format of an event name ("block_rq_issue"), if any. */
	byName(name: string): EventFormat | undefined {
		return this.#byName.get(name);
	}

	/** The loaded format of an event id (common_type), if any. */
	byId(id: number): EventFormat | undefined {
		return this.#byId.get(id);
	}

	/** Every loaded format. */
	formats(): EventFormat[] {
		return [...this.#byName.values()];
	}

	/** The format file text, when the format was loaded from text (for recording captures). */
	textOf(format: EventFormat): string | undefined {
		return this.#texts.get(format);
	}

	/** The compiled print fmt decoder of a format (compiled once). */
	decoder(format: EventFormat): BodyDecoder {
		let decoder = this.#decoders.get(format);
		if (!decoder) {
			decoder = compileBodyDecoder(format);
			this.#decoders.set(format, decoder);
		}

		return decoder;
	}

	/**
	 * The format of an event by name, loading it from the instance when
	 * missing. Returns undefined when there is no such event (or no
	 * instance). Throws TracefsError when a format file cannot be read.
	 */
	async load(name: string, system?: string): Promise<EventFormat | undefined> {
		const known = this.#byName.get(name);
		if (known && (system === undefined || known.system === system)) {
			return known;
		}

		if (!this.instance) {
			return undefined;
		}

		const sys = system ?? await this.#systemOf(name);
		if (sys === undefined) {
			return undefined;
		}

		const text = await this.instance.tracefs.readIfExists(this.#eventFile(sys, name, 'format'));
		if (text === undefined) {
			return undefined;
		}

		const format = parseEventFormat(text, sys);
		this.add(format, text);
		return format;
	}

	/**
	 * The format of an event id, loading it when missing: first the events
	 * enabled in the instance (set_event), then, once, every event's id file.
	 * Returns undefined for an id no event has.
	 */
	async loadId(id: number): Promise<EventFormat | undefined> {
		const known = this.#byId.get(id);
		if (known || !this.instance) {
			return known;
		}

		await this.loadEnabled();
		if (this.#byId.has(id) || this.#idsScanned) {
			return this.#byId.get(id);
		}

		this.#idsScanned = true;
		const systems = await this.#systems(true);
		for (const [name, system] of systems) {
			if (this.#byName.has(name)) {
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			if (system === 'ftrace') {
				// ftrace's own events have no id file: the format says.
				// eslint-disable-next-line no-await-in-loop
				const format = await this.load(name, system);
				if (format?.id === id) {
					return format;
				}

				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			const text = await this.instance.tracefs.readIfExists(this.#eventFile(system, name, 'id'));
			if (text !== undefined && Number(text) === id) {
				return this.load(name, system);
			}
		}

		return undefined;
	}

	/** Load the formats of every event enabled in the instance (its set_event list), plus ftrace's own. */
	async loadEnabled(): Promise<EventFormat[]> {
		if (!this.instance) {
			return this.formats();
		}

		const enabled = (await this.instance.read('set_event')).split('\n').filter(Boolean);
		const loaded: EventFormat[] = [];
		for (const line of enabled) {
			const [system = '', name = ''] = line.split(':');
			// eslint-disable-next-line no-await-in-loop
			const format = await this.load(name, system);
			if (format) {
				loaded.push(format);
			}
		}

		return loaded;
	}

	/** ftrace's own events exist only at the top level (ids are global). */
	#eventFile(system: string, name: string, file: string): string {
		const relative = `events/${system}/${name}/${file}`;
		return system === 'ftrace' ? relative : this.instance!.file(relative);
	}

	async #systemOf(name: string): Promise<string | undefined> {
		let systems = await this.#systems(false);
		if (!systems.has(name) && Date.now() - this.#systemsLoadedAt > reloadIntervalMs) {
			systems = await this.#systems(true);
		}

		return systems.get(name);
	}

	async #systems(reload: boolean): Promise<Map<string, string>> {
		if (this.#systemsByName && !reload) {
			return this.#systemsByName;
		}

		const map = new Map<string, string>();
		// ftrace's own events (function, kernel_stack, print...) are not in available_events.
		for (const name of await this.instance!.tracefs.list('events/ftrace').catch(() => [])) {
			map.set(name, 'ftrace');
		}

		const text = await this.instance!.tracefs.read('available_events');
		for (const line of text.split('\n')) {
			const colon = line.indexOf(':');
			if (colon > 0 && !map.has(line.slice(colon + 1))) {
				map.set(line.slice(colon + 1), line.slice(0, colon));
			}
		}

		this.#systemsByName = map;
		this.#systemsLoadedAt = Date.now();
		return map;
	}
}
