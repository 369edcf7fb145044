import {abortOnExitSignals, describeError, takeRestoreFailures} from '@ftrace-ts/tools';
import type {RunRegistry} from './run-registry.js';

export interface ExitGuardOptions {
	/** Take the UI down (Ink's unmount). */
	readonly unmount: () => void;
	/** End the process; default process.exit. */
	readonly exit?: ((status: number) => void) | undefined;
	/** Where the last word goes; default stderr. */
	readonly write?: ((text: string) => void) | undefined;
}

export interface ExitGuard {
	/**
	 * The one way out: abort every run, wait until each core's session has
	 * restored the tracing state, unmount, say why (if anything went wrong),
	 * exit. Runs once; later calls wait for the first.
	 */
	shutdown(status: number, message?: string): Promise<void>;
	/** Remove the handlers (tests). */
	dispose(): void;
}

/**
 * Make every exit path of the TUI restore the tracing state: SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT and a closed terminal abort cleanly (status 0); an uncaught
 * exception or unhandled rejection aborts every running core, awaits its
 * cleanup, then exits 1 with the error in one line. What a run could not
 * undo is named on one line each, and the exit status is then 1.
 */
export function guardExit(registry: RunRegistry, options: ExitGuardOptions): ExitGuard {
	const signals = abortOnExitSignals();
	const exit = options.exit ?? ((status: number) => process.exit(status));
	const write = options.write ?? ((text: string) => process.stderr.write(text));
	let closing: Promise<void> | undefined;
	const onCrash = (error: unknown) => {
		void guard.shutdown(1, describeError(error));
	};

	const guard: ExitGuard = {
		shutdown(status, message) {
			closing ??= (async () => {
				await registry.closeAll();
				options.unmount();
				guard.dispose();
				if (message) {
					write(`ftrace-tui: ${message}\n`);
				}

				// What a run could not undo is named, one line each, and the exit says so (as a tool CLI's).
				const leftBehind = takeRestoreFailures();
				for (const failure of leftBehind) {
					write(`ftrace-tui: could not undo ${failure} (reset-ftrace removes what is left)\n`);
				}

				exit(leftBehind.length > 0 && status === 0 ? 1 : status);
			})();
			return closing;
		},
		dispose() {
			signals.dispose();
			process.off('uncaughtException', onCrash);
			process.off('unhandledRejection', onCrash);
		},
	};
	signals.controller.signal.addEventListener('abort', () => void guard.shutdown(0));
	process.on('uncaughtException', onCrash);
	process.on('unhandledRejection', onCrash);
	return guard;
}
