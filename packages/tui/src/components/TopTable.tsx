import {useState} from 'react';
import {Box, Text, useInput} from 'ink';
import type {CountsFeed} from '../feed.js';
import {fit} from '../text-cells.js';

export type Props = {
	/** The newest intervals, oldest first (two are enough for deltas). */
	readonly counts: readonly CountsFeed[];
	/** Rows to show. */
	readonly height: number;
	readonly isActive?: boolean | undefined;
	/** What the key column holds, e.g. "FUNC". */
	readonly keyTitle?: string | undefined;
};

export type SortKey = 'count' | 'delta' | 'name';

const sortOrder: readonly SortKey[] = ['count', 'delta', 'name'];

/** Rows of the latest interval with their change since the previous one, sorted. */
export function topRows(counts: readonly CountsFeed[], sort: SortKey, reverse = false): Array<{key: string; count: number; delta: number | undefined}> {
	const latest = counts.at(-1);
	if (!latest) {
		return [];
	}

	const previous = counts.length > 1 ? new Map(counts.at(-2)!.rows.map(row => [row.key, row.count])) : undefined;
	const rows = latest.rows.map(row => ({key: row.key, count: row.count, delta: previous ? row.count - (previous.get(row.key) ?? 0) : undefined}));
	rows.sort((a, b) => sort === 'name' ? a.key.localeCompare(b.key) : sort === 'delta' ? (b.delta ?? 0) - (a.delta ?? 0) || b.count - a.count : b.count - a.count || a.key.localeCompare(b.key));
	return reverse ? rows.reverse() : rows;
}

/** A top-like table of counts refreshed each interval: s cycles the sort, r reverses it. */
export function TopTable({counts, height, isActive = true, keyTitle = 'FUNC'}: Props) {
	const [sort, setSort] = useState<SortKey>('count');
	const [reverse, setReverse] = useState(false);
	useInput(input => {
		if (input === 's') {
			setSort(current => sortOrder[(sortOrder.indexOf(current) + 1) % sortOrder.length]!);
		} else if (input === 'r') {
			setReverse(on => !on);
		}
	}, {isActive});
	const rows = topRows(counts, sort, reverse).slice(0, Math.max(1, height));
	const mark = (key: SortKey) => (sort === key ? (reverse ? '▲' : '▼') : '');
	return (
		<Box flexDirection="column">
			<Text bold>{`${fit(keyTitle + mark('name'), 40)} ${fit('COUNT' + mark('count'), 10, 'right')} ${fit('DELTA' + mark('delta'), 10, 'right')}`}</Text>
			{rows.map(row => (
				<Text key={row.key} wrap="truncate">
					{fit(row.key, 40)} {fit(String(row.count), 10, 'right')}{' '}
					<Text color={row.delta === undefined || row.delta === 0 ? undefined : row.delta > 0 ? 'green' : 'red'}>
						{fit(row.delta === undefined ? '' : row.delta > 0 ? `+${row.delta}` : String(row.delta), 10, 'right')}
					</Text>
				</Text>
			))}
			{rows.length === 0 && <Text dimColor>waiting for the first interval…</Text>}
			<Text dimColor>{`${counts.at(-1)?.at ? `at ${counts.at(-1)!.at} · ` : ''}s sort (${sort}) · r reverse`}</Text>
		</Box>
	);
}
