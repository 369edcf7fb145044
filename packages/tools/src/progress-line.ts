/**
 * A long replay's progress as a status line on the terminal, as perf
 * report shows its progress while it loads a large perf.data: written to
 * stderr when it is a terminal, once the tool has run for a second and the
 * terminal has been quiet for a second (rows streaming to the same
 * terminal show the progress themselves), redrawn at most five times a
 * second, and erased before anything else reaches the terminal and at the
 * end. Nothing is drawn when stderr is not a terminal: logs and pipes stay
 * clean.
 */
import {replayPercent, watchReplayProgress, type ReplayProgress} from './replay-progress.js';

/** The streams and clock a ProgressLine uses (the process's own by default; tests give their own). */
export interface ProgressTerminal {
	/** Where the line goes (stderr). */
	readonly terminal: NodeJS.WriteStream;
	/** The tool's output (stdout): its writes count as terminal output when it is a terminal too. */
	readonly out: NodeJS.WriteStream;
	readonly now: () => number;
	/** Milliseconds of quiet on the terminal (from the start on) before the line is drawn (FTRACE_TS_PROGRESS_AFTER_MS, else 1000). */
	readonly after?: number | undefined;
}

const erase = '\r\u001B[K';

type Write = NodeJS.WriteStream['write'];

export class ProgressLine {
	readonly #tool: string;
	readonly #io: ProgressTerminal;
	readonly #after: number;
	readonly #stopWatching: () => void;
	readonly #writes: Array<{stream: NodeJS.WriteStream; write: Write}> = [];
	/** The terminal's own write, past the wrapper. */
	readonly #write: Write;
	/** When the terminal last got output (at first: when the tool started). */
	#lastOutput: number;
	#drawnAt = -1;
	#shown = false;

	/**
	 * Show the progress of the replays that `tool` runs from now on, when
	 * stderr is a terminal; undefined otherwise. stop() ends it.
	 */
	static start(tool: string, io?: ProgressTerminal): ProgressLine | undefined {
		const env = process.env['FTRACE_TS_PROGRESS_AFTER_MS'];
		const terminal = io ?? {terminal: process.stderr, out: process.stdout, now: Date.now, after: env !== undefined && /^\d+$/.test(env) ? Number(env) : undefined};
		return terminal.terminal.isTTY ? new ProgressLine(tool, terminal) : undefined;
	}

	private constructor(tool: string, io: ProgressTerminal) {
		this.#tool = tool;
		this.#io = io;
		this.#after = io.after ?? 1000;
		this.#lastOutput = io.now();
		this.#write = io.terminal.write;
		// Whatever else reaches the terminal erases the line first, and counts as output.
		for (const stream of io.out.isTTY ? [io.terminal, io.out] : [io.terminal]) {
			const write = stream.write;
			this.#writes.push({stream, write});
			stream.write = ((...args: Parameters<Write>) => {
				this.#erase();
				this.#lastOutput = this.#io.now();
				return Reflect.apply(write, stream, args) as boolean;
			}) as Write;
		}

		this.#stopWatching = watchReplayProgress(progress => {
			this.#update(progress);
		});
	}

	/** Erase the line and stop showing progress. */
	stop(): void {
		this.#stopWatching();
		this.#erase();
		for (const {stream, write} of this.#writes.splice(0)) {
			stream.write = write;
		}
	}

	#update(progress: ReplayProgress): void {
		const now = this.#io.now();
		if (now - this.#lastOutput < this.#after || (this.#drawnAt !== -1 && now - this.#drawnAt < 200)) {
			return;
		}

		const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
		const text = `${this.#tool}: replaying ${progress.file}: ${replayPercent(progress)}% (${megabytes(progress.done)} of ${megabytes(progress.total)} MB)`;
		// One line: never as wide as the terminal (a full line wraps on some terminals).
		const width = Math.max(10, (this.#io.terminal.columns || 80) - 1);
		this.#raw(`${erase}${text.length > width ? text.slice(0, width) : text}`);
		this.#shown = true;
		this.#drawnAt = now;
	}

	#erase(): void {
		if (this.#shown) {
			this.#shown = false;
			this.#raw(erase);
		}
	}

	/** Write past the wrapper. */
	#raw(text: string): void {
		Reflect.apply(this.#write, this.#io.terminal, [text]);
	}
}
