import {Box, Text, useInput} from 'ink';
import type {Sample} from '../environment.js';
import {useListCursor} from '../hooks/use-list-cursor.js';

export type Props = {
	readonly samples: readonly Sample[];
	readonly onReplay: (sample: Sample) => void;
	readonly isActive?: boolean | undefined;
};

/** Recorded traces shipped with the TUI: ↵ replays one through its tool. */
export function SampleList({samples, onReplay, isActive = true}: Props) {
	const [cursor] = useListCursor(samples.length, {isActive});
	useInput((_input, key) => {
		const sample = samples[cursor];
		if (key.return && sample) {
			onReplay(sample);
		}
	}, {isActive});
	return (
		<Box flexDirection="column">
			<Text bold>Samples: recorded traces, replayed through the same tool cores</Text>
			{samples.map((sample, index) => (
				<Text key={`${sample.path}:${sample.tool}`} inverse={index === cursor} wrap="truncate">{`${sample.tool.padEnd(10)} ${sample.title}`}</Text>
			))}
			{samples.length === 0 && <Text color="red">no samples found</Text>}
			<Text dimColor>↑↓ choose · ↵ replay · Esc back</Text>
		</Box>
	);
}
