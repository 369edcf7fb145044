/**
 * When a replay hands work to a thread of its own: files of 8 MiB or more
 * (a thread takes a few ms to start), on a machine with 2 CPUs or more.
 * Node's modules only: the printing thread loads this too.
 */
import {stat} from 'node:fs/promises';
import {availableParallelism} from 'node:os';

/** Whether a replay of `file` uses such a thread; the environment variable `override` (1: always, 0: never) decides first (tests, bench). */
export async function replayWantsThread(file: string, override: string): Promise<boolean> {
	const forced = process.env[override];
	if (forced === '0' || forced === '1') {
		return forced === '1';
	}

	return availableParallelism() >= 2 && stat(file).then(stats => stats.isFile() && stats.size >= 8 << 20, () => false);
}
