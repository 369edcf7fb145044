import {TracefsError} from '@ftrace-ts/tracefs';
import {UsageError, endOnClosedPipes} from './flag-check.js';
import {takeRestoreFailures} from './session.js';

export {UsageError, checkFlags, showUsage, type FlagSpec} from './flag-check.js';

/** Exit statuses: 0 ok (and a clean Ctrl-C), 1 runtime failure, 2 usage. */
export const exitStatus = {ok: 0, failure: 1, usage: 2} as const;

/** One line describing any error, with no stack trace. */
export function describeError(error: unknown): string {
	if (error instanceof TracefsError) {
		return error.oneLine();
	}

	if (error instanceof Error) {
		return error.message.replaceAll(/[\r\n]+/g, ' ');
	}

	return String(error).replaceAll(/[\r\n]+/g, ' ');
}

/** Whether an error is the user's fault (exit 2) rather than the system's (exit 1). */
export function isUsageError(error: unknown): boolean {
	return error instanceof UsageError || (error instanceof TracefsError && error.usage);
}

/**
 * Run a CLI main function: an error becomes "NAME: one line" on stderr and
 * exit status 2 (usage) or 1 (runtime); never a stack trace. A closed stdout
 * or stderr (EPIPE, e.g. `| head -1`) ends the program quietly with status 0
 * after `main` had its chance to clean up through its own abort handling
 * (endOnClosedPipes).
 */
export async function runCli(name: string, main: () => Promise<number | void>): Promise<void> {
	endOnClosedPipes();
	try {
		const status = await main();
		process.exitCode = status ?? 0;
	} catch (error) {
		process.stderr.write(`${name}: ${describeError(error)}\n`);
		if (process.env['FTRACE_TS_DEBUG'] && error instanceof Error) {
			process.stderr.write(`${error.stack ?? ''}\n`);
		}

		process.exitCode = isUsageError(error) ? exitStatus.usage : exitStatus.failure;
	}

	const leftBehind = takeRestoreFailures();
	for (const failure of leftBehind) {
		process.stderr.write(`${name}: could not undo ${failure} (reset-ftrace removes what is left)\n`);
	}

	if (leftBehind.length > 0 && !process.exitCode) {
		process.exitCode = exitStatus.failure;
	}
}
