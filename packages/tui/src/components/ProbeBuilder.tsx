import {useMemo, useState} from 'react';
import {Box, Text, useInput} from 'ink';
import {formatProbeDefinition, parseProbeDefinition, validateProbeDefinition, type ProbeKind} from '@ftrace-ts/tracefs';
import {describeError} from '@ftrace-ts/tools';
import type {ProbeTester, ProbeTrial} from '../environment.js';

export type Props = {
	/** Creates the probe in our group to hear the kernel (undefined: no kernel here). */
	readonly tester?: ProbeTester | undefined;
	/** Which kinds this kernel supports. */
	readonly kinds: readonly ProbeKind[];
	/** Trace the accepted definition with the kprobe or uprobe tool. */
	readonly onTrace: (kind: ProbeKind, definition: string) => void;
	readonly initial?: string | undefined;
	readonly isActive?: boolean | undefined;
};

/** The local verdict on a definition: the command we would write, or the problem. */
export function checkDefinition(text: string, kind: ProbeKind): {ok: true; command: string} | {ok: false; message: string} {
	if (text.trim() === '') {
		return {ok: false, message: kind === 'kprobe' ? 'type a kprobe, eg p:do_sys_openat2 or r:vfs_read $retval' : 'type a uprobe, eg p:bash:readline or r:bash:readline +0($retval):string'};
	}

	try {
		const parsed = parseProbeDefinition(text, kind);
		const location = parsed.location;
		if (location.type === 'file' && location.symbol !== undefined) {
			// The symbol is resolved to a file offset from the ELF symbols when the probe is created.
			validateProbeDefinition({...parsed, location: {...location, symbol: undefined}});
			return {ok: true, command: `${text.trim()}  (${location.file}:${location.symbol} is resolved when created)`};
		}

		return {ok: true, command: formatProbeDefinition(validateProbeDefinition(parsed))};
	} catch (error) {
		return {ok: false, message: describeError(error)};
	}
}

/**
 * Write a kprobe or uprobe definition, checked as you type; ↵ asks the kernel
 * (the probe is created in our group and removed again) and shows its own
 * error message under the text with the caret where it points; t traces it.
 * Tab switches kprobe/uprobe.
 */
export function ProbeBuilder({tester, kinds, onTrace, initial = '', isActive = true}: Props) {
	const [text, setText] = useState(initial);
	const [kind, setKind] = useState<ProbeKind>(kinds[0] ?? 'kprobe');
	const [trial, setTrial] = useState<(ProbeTrial & {readonly text: string}) | undefined>(undefined);
	const [busy, setBusy] = useState(false);
	const local = useMemo(() => checkDefinition(text, kind), [text, kind]);
	useInput((input, key) => {
		if (key.tab) {
			setKind(k => (k === 'kprobe' ? 'uprobe' : 'kprobe'));
			setTrial(undefined);
		} else if (key.return) {
			if (local.ok && tester && !busy) {
				setBusy(true);
				void tester(text, kind).then(result => {
					setTrial({...result, text});
					setBusy(false);
				});
			}
		} else if (key.ctrl && input === 't') {
			if (trial?.ok && trial.text === text) {
				onTrace(kind, text);
			}
		} else if (key.backspace || key.delete) {
			setText(t => t.slice(0, -1));
		} else if (input && !key.ctrl && !key.meta && !key.escape) {
			setText(t => t + input);
		}
	}, {isActive});
	const current = trial?.text === text ? trial : undefined;
	return (
		<Box flexDirection="column">
			<Text bold>{`Probe builder: ${kind}${kinds.includes(kind) ? '' : ' (not supported by this kernel)'}`}</Text>
			<Text>
				<Text color="cyan">{'> '}</Text>
				{text}
				<Text inverse> </Text>
			</Text>
			{current && !current.ok && current.caret !== undefined ? <Text color="red">{`  ${' '.repeat(current.caret)}^`}</Text> : null}
			{local.ok
				? <Text color="green" wrap="truncate">{`✓ parses: ${local.command}`}</Text>
				: <Text color="yellow" wrap="wrap">{`✗ ${local.message}`}</Text>}
			{busy ? <Text dimColor>asking the kernel…</Text> : null}
			{current?.ok ? (
				<Box flexDirection="column">
					<Text color="green" wrap="truncate">{`✓ the kernel accepted it as ${current.event}: ${current.command}`}</Text>
					{current.fields.map(field => <Text key={field} dimColor wrap="truncate">{`  ${field}`}</Text>)}
					<Text color="cyan">Ctrl-T: trace it with {kind}</Text>
				</Box>
			) : null}
			{current && !current.ok ? <Text color="red" wrap="wrap">{`✗ ${current.kernel ? 'kernel says: ' : ''}${current.message}`}</Text> : null}
			{tester ? null : <Text dimColor>no kernel here: checks are local only</Text>}
			<Text dimColor>type the definition · ↵ ask the kernel · Ctrl-T trace · Tab kprobe/uprobe · Esc back</Text>
		</Box>
	);
}
