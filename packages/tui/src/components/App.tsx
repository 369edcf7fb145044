import {useCallback, useState} from 'react';
import {Box, Static, Text, useApp, useInput, useStdout} from 'ink';
import type {ProbeKind} from '@ftrace-ts/tracefs';
import {toolSpec} from '../catalog.js';
import type {FormValues} from '../cores.js';
import type {Environment, Sample} from '../environment.js';
import {useAsync} from '../hooks/use-async.js';
import type {RunRegistry} from '../run-registry.js';
import {HelpOverlay} from './HelpOverlay.js';
import {Home, type HomeChoice} from './Home.js';
import {ProbeBuilder} from './ProbeBuilder.js';
import {RunView} from './RunView.js';
import {SampleList} from './SampleList.js';
import {ToolForm} from './ToolForm.js';
import {TracepointBrowser} from './TracepointBrowser.js';

/** Where the app is; screens stack, Esc pops. */
export type Screen =
	| {readonly name: 'home'}
	| {readonly name: 'form'; readonly tool: string; readonly values?: FormValues | undefined; readonly replay?: string | undefined; readonly focus?: number | undefined}
	| {readonly name: 'run'; readonly tool: string; readonly values: FormValues; readonly replay?: string | undefined}
	| {readonly name: 'tracepoints'}
	| {readonly name: 'probes'; readonly initial?: string | undefined}
	| {readonly name: 'samples'};

export type Props = {
	/** The kernel, cores and samples, or a loader for them (the first frame does not wait for it). */
	readonly environment: Environment | (() => Promise<Environment>);
	/** Every tool run goes through it; quitting waits for all of them to restore the tracing state. */
	readonly registry: RunRegistry;
	/** Screens to open over home at start (e.g. a replay). */
	readonly initial?: readonly Screen[] | undefined;
	/** The banner printed once above the live area. */
	readonly banner?: string | undefined;
	/** Terminal rows, when the output has none (tests). */
	readonly rows?: number | undefined;
};

/**
 * The ftrace-tui application: home, tool forms and live views, tracepoint
 * browser, probe builder, samples and a help overlay, all keyboard driven.
 * q, Esc at home and Ctrl-C quit; quitting first waits for every tool's
 * session to restore the tracing state.
 */
export function App({environment, registry, initial = [], banner = 'ftrace-tui: Linux ftrace, interactively (? for help)', rows}: Props) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const terminalRows = rows ?? stdout.rows ?? 24;
	const height = Math.max(10, terminalRows - 3);
	const width = stdout.columns ?? 80;
	const loaded = useAsync(async () => (typeof environment === 'function' ? environment() : environment), [environment]);
	const env = loaded.value;
	const [stack, setStack] = useState<readonly Screen[]>([{name: 'home'}, ...initial]);
	const [help, setHelp] = useState(false);
	const [typing, setTyping] = useState(false);
	const [quitting, setQuitting] = useState(false);
	const screen = stack.at(-1)!;
	const push = useCallback((next: Screen) => setStack(previous => [...previous, next]), []);
	const back = useCallback(() => setStack(previous => (previous.length > 1 ? previous.slice(0, -1) : previous)), []);
	const quit = useCallback(() => {
		setQuitting(true);
		void registry.closeAll().then(() => exit());
	}, [registry, exit]);
	const textScreen = screen.name === 'form' || screen.name === 'probes' || typing;

	useInput((input, key) => {
		if (key.ctrl && input === 'c') {
			quit();
		} else if (help) {
			setHelp(false);
		} else if (key.escape && !typing) {
			back();
		} else if (!textScreen && input === '?') {
			setHelp(true);
		} else if (!textScreen && input === 'q') {
			quit();
		}
	}, {isActive: !quitting});

	const active = !help && !quitting;
	const choose = (choice: HomeChoice) => {
		switch (choice.kind) {
			case 'tool': {
				push({name: 'form', tool: choice.name});
				break;
			}

			case 'quit': {
				quit();
				break;
			}

			default: {
				push({name: choice.kind});
			}
		}
	};

	const replaySample = (sample: Sample) => push({name: 'form', tool: sample.tool, values: sample.values, replay: sample.path});
	let body;
	if (quitting) {
		body = <Text color="yellow">restoring the tracing state…</Text>;
	} else if (!env) {
		body = <Text dimColor>{loaded.error ? `cannot start: ${String(loaded.error)}` : 'probing the kernel…'}</Text>;
	} else if (screen.name === 'home') {
		body = <Home caps={env.caps} problem={env.problem} available={new Set(Object.entries(env.bindings).filter(([, binding]) => !binding.replayOnly).map(([name]) => name))} sampleCount={env.samples.length} onChoose={choose} isActive={active} width={width} compact={terminalRows < 34}/>;
	} else if (screen.name === 'form' || screen.name === 'run') {
		const spec = toolSpec(screen.tool);
		const binding = env.bindings[screen.tool];
		if (!spec) {
			body = <Text color="red">{`unknown tool ${screen.tool}`}</Text>;
		} else if (screen.name === 'form') {
			body = (
				<ToolForm
					spec={spec} binding={binding} initial={screen.values} replay={screen.replay} focus={screen.focus}
					unsupported={env.caps ? spec.unsupported(env.caps) : env.problem}
					onStart={values => push({name: 'run', tool: screen.tool, values, replay: screen.replay})}
					isActive={active}
				/>
			);
		} else if (binding) {
			body = <RunView key={stack.length} spec={spec} binding={binding} values={screen.values} replay={screen.replay} registry={registry} height={height} isActive={active} onTyping={setTyping}/>;
		} else {
			body = <Text color="red">{`the ${screen.tool} core is not in this build yet`}</Text>;
		}
	} else if (screen.name === 'tracepoints') {
		body = env.events
			? <TracepointBrowser catalog={env.events} height={height} isActive={active} onTrace={tracepoint => push({name: 'form', tool: 'tpoint', values: {tracepoint}, focus: 1})}/>
			: <Text color="red">{`no tracepoints to browse: ${env.problem ?? 'no tracefs'}`}</Text>;
	} else if (screen.name === 'probes') {
		const kinds: ProbeKind[] = [...(env.caps?.kprobeEvents ? ['kprobe' as const] : []), ...(env.caps?.uprobeEvents ? ['uprobe' as const] : [])];
		body = <ProbeBuilder tester={env.probes} kinds={kinds.length > 0 ? kinds : ['kprobe', 'uprobe']} initial={screen.initial} isActive={active} onTrace={(kind, definition) => push({name: 'form', tool: kind, values: {definition}, focus: 1})}/>;
	} else {
		body = <SampleList samples={env.samples} onReplay={replaySample} isActive={active}/>;
	}

	return (
		<>
			<Static items={[banner]}>{line => <Text key={line} bold color="cyan">{line}</Text>}</Static>
			<Box flexDirection="column">
				{help ? <HelpOverlay screen={screen.name === 'run' ? toolSpec(screen.tool)?.view ?? 'events' : screen.name}/> : body}
			</Box>
		</>
	);
}
