import {useMemo, useState} from 'react';
import {Box, Text, useInput} from 'ink';
import type {Column, RowFeed} from '../feed.js';
import {fit} from '../text-cells.js';

export type Props = {
	/** The table's columns, in order. */
	readonly columns: readonly Column[];
	/** Every row received so far, oldest first. */
	readonly rows: readonly RowFeed[];
	/** Table body height in rows. */
	readonly height: number;
	/** Whether this table takes keys (false under an overlay). */
	readonly isActive?: boolean | undefined;
	/** Told when the table starts and stops taking text (the filter line), so global keys step aside. */
	readonly onTyping?: ((typing: boolean) => void) | undefined;
};

function matches(row: RowFeed, needle: string): boolean {
	const lower = needle.toLowerCase();
	return Object.values(row.cells).some(cell => cell.toLowerCase().includes(lower));
}

/**
 * A scrolling event table: follows new rows until you move up; space pauses
 * (the view freezes, recording goes on), / filters rows by text, Enter opens
 * the selected row's detail pane.
 */
export function EventTable({columns, rows, height, isActive = true, onTyping}: Props) {
	const [pausedAt, setPausedAt] = useState<number | undefined>(undefined);
	const [filter, setFilter] = useState('');
	const [typing, setTyping] = useState(false);
	const [detail, setDetail] = useState(false);
	// undefined: follow the newest row.
	const [cursor, setCursor] = useState<number | undefined>(undefined);
	const source = pausedAt === undefined ? rows : rows.slice(0, pausedAt);
	const shown = useMemo(() => (filter === '' ? source : source.filter(row => matches(row, filter))), [source, filter]);
	const last = shown.length - 1;
	const selected = cursor === undefined ? last : Math.min(cursor, last);
	const bodyHeight = Math.max(1, detail ? height - 12 : height);
	const first = Math.max(0, Math.min(selected - bodyHeight + 1, shown.length - bodyHeight));
	const visible = shown.slice(first, first + bodyHeight);

	const setTypingMode = (on: boolean) => {
		setTyping(on);
		onTyping?.(on);
	};

	useInput((input, key) => {
		if (typing) {
			if (key.return) {
				setTypingMode(false);
			} else if (key.escape) {
				setFilter('');
				setTypingMode(false);
			} else if (key.backspace || key.delete) {
				setFilter(text => text.slice(0, -1));
			} else if (input && !key.ctrl && !key.meta) {
				setFilter(text => text + input);
			}

			return;
		}

		if (input === '/') {
			setTypingMode(true);
		} else if (input === ' ' || input === 'p') {
			setPausedAt(at => (at === undefined ? rows.length : undefined));
		} else if (key.return) {
			setDetail(on => !on);
		} else if (key.upArrow || input === 'k') {
			setCursor(Math.max(0, selected - 1));
		} else if (key.downArrow || input === 'j') {
			setCursor(selected + 1 >= last ? undefined : selected + 1);
		} else if (key.pageUp) {
			setCursor(Math.max(0, selected - bodyHeight));
		} else if (key.pageDown) {
			setCursor(selected + bodyHeight >= last ? undefined : selected + bodyHeight);
		} else if (input === 'g') {
			setCursor(0);
		} else if (input === 'G' || key.end) {
			setCursor(undefined);
		}
	}, {isActive});

	const header = columns.map(column => fit(column.title, column.width, column.align)).join(' ');
	const row = shown[selected];
	return (
		<Box flexDirection="column">
			<Text bold wrap="truncate">{header}</Text>
			{visible.map((item, index) => (
				<Text key={first + index} inverse={first + index === selected && cursor !== undefined} wrap="truncate">
					{columns.map(column => fit(item.cells[column.key] ?? '', column.width, column.align)).join(' ')}
				</Text>
			))}
			{shown.length === 0 && <Text dimColor>{filter ? `no rows match "${filter}"` : 'waiting for events…'}</Text>}
			{detail && row && (
				<Box flexDirection="column" borderStyle="single" paddingX={1}>
					{Object.entries(row.detail).slice(0, 10).map(([name, value]) => (
						<Text key={name} wrap="truncate">{`${name}: ${typeof value === 'bigint' ? value.toString() : typeof value === 'string' ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`}</Text>
					))}
				</Box>
			)}
			<Text dimColor wrap="truncate">
				{`${shown.length}${filter ? ` of ${source.length}` : ''} rows`}
				{pausedAt === undefined ? '' : ` · PAUSED (${rows.length - pausedAt} new)`}
				{typing ? ` · filter: ${filter}▏` : filter ? ` · filter "${filter}"` : ''}
				{' · space pause · / filter · ↵ detail · ↑↓ move · G follow'}
			</Text>
		</Box>
	);
}
