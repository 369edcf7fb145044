/**
 * The tool cores bound to the TUI: how form values become a core's options
 * (validated by the core's own check function, as the CLI validates them),
 * and how its records become view feeds. A tool whose core has not landed in
 * @ftrace-ts/tools has no binding and is shown as not available yet.
 */
import type {Feed} from './feed.js';

/** Values of a launch form, by field key: text fields are strings, switches booleans. */
export type FormValues = Readonly<Record<string, string | boolean | undefined>>;

export interface RunContext {
	readonly signal: AbortSignal;
	/** Replay this recorded trace instead of tracing the kernel. */
	readonly replay?: string | undefined;
}

export interface CoreBinding {
	/** Validate the form as the CLI would; throws (UsageError) naming the bad value. */
	check(values: FormValues, replay?: string): void;
	/** Start the core; iterate to run it; the signal stops it (and its session restores state). */
	run(values: FormValues, context: RunContext): AsyncIterable<Feed>;
}

/** A text value, or undefined when empty. */
export function text(values: FormValues, key: string): string | undefined {
	const value = values[key];
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A numeric text value as a number when it is one; otherwise the text, for the core to reject by name. */
export function numeric(values: FormValues, key: string): number | undefined {
	const value = text(values, key);
	if (value === undefined) {
		return undefined;
	}

	return /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : value as unknown as number;
}

export function flag(values: FormValues, key: string): boolean | undefined {
	return values[key] === true ? true : undefined;
}

export const coreBindings: Readonly<Record<string, CoreBinding>> = {};
