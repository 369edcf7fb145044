/**
 * When a replay hands work to a thread of its own: files of 8 MiB or more
 * (a thread takes a few ms to start), on a machine with 4 CPUs or more, as
 * the reader's decoding threads. With 2 (measured on a 2-vCPU VM, 16 runs
 * each, in turn) the rows and gap threads gained nothing in wall time
 * (2.38 s against 2.32 s on average) for more CPU and about 40 MB more
 * memory: the threads compete with the reading thread and V8's own.
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

	return availableParallelism() >= 4 && stat(file).then(stats => stats.isFile() && stats.size >= 8 << 20, () => false);
}
