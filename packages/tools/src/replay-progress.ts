/**
 * How far long replays have got, for whoever shows it: the CLIs' status
 * line on a terminal (progress-line.ts), the TUI. The replay readers report
 * here whenever someone watches; with nobody watching they report nothing.
 */
import type {FileProgress} from '@ftrace-ts/tracefs';

/** A replay's progress: bytes of the file done, of its size. */
export interface ReplayProgress {
	readonly file: string;
	readonly done: number;
	readonly total: number;
}

/** How much of the file is done, in whole percent. */
export function replayPercent(progress: ReplayProgress): number {
	return progress.total > 0 ? Math.min(100, Math.floor((100 * progress.done) / progress.total)) : 0;
}

type Watcher = (progress: ReplayProgress) => void;

const watchers = new Set<Watcher>();

/** Call `watcher` with the progress of every replay from now on; returns the call that stops it. */
export function watchReplayProgress(watcher: Watcher): () => void {
	watchers.add(watcher);
	return () => {
		watchers.delete(watcher);
	};
}

/** The progress callback for a replay of `file` (undefined while nobody watches: readers then skip the work). */
export function replayProgress(file: string): FileProgress | undefined {
	if (watchers.size === 0) {
		return undefined;
	}

	return (done, total) => {
		for (const watcher of watchers) {
			watcher({file, done, total});
		}
	};
}
