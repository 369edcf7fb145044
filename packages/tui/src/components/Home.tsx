import {Box, Text, useInput} from 'ink';
import {chooseTracer, needs, type Capabilities} from '@ftrace-ts/tracefs';
import {toolSupport} from '../catalog.js';
import {useListCursor} from '../hooks/use-list-cursor.js';
import {fit} from '../text-cells.js';

/** A home menu entry: a tool, or one of the other screens. */
export type HomeChoice = {readonly kind: 'tool'; readonly name: string} | {readonly kind: 'tracepoints' | 'probes' | 'samples' | 'quit'};

export type Props = {
	/** What the kernel can do; undefined when it cannot be traced here. */
	readonly caps?: Capabilities | undefined;
	/** Why live tracing is not possible, if it is not. */
	readonly problem?: string | undefined;
	/** Tools whose cores are in this build. */
	readonly available: ReadonlySet<string>;
	/** Number of sample traces shipped. */
	readonly sampleCount: number;
	readonly onChoose: (choice: HomeChoice) => void;
	readonly isActive?: boolean | undefined;
	/** Width of the terminal. */
	readonly width?: number | undefined;
	/** Fit a short terminal: the tracer advice without reasons, two needs a line. */
	readonly compact?: boolean | undefined;
};

function pairs<T>(items: readonly T[]): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += 2) {
		out.push(items.slice(i, i + 2));
	}

	return out;
}

function mark(on: boolean, label: string) {
	return <Text key={label} color={on ? 'green' : 'red'}>{`${on ? '✓' : '✗'} ${label}  `}</Text>;
}

/** What this kernel can trace, the "choosing a tracer" advice for it, and the menu. */
export function Home({caps, problem, available, sampleCount, onChoose, isActive = true, width = 80, compact = false}: Props) {
	const tools = caps ? toolSupport(caps) : [];
	const entries: Array<{choice: HomeChoice; label: string; note: string; ok: boolean}> = [
		...tools.map(tool => ({
			choice: {kind: 'tool', name: tool.name} as const,
			label: tool.name,
			note: tool.reason ?? (available.has(tool.name) ? tool.summary : `${tool.summary} (core not in this build yet)`),
			ok: tool.reason === undefined && available.has(tool.name),
		})),
		...(caps ? [{choice: {kind: 'tracepoints'} as const, label: 'tracepoints', note: `browse ${caps.eventSystems.length} subsystems, trace one with a filter`, ok: caps.eventSystems.length > 0}] : []),
		...(caps ? [{choice: {kind: 'probes'} as const, label: 'probe builder', note: 'write a kprobe/uprobe, checked as you type and by the kernel', ok: caps.kprobeEvents || caps.uprobeEvents}] : []),
		{choice: {kind: 'samples'}, label: 'samples', note: `replay ${sampleCount} recorded traces (no root needed)`, ok: sampleCount > 0},
		{choice: {kind: 'quit'}, label: 'quit', note: 'restore the tracing state and leave', ok: true},
	];
	const [cursor] = useListCursor(entries.length, {isActive});
	useInput((_input, key) => {
		if (key.return) {
			const entry = entries[cursor];
			if (entry) {
				onChoose(entry.choice);
			}
		}
	}, {isActive});
	const noteWidth = Math.max(20, width - 18);
	return (
		<Box flexDirection="column">
			{caps ? (
				<>
					<Text wrap="truncate">{`kernel ${caps.kernelRelease} · tracefs ${caps.root} · tracers: ${caps.tracers.join(' ') || 'none'}`}</Text>
					<Text wrap="truncate">
						{mark(caps.functionTracer, 'function')}{mark(caps.functionGraphTracer, 'function_graph')}{mark(caps.kprobeEvents, 'kprobes')}
						{mark(caps.uprobeEvents, 'uprobes')}{mark(caps.syscallTracepoints, 'syscalls')}
					</Text>
					<Text wrap="truncate">
						{mark(caps.functionProfiler, 'func profiler')}{mark(caps.kprobeProfile, 'kprobe_profile')}{mark(caps.histTriggers, 'hist')}
						{mark(caps.instances, 'instances')}{mark(caps.perfEvents, 'perf_events')}{mark(caps.ebpf, 'eBPF')}
					</Text>
					{compact ? null : <Text bold>Choosing a tracer here</Text>}
					{compact
						? pairs(needs).map(pair => (
							<Text key={pair[0]} wrap="truncate">
								{pair.map(need => {
									const choice = chooseTracer(need, caps);
									return <Text key={need} color={choice.builtinsInsufficient ? 'yellow' : 'green'}>{fit(`${need} → ${choice.recommended.join(', ')}`, Math.floor(width / 2))}</Text>;
								})}
							</Text>
						))
						: needs.map(need => {
							const choice = chooseTracer(need, caps);
							return (
								<Text key={need} wrap="truncate">
									<Text color={choice.builtinsInsufficient ? 'yellow' : 'green'}>{`${fit(need, 19)} → ${fit(choice.recommended.join(', '), 20)}`}</Text>
									<Text dimColor>{` ${choice.reason}`}</Text>
								</Text>
							);
						})}
				</>
			) : (
				<Text color="red" wrap="wrap">{`Cannot trace here: ${problem ?? 'unknown'}`}</Text>
			)}
			{compact ? null : <Text bold>{caps ? 'Tools (✓ works here, ✗ why not)' : 'Menu'}</Text>}
			{entries.map((entry, index) => (
				<Text key={entry.label} wrap="truncate" inverse={index === cursor}>
					<Text color={entry.ok ? 'green' : 'red'}>{`${entry.ok ? '✓' : '✗'} ${fit(entry.label, 14)}`}</Text>
					<Text dimColor={index !== cursor}>{` ${fit(entry.note, noteWidth)}`}</Text>
				</Text>
			))}
			<Text dimColor>↑↓ choose · ↵ open · ? help · q quit</Text>
		</Box>
	);
}
