import {Box, Text} from 'ink';

export type Props = {
	/** The screen whose keys are listed first. */
	readonly screen: string;
};

const sections: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]> = [
	['everywhere', [['?', 'this help (any key closes it)'], ['Esc', 'back (stops a running tool)'], ['q', 'quit, restoring the tracing state'], ['Ctrl-C', 'quit, also while typing']]],
	['home', [['↑↓ j k', 'choose'], ['↵', 'open a tool, the tracepoints, the probe builder, the samples']]],
	['form', [['↑↓ Tab', 'move between options'], ['type', 'edit (checked as you type)'], ['space', 'toggle a switch'], ['↵', 'start']]],
	['events', [['space p', 'pause the view (recording goes on)'], ['/', 'filter rows by text (Esc clears)'], ['↵', 'detail pane'], ['↑↓ g G', 'move; G follows new rows'], ['x', 'stop the tool']]],
	['top', [['s', 'sort by count, delta, name'], ['r', 'reverse'], ['x', 'stop']]],
	['tree', [['↵ space', 'fold or unfold a call'], ['← →', 'collapse, expand'], ['c e', 'collapse all, expand all']]],
	['tracepoints', [['→ ←', 'events, subsystems'], ['t ↵', 'trace the event with tpoint']]],
	['probes', [['type', 'the definition (checked as you type)'], ['↵', 'ask the kernel'], ['Ctrl-T', 'trace it'], ['Tab', 'kprobe / uprobe']]],
];

/** The keys, screen by screen, the current screen first. */
export function HelpOverlay({screen}: Props) {
	const ordered = [...sections].sort(([a], [b]) => Number(b === screen) - Number(a === screen));
	return (
		<Box flexDirection="column" borderStyle="round" paddingX={1}>
			<Text bold>ftrace-tui keys</Text>
			{ordered.map(([name, keys]) => (
				<Text key={name} wrap="truncate">
					<Text bold color={name === screen ? 'cyan' : undefined}>{`${name.padEnd(12)}`}</Text>
					{keys.map(([key, what]) => `${key}: ${what}`).join(' · ')}
				</Text>
			))}
		</Box>
	);
}
