import {useEffect, useMemo, useState} from 'react';
import {Box, Text, useInput} from 'ink';
import {describeError} from '@ftrace-ts/tools';
import type {ToolSpec} from '../catalog.js';
import type {CoreBinding, FormValues} from '../cores.js';
import {fit} from '../text-cells.js';

export type Props = {
	readonly spec: ToolSpec;
	/** The tool's core; undefined when it has not landed (the form says so). */
	readonly binding?: CoreBinding | undefined;
	/** Values to start from (e.g. a tracepoint picked in the browser). */
	readonly initial?: FormValues | undefined;
	/** Replay this file instead of tracing live (validation knows it). */
	readonly replay?: string | undefined;
	/** Index of the field to focus first. */
	readonly focus?: number | undefined;
	/** Why the tool will not work on this kernel, shown as a warning. */
	readonly unsupported?: string | undefined;
	readonly onStart: (values: FormValues) => void;
	readonly isActive?: boolean | undefined;
};

/** The first problem with the values, as the CLI would report it, or undefined. */
export function formProblem(spec: ToolSpec, binding: CoreBinding | undefined, values: FormValues, replay?: string): string | undefined {
	for (const field of spec.fields) {
		if (field.required && (typeof values[field.key] !== 'string' || (values[field.key] as string).trim() === '')) {
			return `${field.label} is required`;
		}
	}

	if (!binding) {
		return `the ${spec.name} core is not in this build yet`;
	}

	try {
		binding.check(values, replay);
		return undefined;
	} catch (error) {
		return describeError(error);
	}
}

/**
 * A tool's options as a form, validated as you type by the core's own
 * checks. ↑/↓ or Tab move, typing edits, space toggles a switch, ↵ starts
 * (Esc, handled by the app, goes back).
 */
export function ToolForm({spec, binding, initial = {}, replay, focus = 0, unsupported, onStart, isActive = true}: Props) {
	const [values, setValues] = useState<FormValues>(initial);
	const [index, setIndex] = useState(focus);
	const [tried, setTried] = useState(false);
	const problem = useMemo(() => formProblem(spec, binding, values, replay), [spec, binding, values, replay]);
	const fields = spec.fields;
	const field = fields[index];
	useEffect(() => setIndex(focus), [focus]);
	useInput((input, key) => {
		if (key.escape) {
			// The app goes back.
		} else if (key.return) {
			setTried(true);
			// Judge the newest values (keys typed just before ↵ may not have rendered yet).
			setValues(current => {
				if (!formProblem(spec, binding, current, replay)) {
					queueMicrotask(() => onStart(current));
				}

				return current;
			});
		} else if (key.upArrow || (key.tab && key.shift)) {
			setIndex(i => (i + fields.length) % (fields.length + 1));
		} else if (key.downArrow || key.tab) {
			setIndex(i => (i + 1) % (fields.length + 1));
		} else if (field?.type === 'boolean') {
			if (input === ' ') {
				setValues(v => ({...v, [field.key]: v[field.key] !== true}));
			}
		} else if (field && (key.backspace || key.delete)) {
			setValues(v => ({...v, [field.key]: String(v[field.key] ?? '').slice(0, -1)}));
		} else if (field && input && !key.ctrl && !key.meta) {
			setValues(v => ({...v, [field.key]: String(v[field.key] ?? '') + input}));
		}
	}, {isActive});
	return (
		<Box flexDirection="column">
			<Text bold>{`${spec.name}: ${spec.summary}${replay ? `  (replaying ${replay.split('/').at(-1) ?? replay})` : ''}`}</Text>
			{unsupported && !replay && <Text color="yellow">{`warning: ${unsupported}`}</Text>}
			{fields.map((item, i) => {
				const value = values[item.key];
				const shown = item.type === 'boolean' ? (value === true ? '[x]' : '[ ]') : `${typeof value === 'string' ? value : ''}${i === index ? '▏' : ''}`;
				return (
					<Text key={item.key} wrap="truncate">
						<Text color={i === index ? 'cyan' : undefined}>{`${i === index ? '›' : ' '} ${fit(item.label, 16)} ${fit(item.flag, 4)} `}</Text>
						<Text>{shown || (item.placeholder ? '' : '')}</Text>
						{typeof value !== 'string' || value === '' ? <Text dimColor>{`  ${item.help}${item.required ? ' (required)' : ''}`}</Text> : null}
					</Text>
				);
			})}
			<Text color={index === fields.length ? 'cyan' : undefined}>{`${index === fields.length ? '›' : ' '} [ Start ${replay ? 'replay' : 'tracing'} ]`}</Text>
			{problem
				? <Text color={tried ? 'red' : 'yellow'} wrap="wrap">{`✗ ${problem}`}</Text>
				: <Text color="green">✓ ready: ↵ to start</Text>}
			<Text dimColor>↑↓/Tab move · type to edit · space toggles · ↵ start · Esc back</Text>
		</Box>
	);
}
