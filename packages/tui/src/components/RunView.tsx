import {Box, Text, useInput} from 'ink';
import type {ToolSpec} from '../catalog.js';
import type {CoreBinding, FormValues} from '../cores.js';
import {useToolRun} from '../hooks/use-tool-run.js';
import type {RunRegistry} from '../run-registry.js';
import {CallTree} from './CallTree.js';
import {EventTable} from './EventTable.js';
import {Histogram} from './Histogram.js';
import {TopTable} from './TopTable.js';

export type Props = {
	readonly spec: ToolSpec;
	readonly binding: CoreBinding;
	readonly values: FormValues;
	readonly registry: RunRegistry;
	readonly replay?: string | undefined;
	/** Rows available for the view's body. */
	readonly height: number;
	readonly isActive?: boolean | undefined;
	readonly onTyping?: ((typing: boolean) => void) | undefined;
};

/**
 * A running tool: its status line and the live view that suits it. The run
 * lasts while this is mounted; x stops it early (the view stays).
 */
export function RunView({spec, binding, values, registry, replay, height, isActive = true, onTyping}: Props) {
	const {state, stop} = useToolRun(binding, values, {registry, replay});
	useInput(input => {
		if (input === 'x') {
			stop();
		}
	}, {isActive});
	const statusColor = state.status === 'failed' ? 'red' : state.status === 'running' ? 'green' : 'yellow';
	const lost = state.lost > 0 || state.lossUnknown ? ` · LOST ${state.lost}${state.lossUnknown ? '+' : ''} events` : '';
	const body = Math.max(3, height - 3);
	return (
		<Box flexDirection="column">
			<Text wrap="truncate">
				<Text bold>{spec.name}</Text>
				<Text color={statusColor}>{` ${state.status}`}</Text>
				{state.start ? <Text dimColor>{` · ${state.start.mode} · ${state.start.mechanism}`}</Text> : null}
				{state.status === 'running' && state.progress !== undefined ? <Text>{` · ${state.progress}%`}</Text> : null}
				<Text color="red">{lost}</Text>
			</Text>
			{state.start?.limitation ? <Text color="yellow" wrap="truncate">{state.start.limitation}</Text> : null}
			{state.error ? <Text color="red" wrap="wrap">{state.error}</Text> : null}
			{state.leftBehind?.map(failure => <Text key={failure} color="red" wrap="wrap">{`could not undo ${failure} (reset-ftrace removes what is left)`}</Text>)}
			{spec.view === 'events' && <EventTable columns={spec.columns ?? []} rows={state.rows} height={body} isActive={isActive} onTyping={onTyping}/>}
			{spec.view === 'top' && <TopTable counts={state.counts} height={body} isActive={isActive}/>}
			{spec.view === 'histogram' && <Histogram histogram={state.histogram} intervals={state.intervals}/>}
			{spec.view === 'tree' && <CallTree lines={state.graph} height={body} isActive={isActive}/>}
		</Box>
	);
}
