import {useMemo, useState} from 'react';
import {Box, Text, useInput} from 'ink';
import {describeError} from '@ftrace-ts/tools';
import {orderSystems} from '../catalog.js';
import type {EventCatalog} from '../environment.js';
import {useAsync} from '../hooks/use-async.js';
import {useListCursor} from '../hooks/use-list-cursor.js';
import {fit} from '../text-cells.js';

export type Props = {
	readonly catalog: EventCatalog;
	/** Rows available. */
	readonly height: number;
	/** Trace this event with tpoint (the form opens with it filled in, at the filter). */
	readonly onTrace: (tracepoint: string) => void;
	readonly isActive?: boolean | undefined;
};

/**
 * Tracepoints by subsystem (syscalls, ext4, block, sock, sched, vmscan, kmem,
 * scsi, irq first, then the rest): ←/→ switch between subsystems and events,
 * the selected event's fields and print format show beside, t traces it.
 */
export function TracepointBrowser({catalog, height, onTrace, isActive = true}: Props) {
	const [pane, setPane] = useState<'systems' | 'events'>('systems');
	const systemsLoad = useAsync(async () => orderSystems(await catalog.systems()), [catalog]);
	const systems = systemsLoad.value ?? [];
	const listHeight = Math.max(3, height - 3);
	const [systemIndex] = useListCursor(systems.length, {isActive: isActive && pane === 'systems', page: listHeight, vim: true});
	const system = systems[systemIndex];
	const eventsLoad = useAsync(async () => (system ? catalog.events(system) : []), [catalog, system]);
	const events = eventsLoad.value ?? [];
	const [eventIndex, setEventIndex] = useListCursor(events.length, {isActive: isActive && pane === 'events', page: listHeight, vim: true});
	const event = pane === 'events' ? events[eventIndex] : undefined;
	const formatLoad = useAsync(async () => (system && event ? catalog.format(system, event) : undefined), [catalog, system, event]);
	useInput((input, key) => {
		if (key.rightArrow || key.tab || (key.return && pane === 'systems')) {
			setPane('events');
			setEventIndex(0);
		} else if (key.leftArrow) {
			setPane('systems');
		} else if ((input === 't' || key.return) && system && event) {
			onTrace(`${system}:${event}`);
		}
	}, {isActive});
	const window = <T,>(items: readonly T[], cursor: number) => {
		const first = Math.max(0, Math.min(cursor - Math.floor(listHeight / 2), items.length - listHeight));
		return {first, items: items.slice(first, first + listHeight)};
	};

	const systemWindow = useMemo(() => window(systems, systemIndex), [systems, systemIndex, listHeight]);
	const eventWindow = window(events, eventIndex);
	const format = formatLoad.value?.format;
	return (
		<Box flexDirection="column">
			<Text bold>{`Tracepoints: ${systems.length} subsystems${system ? ` · ${system}: ${events.length} events` : ''}`}</Text>
			{systemsLoad.error ? <Text color="red">{describeError(systemsLoad.error)}</Text> : null}
			<Box>
				<Box flexDirection="column" width={16}>
					{systemWindow.items.map((name, index) => (
						<Text key={name} wrap="truncate" inverse={systemWindow.first + index === systemIndex} dimColor={pane !== 'systems'}>{fit(name, 15)}</Text>
					))}
				</Box>
				<Box flexDirection="column" width={28}>
					{eventWindow.items.map((name, index) => (
						<Text key={name} wrap="truncate" inverse={pane === 'events' && eventWindow.first + index === eventIndex}>{fit(name, 27)}</Text>
					))}
				</Box>
				<Box flexDirection="column" flexGrow={1}>
					{format ? (
						<>
							<Text bold wrap="truncate">{`${system}:${format.name} (id ${format.id})`}</Text>
							{format.fields.filter(field => !field.common).slice(0, Math.max(1, listHeight - 4)).map(field => (
								<Text key={field.name} wrap="truncate">{`${fit(field.name, 16)} ${field.type}`}</Text>
							))}
							<Text dimColor wrap="truncate">{`fmt: ${format.printFormat}`}</Text>
							<Text color="cyan" wrap="truncate">t: trace with tpoint (filter on these fields)</Text>
						</>
					) : formatLoad.error ? (
						<Text color="red" wrap="wrap">{describeError(formatLoad.error)}</Text>
					) : (
						<Text dimColor>{pane === 'systems' ? '→ to list events' : 'loading…'}</Text>
					)}
				</Box>
			</Box>
			<Text dimColor>↑↓ move · →/↵ events · ← subsystems · t trace · Esc back</Text>
		</Box>
	);
}
