/**
 * Where a tool's trace records come from: its own instance, live
 * (trace_pipe, until aborted) or buffered (the `trace` file once, after a
 * duration), or a recorded file (`--replay`). The decoding is the tracefs
 * readers' job: tools see events with their fields by name, never text
 * columns.
 */
import {writeFile} from 'node:fs/promises';
import {checkTraceFile, type Instance, type Tracefs} from '@ftrace-ts/tracefs';
import {ToolSession, sleepUnlessAborted} from './session.js';
import {openLiveLines, openLiveReader, openLiveReaderIdle, openReplayFields, openReplayLines, openReplayReader, type InputFields, type InputIdle, type InputLine, type InputPause, type InputRecord} from './reader-adapter.js';

export type {InputRecord, InputEvent, InputLost, InputLine, InputFields, InputFieldLine, InputPause, InputIdle, FieldValue} from './reader-adapter.js';
export {countGapsAside, replayGapsAtMost} from './reader-adapter.js';

/** What a tool's setup step did, reported once tracing has started. */
export interface TraceStarted {
	readonly kind: 'started';
	/** "live", "buffered" or "replay". */
	readonly mode: 'live' | 'buffered' | 'replay';
	/** The instance name (live and buffered runs). */
	readonly instance?: string | undefined;
}

export interface TraceInputOptions {
	readonly tool: string;
	readonly signal?: AbortSignal | undefined;
	/** Per-CPU buffer for the tool's instance. */
	readonly bufferSizeKb?: number | undefined;
	/** Buffered mode: trace this long, then read `trace` once. */
	readonly durationSeconds?: number | undefined;
	/** Analyse this recorded trace file instead of the kernel. */
	readonly replay?: string | undefined;
	/** Extra event formats for replays (traces recorded on older kernels). */
	readonly replayFormats?: ReadonlyArray<{readonly system: string; readonly text: string}> | undefined;
	/** Replay only the lines that start at a byte in [from, to) of the file, on this thread (a piece of a split replay). */
	readonly replayRange?: {readonly from: number; readonly to: number} | undefined;
	readonly tracefs?: Tracefs | undefined;
	/**
	 * Enable the tool's events (journaled through the session, so close()
	 * undoes it). Runs before tracing starts (the instance is opened with
	 * tracing off, so the setup's own activity is not traced); throwing ends
	 * the run after the session restored everything.
	 */
	readonly setup?: ((session: ToolSession) => Promise<void>) | undefined;
	/**
	 * Leave this process's threads out of the instance's events (the tool's
	 * own opens of tracefs files). Only for events that fire in the context
	 * of the task they are about (syscalls, uprobes): the kernel drops an
	 * event by whichever task is current, so an interrupt's event (a block
	 * completion, a wakeup) that lands while one of our threads runs would
	 * be lost.
	 */
	readonly ignoreOwnProcess?: boolean | undefined;
	/** The threads the user asked to trace (-p, -L): when one is ours, ours stay in. */
	readonly tracedTids?: readonly number[] | undefined;
	/** Yield the kernel's text lines instead of decoded records (tpoint prints them as they are). */
	readonly lines?: boolean | undefined;
}

/**
 * Open the tool's session (unless replaying), run its setup, then yield a
 * `started` record followed by every trace record. Ending the iteration
 * (break, abort, error) closes the session, which restores everything.
 */
export async function * traceInput(options: TraceInputOptions): AsyncGenerator<InputRecord | InputLine | TraceStarted> {
	yield * traceInputWith(options, false) as AsyncGenerator<InputRecord | InputLine | TraceStarted>;
}

/** traceInput, and with `idle` (live records), an InputIdle each time trace_pipe is found empty. */
async function * traceInputWith(options: TraceInputOptions, idle: boolean): AsyncGenerator<InputRecord | InputLine | TraceStarted | InputIdle> {
	if (options.replay !== undefined) {
		await checkTraceFile(options.replay);
		yield {kind: 'started', mode: 'replay'};
		yield * (options.lines
			? openReplayLines(options.replay, {signal: options.signal})
			: openReplayReader(options.replay, {formats: options.replayFormats, signal: options.signal}));
		return;
	}

	const session = await ToolSession.open({tool: options.tool, signal: options.signal, bufferSizeKb: options.bufferSizeKb, tracefs: options.tracefs, paused: true});
	try {
		await options.setup?.(session);
		if (options.signal?.aborted) {
			return;
		}

		await session.startTracing({ignoreOwnThreads: options.ignoreOwnProcess, tracedTids: options.tracedTids});

		const buffered = options.durationSeconds !== undefined;
		yield {kind: 'started', mode: buffered ? 'buffered' : 'live', instance: session.instance.name};
		if (buffered) {
			await sleepUnlessAborted(options.durationSeconds! * 1000, options.signal);
			// Stop recording before reading: what is read is what the duration saw.
			await stopRecording(session.instance);
			const recordTo = process.env['FTRACE_TS_RECORD'];
			if (recordTo) {
				// For making replay fixtures: keep the buffer's text as the kernel printed it.
				await writeFile(recordTo, await session.instance.read('trace'));
			}

			const read = {buffered: true, signal: undefined};
			yield * (options.lines ? openLiveLines(session.instance, read) : openLiveReader(session.instance, read));
		} else {
			const read = {buffered: false, signal: options.signal};
			yield * (options.lines ? openLiveLines(session.instance, read) : idle ? openLiveReaderIdle(session.instance, read) : openLiveReader(session.instance, read));
		}
	} finally {
		await session.close();
	}
}

/**
 * traceInput's records, to `fields` (see InputFields): a replay of a
 * recorded file through the fast text path, a chunk at a time; live and
 * buffered records one at a time. Yields `started`, then a pause whenever
 * the callbacks may have gathered something to pass on. For tools that go
 * through long replays.
 */
export async function * traceInputFields(options: TraceInputOptions & {readonly fields: InputFields}): AsyncGenerator<InputPause | TraceStarted> {
	if (options.replay !== undefined && !options.lines) {
		await checkTraceFile(options.replay);
		yield {kind: 'started', mode: 'replay'};
		yield * openReplayFields(options.replay, {formats: options.replayFormats, signal: options.signal, fields: options.fields, range: options.replayRange});
		return;
	}

	const pause: InputPause = {kind: 'pause'};
	const idle: InputPause = {kind: 'pause', idle: true};
	for await (const record of traceInputWith(options, true)) {
		if (record.kind === 'started') {
			yield record;
		} else if (record.kind === 'idle') {
			yield idle;
		} else {
			options.fields.record(record as InputRecord);
			yield pause;
		}
	}
}

async function stopRecording(instance: Instance): Promise<void> {
	await instance.setTracingOn(false).catch(() => undefined);
}
