/**
 * A tool run as the live views see it: the feeds received so far, folded
 * into what each view needs. Pure, so views and tests share it.
 */
import type {CountsFeed, Feed, GraphFeed, HistogramFeed, RowFeed, StartFeed} from './feed.js';

export interface RunState {
	readonly status: 'starting' | 'running' | 'ended' | 'stopped' | 'failed';
	readonly start?: StartFeed | undefined;
	/** Events the kernel dropped, summed (undefined counts add nothing but set `lossUnknown`). */
	readonly lost: number;
	readonly lossUnknown: boolean;
	readonly error?: string | undefined;
	/** What the run's session could not undo when it ended ("what: why"). */
	readonly leftBehind?: readonly string[] | undefined;
	/** The newest rows (at most `maxRows`). */
	readonly rows: readonly RowFeed[];
	/** Rows received in all (rows.length plus those dropped from the front). */
	readonly rowsSeen: number;
	/** The two newest count intervals: [previous, latest]. */
	readonly counts: readonly CountsFeed[];
	readonly intervals: number;
	readonly histogram?: HistogramFeed | undefined;
	readonly graph: readonly GraphFeed[];
	/** A replay: how much of the file is done, in percent (undefined until the reader reports). */
	readonly progress?: number | undefined;
}

export const initialRunState: RunState = {status: 'starting', lost: 0, lossUnknown: false, rows: [], rowsSeen: 0, counts: [], intervals: 0, graph: []};

/** Fold feeds into a state. Keeps the newest `maxRows` rows and graph lines. */
export function applyFeeds(state: RunState, feeds: readonly Feed[], maxRows = 5000): RunState {
	if (feeds.length === 0) {
		return state;
	}

	let {status, start, lost, lossUnknown, rowsSeen, counts, intervals, histogram} = state;
	const rows: RowFeed[] = [];
	const graph: GraphFeed[] = [];
	for (const feed of feeds) {
		switch (feed.kind) {
			case 'start': {
				start = feed;
				status = 'running';
				break;
			}

			case 'lost': {
				if (feed.count === undefined) {
					lossUnknown = true;
				} else {
					lost += feed.count;
				}

				break;
			}

			case 'row': {
				rows.push(feed);
				rowsSeen++;
				break;
			}

			case 'counts': {
				counts = [...counts, feed].slice(-2);
				intervals++;
				break;
			}

			case 'histogram': {
				histogram = feed;
				intervals++;
				break;
			}

			case 'graph': {
				graph.push(feed);
				break;
			}
		}
	}

	return {
		...state,
		status,
		start,
		lost,
		lossUnknown,
		rowsSeen,
		counts,
		intervals,
		histogram,
		rows: rows.length === 0 ? state.rows : [...state.rows, ...rows].slice(-maxRows),
		graph: graph.length === 0 ? state.graph : [...state.graph, ...graph].slice(-maxRows * 4),
	};
}
