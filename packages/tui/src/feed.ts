/**
 * What a running tool core gives a live view, once adapted: the views know
 * these shapes, not the cores' record types, so every core plugs into one of
 * four views (event table, top table, histogram, call tree).
 */

/** Tracing started; setup is done. */
export interface StartFeed {
	readonly kind: 'start';
	readonly mode: 'live' | 'buffered' | 'replay';
	/** The kernel mechanism supplying the data, e.g. "block:block_rq_issue -> block:block_rq_complete". */
	readonly mechanism: string;
	readonly limitation?: string | undefined;
}

/** The kernel dropped events (count undefined when it did not say how many). */
export interface LostFeed {
	readonly kind: 'lost';
	readonly count: number | undefined;
}

/** One row of an event table: cells by column key, plus everything for the detail pane. */
export interface RowFeed {
	readonly kind: 'row';
	readonly cells: Readonly<Record<string, string>>;
	readonly detail: Readonly<Record<string, unknown>>;
}

/** One interval's counts (funccount): totals per key, the view computes deltas. */
export interface CountsFeed {
	readonly kind: 'counts';
	readonly rows: ReadonlyArray<{readonly key: string; readonly count: number}>;
	/** When this interval ended, as text (optional). */
	readonly at?: string | undefined;
}

/** One interval's histogram (iolatency): buckets in order. */
export interface HistogramFeed {
	readonly kind: 'histogram';
	/** Bucket label, e.g. "1 -> 2" (ms). */
	readonly buckets: ReadonlyArray<{readonly label: string; readonly count: number}>;
	/** What is counted, e.g. "block I/O latency, ms". */
	readonly title?: string | undefined;
	readonly at?: string | undefined;
}

/** One function_graph line (funcgraph). */
export interface GraphFeed {
	readonly kind: 'graph';
	readonly type: 'entry' | 'exit' | 'leaf' | 'comment' | 'other';
	readonly cpu?: number | undefined;
	/** Function name (entries and leaves; exits when the kernel printed it). */
	readonly func?: string | undefined;
	/** µs, on leaves and exits. */
	readonly durationUs?: number | undefined;
	readonly text?: string | undefined;
}

export type Feed = StartFeed | LostFeed | RowFeed | CountsFeed | HistogramFeed | GraphFeed;

/** The kind of live view a tool gets. */
export type ViewKind = 'events' | 'top' | 'histogram' | 'tree';

/** A column of an event table. */
export interface Column {
	readonly key: string;
	readonly title: string;
	readonly width: number;
	readonly align?: 'left' | 'right' | undefined;
}
