import {useMemo, useState} from 'react';
import {Box, Text, useInput} from 'ink';
import {buildCallTree, visibleNodes} from '../call-tree.js';
import type {GraphFeed} from '../feed.js';
import {useListCursor} from '../hooks/use-list-cursor.js';

export type Props = {
	/** The function_graph lines so far. */
	readonly lines: readonly GraphFeed[];
	readonly height: number;
	readonly isActive?: boolean | undefined;
};

function durationText(us: number | undefined, open: boolean): string {
	if (open) {
		return '…';
	}

	return us === undefined ? '' : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(3)} us`;
}

/**
 * The call graph as a collapsible tree with durations: ↵/space or ←/→
 * collapse and expand the selected call; c collapses everything below the top.
 */
export function CallTree({lines, height, isActive = true}: Props) {
	const roots = useMemo(() => buildCallTree(lines), [lines]);
	const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
	const rows = useMemo(() => visibleNodes(roots, collapsed), [roots, collapsed]);
	const [cursor] = useListCursor(rows.length, {isActive, page: height});
	useInput((input, key) => {
		const node = rows[cursor]?.node;
		if (!node) {
			return;
		}

		const toggle = (collapse: boolean | undefined) => setCollapsed(previous => {
			const next = new Set(previous);
			if (collapse ?? !next.has(node.id)) {
				next.add(node.id);
			} else {
				next.delete(node.id);
			}

			return next;
		});
		if (key.return || input === ' ') {
			toggle(undefined);
		} else if (key.leftArrow || input === 'h') {
			toggle(true);
		} else if (key.rightArrow || input === 'l') {
			toggle(false);
		} else if (input === 'c') {
			setCollapsed(new Set(roots.map(root => root.id)));
		} else if (input === 'e') {
			setCollapsed(new Set());
		}
	}, {isActive});
	const first = Math.max(0, Math.min(cursor - Math.floor(height / 2), rows.length - height));
	return (
		<Box flexDirection="column">
			<Text bold>{'  DURATION   FUNCTION CALLS'}</Text>
			{rows.slice(first, first + height).map(({node, depth}, index) => {
				const marker = node.children.length === 0 ? ' ' : collapsed.has(node.id) ? '▸' : '▾';
				const duration = durationText(node.durationUs, node.open);
				const slow = (node.durationUs ?? 0) >= 100;
				return (
					<Text key={node.id} inverse={first + index === cursor} wrap="truncate">
						<Text color={slow ? 'yellow' : undefined}>{duration.padStart(11)}</Text>
						{`  ${'  '.repeat(depth)}${marker} ${node.func}()${collapsed.has(node.id) ? ` [${node.children.length} calls]` : ''}`}
					</Text>
				);
			})}
			{rows.length === 0 && <Text dimColor>waiting for calls…</Text>}
			<Text dimColor>{`${rows.length} shown · ↵ fold · ←/→ collapse/expand · c collapse all · e expand all`}</Text>
		</Box>
	);
}
