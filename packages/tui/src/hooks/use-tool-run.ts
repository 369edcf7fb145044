import {useCallback, useEffect, useRef, useState} from 'react';
import {describeError, replayPercent, restoreFailuresSince, watchReplayProgress} from '@ftrace-ts/tools';
import type {CoreBinding, FormValues} from '../cores.js';
import type {Feed} from '../feed.js';
import type {RunHandle, RunRegistry} from '../run-registry.js';
import {applyFeeds, initialRunState, type RunState} from '../run-state.js';

export interface ToolRunOptions {
	readonly registry: RunRegistry;
	readonly replay?: string | undefined;
	/** How often received records reach the screen, ms. */
	readonly refreshMs?: number | undefined;
}

/**
 * Run a tool core while the component is mounted: records are batched and
 * folded into a RunState every `refreshMs`. Unmounting (or `stop`) aborts the
 * core; the registry waits for its session to restore the tracing state.
 */
export function useToolRun(binding: CoreBinding, values: FormValues, options: ToolRunOptions): {state: RunState; stop: () => void} {
	const [state, setState] = useState<RunState>(initialRunState);
	const handle = useRef<RunHandle | undefined>(undefined);
	const {registry, replay, refreshMs = 100} = options;
	useEffect(() => {
		let pending: Feed[] = [];
		let ending: Pick<RunState, 'status' | 'error' | 'leftBehind'> | undefined;
		// A replay's progress, in percent: shown with the records, as often.
		let progress: number | undefined;
		let shownProgress: number | undefined;
		const stopWatching = replay === undefined ? undefined : watchReplayProgress(report => {
			if (report.file === replay && report.total > 0) {
				progress = replayPercent(report);
			}
		});
		const flush = () => {
			if (pending.length === 0 && !ending && progress === shownProgress) {
				return;
			}

			const feeds = pending;
			const end = ending;
			const percent = progress;
			pending = [];
			ending = undefined;
			shownProgress = percent;
			setState(previous => {
				const next = {...applyFeeds(previous, feeds), progress: percent};
				return end ? {...next, ...end} : next;
			});
		};

		const timer = setInterval(flush, refreshMs);
		handle.current = registry.start(async signal => {
			// Restore failures recorded from here on are this run's (or a run ending beside it).
			const mark = restoreFailuresSince(0).count;
			try {
				for await (const feed of binding.run(values, {signal, replay})) {
					pending.push(feed);
				}

				ending = {status: signal.aborted ? 'stopped' : 'ended'};
			} catch (error) {
				ending = signal.aborted ? {status: 'stopped'} : {status: 'failed', error: describeError(error)};
			} finally {
				// The core's session has closed by now: what it could not undo is shown (and said again at exit).
				const {failures} = restoreFailuresSince(mark);
				if (failures.length > 0 && ending) {
					ending = {...ending, leftBehind: failures};
				}

				flush();
			}
		});
		return () => {
			clearInterval(timer);
			stopWatching?.();
			void handle.current?.stop();
		};
	}, [binding, values, replay, registry, refreshMs]);

	const stop = useCallback(() => {
		void handle.current?.stop();
	}, []);
	return {state, stop};
}
