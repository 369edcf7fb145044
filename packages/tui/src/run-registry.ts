/**
 * Every tool run and kernel hold the TUI has started, so that any way out of
 * the app (q, Ctrl-C, a signal, a crash) can abort them all and wait until
 * each core's ToolSession has restored the tracing state.
 */
export interface RunHandle {
	/** Abort the run; resolves once its cleanup has finished. Never rejects. */
	stop(): Promise<void>;
	/** Settles when the run has ended and cleaned up. Never rejects. */
	readonly done: Promise<void>;
}

export class RunRegistry {
	readonly #runs = new Set<{controller: AbortController; done: Promise<void>}>();

	/**
	 * Start `work` with an AbortSignal. `work` must finish (and clean up)
	 * soon after the signal aborts. Errors are the caller's to catch inside
	 * `work`; an escaping rejection is swallowed here so that closeAll never throws.
	 */
	start(work: (signal: AbortSignal) => Promise<void>): RunHandle {
		const controller = new AbortController();
		const entry = {controller, done: Promise.resolve()};
		entry.done = (async () => {
			try {
				await work(controller.signal);
			} catch {
				// Reported by `work` itself; the registry only waits.
			} finally {
				this.#runs.delete(entry);
			}
		})();
		this.#runs.add(entry);
		return {
			done: entry.done,
			stop: async () => {
				controller.abort(new Error('stopped'));
				await entry.done;
			},
		};
	}

	/** Runs not finished yet. */
	get size(): number {
		return this.#runs.size;
	}

	/** Abort every run and wait for all of their cleanups. Never throws. */
	async closeAll(): Promise<void> {
		const runs = [...this.#runs];
		for (const run of runs) {
			run.controller.abort(new Error('closing'));
		}

		await Promise.allSettled(runs.map(async run => run.done));
	}
}
