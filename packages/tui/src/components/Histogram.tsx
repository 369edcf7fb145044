import {Box, Text} from 'ink';
import type {HistogramFeed} from '../feed.js';
import {fit} from '../text-cells.js';

export type Props = {
	/** The latest interval's histogram; undefined before the first. */
	readonly histogram?: HistogramFeed | undefined;
	/** Intervals received so far. */
	readonly intervals: number;
	/** Bar width in characters (iolatency's is 38). */
	readonly barWidth?: number | undefined;
};

/** A live power-of-2 histogram, redrawn each interval, bars as iolatency draws them. */
export function Histogram({histogram, intervals, barWidth = 38}: Props) {
	if (!histogram) {
		return <Text dimColor>waiting for the first interval…</Text>;
	}

	const max = Math.max(1, ...histogram.buckets.map(bucket => bucket.count));
	const labelWidth = Math.max(10, (histogram.title ?? '').length, ...histogram.buckets.map(bucket => bucket.label.length));
	return (
		<Box flexDirection="column">
			<Text bold>{`${fit(histogram.title ?? 'value', labelWidth, 'right')} : ${fit('count', 8, 'right')}   distribution`}</Text>
			{histogram.buckets.map(bucket => {
				const bar = bucket.count === 0 ? 0 : Math.max(1, Math.round((bucket.count / max) * barWidth));
				return (
					<Text key={bucket.label}>
						{`${fit(bucket.label, labelWidth, 'right')} : ${fit(String(bucket.count), 8, 'right')} |`}
						<Text color="cyan">{'#'.repeat(bar)}</Text>
						{`${' '.repeat(barWidth - bar)}|`}
					</Text>
				);
			})}
			<Text dimColor>{`interval ${intervals}${histogram.at ? ` at ${histogram.at}` : ''}`}</Text>
		</Box>
	);
}
