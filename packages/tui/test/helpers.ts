import {readFileSync} from 'node:fs';
import {parseEventFormat, type Capabilities} from '@ftrace-ts/tracefs';
import type {EventCatalog} from '../src/environment.js';

/** A fixture file of packages/tui/test/fixtures (tests run from dist/test). */
export function fixture(name: string): string {
	return readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');
}

/** A shipped sample trace's lines. */
export function sampleLines(name: string): string[] {
	return readFileSync(new URL(`../../samples/${name}`, import.meta.url), 'utf8').split('\n');
}

export const samplePath = (name: string) => new URL(`../../samples/${name}`, import.meta.url).pathname;

/** Capabilities recorded on the development machine (6.18, no function_graph, no kprobes). */
export function recordedCaps(overrides: Partial<Capabilities> = {}): Capabilities {
	return {...JSON.parse(fixture('capabilities.json')) as Capabilities, ...overrides};
}

/** A tracepoint catalog over recorded event lists and format files. */
export function recordedCatalog(): EventCatalog {
	const events = JSON.parse(fixture('events.json')) as Record<string, string[]>;
	return {
		systems: async () => Object.keys(events),
		events: async system => events[system] ?? [],
		async format(system, event) {
			const text = fixture(`formats/${system}__${event}.format`);
			return {format: parseEventFormat(text, system), text};
		},
	};
}

export const delay = async (ms = 150) => new Promise(resolve => {
	setTimeout(resolve, ms);
});

export const keys = {
	up: '\u001B[A',
	down: '\u001B[B',
	right: '\u001B[C',
	left: '\u001B[D',
	enter: '\r',
	escape: '\u001B',
	tab: '\t',
	backspace: '\u007F',
	ctrlC: '\u0003',
	ctrlT: '\u0014',
} as const;

/** Wait until the last frame matches (the UI settles at its own pace on a loaded machine). */
export async function until(lastFrame: () => string | undefined, pattern: RegExp, timeoutMs = 5000): Promise<string> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const frame = lastFrame() ?? '';
		if (pattern.test(frame) || Date.now() > end) {
			return frame;
		}

		// eslint-disable-next-line no-await-in-loop
		await delay(25);
	}
}
