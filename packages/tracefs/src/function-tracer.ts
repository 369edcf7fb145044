import {constants as fsConstants} from 'node:fs';
import {open} from 'node:fs/promises';
import {setTimeout as sleep} from 'node:timers/promises';
import {TracefsError, errnoCode} from './errors.js';
import type {Instance} from './instance.js';
import type {Tracefs} from './tracefs.js';

/**
 * What the function-based tools need beyond Instance: streaming a trace
 * pipe with a way out, the buffered trace, and the kernel's own counters
 * (the function profiler switch; its counts are read with summaries.ts).
 */

/** Whether a line of `trace` is part of its comment header. */
export function isTraceComment(line: string): boolean {
	return line.startsWith('#');
}

/**
 * The lines of an instance's trace_pipe as they arrive (consuming them).
 * Opens the pipe non-blocking and polls, so aborting `signal` ends the
 * iteration promptly and leaves no thread blocked in read(2). Throws
 * TracefsError when the pipe cannot be opened.
 */
export async function * readTracePipe(instance: Instance, options: {readonly signal?: AbortSignal | undefined; readonly pollMs?: number} = {}): AsyncGenerator<string> {
	const path = instance.path('trace_pipe');
	let handle;
	try {
		// eslint-disable-next-line no-bitwise
		handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
	} catch (error) {
		throw new TracefsError(`cannot open ${instance.label} trace_pipe`, {operation: 'read', path, code: errnoCode(error), cause: error, usage: false});
	}

	const buffer = Buffer.alloc(64 * 1024);
	let pending = '';
	try {
		while (!options.signal?.aborted) {
			let bytes = 0;
			try {
				// eslint-disable-next-line no-await-in-loop
				({bytesRead: bytes} = await handle.read(buffer, 0, buffer.length, null));
			} catch (error) {
				if (errnoCode(error) !== 'EAGAIN') {
					throw new TracefsError(`cannot read ${instance.label} trace_pipe`, {operation: 'read', path, code: errnoCode(error), cause: error, usage: false});
				}
			}

			if (bytes === 0) {
				// eslint-disable-next-line no-await-in-loop
				await sleep(options.pollMs ?? 100, undefined, {signal: options.signal}).catch(() => undefined);
				continue;
			}

			pending += buffer.toString('utf8', 0, bytes);
			const lines = pending.split('\n');
			pending = lines.pop() ?? '';
			for (const line of lines) {
				yield line;
			}
		}
	} finally {
		await handle.close().catch(() => undefined);
	}
}

/** The whole buffered trace of an instance, as lines (header comments included). */
export async function readTraceText(instance: Instance): Promise<string[]> {
	const text = await instance.read('trace');
	const lines = text.split('\n');
	if (lines.at(-1) === '') {
		lines.pop();
	}

	return lines;
}

// ---- function profiler (CONFIG_FUNCTION_PROFILER) ---------------------------

/** Whether the kernel has the function profiler. */
export async function hasFunctionProfiler(tracefs: Tracefs): Promise<boolean> {
	return tracefs.exists('function_profile_enabled');
}

/**
 * Switch the function profiler on or off. Turning it on resets its counts.
 * The profiler counts the functions in the top instance's set_ftrace_filter.
 */
export async function setFunctionProfiler(tracefs: Tracefs, on: boolean): Promise<void> {
	await tracefs.write('function_profile_enabled', on ? '1' : '0', {what: 'function_profile_enabled'});
}
