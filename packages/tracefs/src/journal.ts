/**
 * An undo journal: every change made through an Instance that carries a
 * journal is recorded with a step that puts back the value it replaced.
 * `restore()` runs the steps newest first, never throws, and runs once: a
 * second call returns the first call's result.
 */
export interface UndoStep {
	/** What the step undoes, e.g. "current_tracer: function -> nop". */
	readonly description: string;
	readonly undo: () => Promise<void> | void;
}

export interface RestoreReport {
	/** Steps that ran without error. */
	readonly restored: number;
	/** Steps that failed, with the error each threw. */
	readonly failures: ReadonlyArray<{readonly description: string; readonly error: unknown}>;
}

export class UndoJournal {
	readonly #steps: UndoStep[] = [];
	#restoring: Promise<RestoreReport> | undefined;

	/** Record a step. Recording after restore() started runs the step at once. */
	record(description: string, undo: () => Promise<void> | void): void {
		if (this.#restoring) {
			// Late setup after teardown began (a race with a signal): undo at once.
			void Promise.resolve().then(undo).catch(() => undefined);
			return;
		}

		this.#steps.push({description, undo});
	}

	/** The steps recorded so far, oldest first. */
	get steps(): readonly UndoStep[] {
		return this.#steps;
	}

	get isRestored(): boolean {
		return this.#restoring !== undefined;
	}

	/** Undo everything, newest first. Never throws; runs exactly once. */
	restore(): Promise<RestoreReport> {
		this.#restoring ??= (async () => {
			const failures: Array<{description: string; error: unknown}> = [];
			let restored = 0;
			while (this.#steps.length > 0) {
				const step = this.#steps.pop()!;
				try {
					// eslint-disable-next-line no-await-in-loop
					await step.undo();
					restored++;
				} catch (error) {
					failures.push({description: step.description, error});
				}
			}

			return {restored, failures};
		})();
		return this.#restoring;
	}

	async [Symbol.asyncDispose](): Promise<void> {
		await this.restore();
	}
}
