import {readdirSync} from 'node:fs';
import {Instance, Tracefs, UndoJournal, reclaimStaleGroups} from '@ftrace-ts/tracefs';

/** The prefix of every instance and probe group this project creates. */
export const ownPrefix = 'ftrace_ts_';

/** The instance name for a tool run: ours, unique per process, reclaimable by PID. */
export function instanceNameFor(tool: string, pid = process.pid): string {
	return `${ownPrefix}${pid}_${tool.replaceAll(/[^\w]/g, '_')}`;
}

export interface SessionOptions {
	/** Tool name, used in the instance name and messages. */
	readonly tool: string;
	/** Aborting ends the run; the session still restores everything. */
	readonly signal?: AbortSignal | undefined;
	/** Use this tracefs (tests); default: find it. */
	readonly tracefs?: Tracefs | undefined;
	/** Per-CPU ring buffer size for the tool's instance. */
	readonly bufferSizeKb?: number | undefined;
	/**
	 * Open the instance with tracing off, for startTracing() once the
	 * tool's events are set up: the tool's own setup (its opens and writes
	 * of tracefs files, one event enabled after another) is not traced.
	 */
	readonly paused?: boolean | undefined;
}

/**
 * One tool run's hold on the kernel: a tracefs instance of its own, created
 * fresh, with an undo journal for every change made outside it (probes,
 * top-level files). `close()` undoes the journal newest first, then destroys
 * the instance; it never throws and runs once. Use with `await using`.
 */
export class ToolSession implements AsyncDisposable {
	/**
	 * Create the tool's instance. Throws TracefsError when tracefs is missing
	 * or the instance cannot be made; nothing is left behind then.
	 */
	static async open(options: SessionOptions): Promise<ToolSession> {
		const tracefs = options.tracefs ?? await Tracefs.find();
		// What a killed (kill -9) run of any of our tools left behind goes first.
		await reclaimStaleGroups(tracefs).catch(() => undefined);
		const journal = faultInjectingJournal();
		const instance = await Instance.create(tracefs, instanceNameFor(options.tool), {journal, exclusive: false});
		const session = new ToolSession(tracefs, instance, journal, options.tool);
		try {
			// A new instance traces at once; a reused one (same PID after a crash) may not.
			if ((await instance.isTracingOn()) === Boolean(options.paused)) {
				await instance.setTracingOn(!options.paused);
			}

			const bufferSizeKb = bufferOverride() ?? options.bufferSizeKb;
			if (bufferSizeKb !== undefined) {
				await instance.setBufferSizeKb(bufferSizeKb);
			}
		} catch (error) {
			await session.close();
			throw error;
		}

		return session;
	}

	#closing: Promise<void> | undefined;

	private constructor(
		readonly tracefs: Tracefs,
		readonly instance: Instance,
		readonly journal: UndoJournal,
		readonly tool: string,
	) {}

	/**
	 * Undo every change and remove the instance. Never throws; runs once.
	 * What could not be undone is kept for takeRestoreFailures().
	 */
	close(): Promise<void> {
		this.#closing ??= (async () => {
			const report = await this.journal.restore();
			for (const failure of report.failures) {
				restoreFailures.push(`${failure.description}: ${oneLine(failure.error)}`);
			}

			// Destroy even a reused instance: the name is ours (prefix + our PID).
			await this.instance.destroy().catch((error: unknown) => {
				restoreFailures.push(`instance ${this.instance.name}: ${oneLine(error)}`);
			});
		})();
		return this.#closing;
	}

	/**
	 * Turn tracing on in the instance (after opening it paused). With
	 * `ignoreOwnThreads`, the instance's events first leave out this
	 * process's threads (set_event_notrace_pid, where the kernel has it):
	 * the tool's own reading (trace_pipe, formats loaded as events come)
	 * is not traced. The kernel drops by the task current when an event
	 * fires, so only for events in the context of the task they are about.
	 * Not when `tracedTids` (the threads the user asked to trace) holds one
	 * of ours: then ours are what was asked for.
	 */
	async startTracing(options: {readonly ignoreOwnThreads?: boolean | undefined; readonly tracedTids?: readonly number[] | undefined} = {}): Promise<void> {
		const own = ownThreads();
		if (options.ignoreOwnThreads && !own.some(tid => options.tracedTids?.includes(tid)) && await this.instance.exists('set_event_notrace_pid')) {
			await this.instance.setEventNotracePids(own);
		}

		await this.instance.setTracingOn(true);
	}

	get isClosed(): boolean {
		return this.#closing !== undefined;
	}

	async [Symbol.asyncDispose](): Promise<void> {
		await this.close();
	}
}

const restoreFailures: string[] = [];

/**
 * What closed sessions could not undo (each "what: why"), oldest first;
 * forgets them. For CLIs to report: a tool must not end quietly with
 * something left behind.
 */
export function takeRestoreFailures(): string[] {
	return restoreFailures.splice(0);
}

/** How many restore failures are waiting for takeRestoreFailures(), and the ones from `from` on (a UI marks where a run began). */
export function restoreFailuresSince(from: number): {count: number; failures: string[]} {
	return {count: restoreFailures.length, failures: restoreFailures.slice(from)};
}

/** An error's message on one line. */
function oneLine(error: unknown): string {
	return (error instanceof Error ? error.message : String(error)).replaceAll(/\s*\n\s*/g, ' ');
}

/**
 * For CLIs: an AbortController aborted by SIGINT, SIGTERM, SIGHUP, SIGQUIT and
 * a closed stdout (EPIPE), so the tool's core stops and its session restores
 * the kernel's state. A second signal while cleaning up is ignored: cleanup
 * is short and must finish. Returns the controller and a function that
 * removes the handlers.
 */
export function abortOnExitSignals(): {controller: AbortController; dispose: () => void; reason: () => string | undefined} {
	const controller = new AbortController();
	let why: string | undefined;
	const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGPIPE'] as const;
	const onSignal = (signal: NodeJS.Signals) => {
		why ??= signal;
		controller.abort(new Error(`interrupted by ${signal}`));
	};

	for (const signal of signals) {
		process.on(signal, onSignal);
	}

	const onStdoutError = (error: NodeJS.ErrnoException) => {
		if (error.code === 'EPIPE') {
			onSignal('SIGPIPE');
		}
	};

	process.stdout.on('error', onStdoutError);
	return {
		controller,
		reason: () => why,
		dispose() {
			for (const signal of signals) {
				process.off(signal, onSignal);
			}

			process.stdout.off('error', onStdoutError);
		},
	};
}

/** Where "Ending tracing..." goes: stdout (after a blank line), stderr when stdout carries data for another program, or nowhere. */
export type EndingLine = 'stdout' | 'stderr' | false;

/**
 * The run loop of every CLI tool: exit signals and a closed stdout abort the
 * `signal` given to `body`, which must then end (and clean up) by itself;
 * `stdoutGone()` tells a closed pipe from a Ctrl-C. After `body`, prints
 * "Ending tracing..." where `ending` says, unless stdout is gone. Returns
 * whether stdout is gone. A clean Ctrl-C is not an error: exit status 0.
 */
export async function withExitSignals(body: (signal: AbortSignal, stdoutGone: () => boolean) => Promise<void>, ending: EndingLine = 'stdout'): Promise<boolean> {
	const {controller, dispose, reason} = abortOnExitSignals();
	const stdoutGone = () => reason() === 'SIGPIPE';
	try {
		await body(controller.signal, stdoutGone);
		if (ending !== false && !stdoutGone()) {
			if (ending === 'stderr') {
				process.stderr.write('Ending tracing...\n');
			} else {
				process.stdout.write('\nEnding tracing...\n');
			}
		}

		return stdoutGone();
	} finally {
		dispose();
	}
}

/** Sleep for `ms`, ending early (without throwing) when `signal` aborts. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
	if (signal?.aborted) {
		return;
	}

	await new Promise<void>(resolve => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}

		signal?.addEventListener('abort', done, {once: true});
	});
}

/**
 * Test hook for the fault matrix: with FTRACE_TS_FAULT_AFTER=N in the
 * environment, the Nth change recorded during setup throws, as an internal
 * error half-way through setup would. Without it, a plain UndoJournal.
 */
function faultInjectingJournal(): UndoJournal {
	const limit = Number(process.env['FTRACE_TS_FAULT_AFTER'] ?? 0);
	if (!(limit > 0)) {
		return new UndoJournal();
	}

	let count = 0;
	return new (class extends UndoJournal {
		override record(description: string, undo: () => Promise<void> | void): void {
			super.record(description, undo);
			if (++count === limit) {
				throw new Error(`internal error injected after setup step ${limit} (${description})`);
			}
		}
	})();
}

/**
 * FTRACE_TS_BUFFER_KB overrides a tool's per-CPU buffer size (a small one
 * shows how a tool reports lost events; a large one avoids them): the
 * value, NaN when it is not a number (setBufferSizeKb then refuses it), or
 * undefined when unset. A tool tracing in another instance than its own
 * (funcgraph in the top one) applies it there.
 */
export function bufferOverride(): number | undefined {
	const text = process.env['FTRACE_TS_BUFFER_KB'];
	if (text === undefined || text === '') {
		return undefined;
	}

	return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

/** This process's thread IDs (/proc/self/task). */
export function ownThreads(): number[] {
	return readdirSync('/proc/self/task').filter(name => /^\d+$/.test(name)).map(Number);
}
