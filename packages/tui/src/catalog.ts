/**
 * The tools the TUI can launch: what each is for, its options (as the CLI
 * spells them), the view it gets, and what it needs from the kernel. Pure
 * data and pure functions over Capabilities; the cores are bound in cores.ts.
 */
import type {Capabilities} from '@ftrace-ts/tracefs';
import type {Column, ViewKind} from './feed.js';

/** One option of a tool's launch form. */
export interface FieldSpec {
	/** Key in the form's values. */
	readonly key: string;
	readonly label: string;
	/** The CLI's flag or "arg" for a positional argument, shown beside the field. */
	readonly flag: string;
	readonly type: 'text' | 'boolean';
	readonly help: string;
	/** A value is needed before the tool can start. */
	readonly required?: boolean | undefined;
	readonly placeholder?: string | undefined;
}

export interface ToolSpec {
	readonly name: string;
	readonly summary: string;
	readonly view: ViewKind;
	readonly columns?: readonly Column[] | undefined;
	readonly fields: readonly FieldSpec[];
	/** Why the tool cannot work on this kernel, or undefined when it can. */
	readonly unsupported: (caps: Capabilities) => string | undefined;
}

const pid: FieldSpec = {key: 'pid', label: 'PID', flag: '-p', type: 'text', help: 'trace this process only (all its threads)'};
const tid: FieldSpec = {key: 'tid', label: 'TID', flag: '-L', type: 'text', help: 'trace this thread only'};
const duration: FieldSpec = {key: 'duration', label: 'duration (s)', flag: '-d', type: 'text', help: 'buffered: trace this long, then show'};
const stacks: FieldSpec = {key: 'stacks', label: 'kernel stacks', flag: '-s', type: 'boolean', help: 'record a kernel stack with each event'};

function needsSystem(caps: Capabilities, system: string, feature: string): string | undefined {
	return caps.eventSystems.includes(system) ? undefined : `needs the ${system} tracepoints (${feature})`;
}

export const toolSpecs: readonly ToolSpec[] = [
	{
		name: 'iosnoop',
		summary: 'block I/O events with latency',
		view: 'events',
		columns: [
			{key: 'comm', title: 'COMM', width: 12}, {key: 'pid', title: 'PID', width: 6}, {key: 'type', title: 'TYPE', width: 4},
			{key: 'dev', title: 'DEV', width: 8}, {key: 'block', title: 'BLOCK', width: 12}, {key: 'bytes', title: 'BYTES', width: 6, align: 'right'},
			{key: 'latms', title: 'LATms', width: 8, align: 'right'},
		],
		fields: [
			{key: 'queue', label: 'include queueing', flag: '-Q', type: 'boolean', help: 'time from block_rq_insert (queue) rather than issue'},
			{key: 'device', label: 'device', flag: '-d', type: 'text', help: 'major,minor (eg, 7,0)', placeholder: '7,0'},
			{key: 'iotype', label: 'I/O type', flag: '-i', type: 'text', help: 'rwbs glob (eg, *R*)', placeholder: '*W*'},
			pid,
			{key: 'name', label: 'process name', flag: '-n', type: 'text', help: 'regular expression'},
			{...duration, flag: 'arg'},
		],
		unsupported: caps => needsSystem(caps, 'block', 'CONFIG_BLK_DEV'),
	},
	{
		name: 'iolatency',
		summary: 'block I/O latency as a histogram',
		view: 'histogram',
		fields: [
			{key: 'queue', label: 'include queueing', flag: '-Q', type: 'boolean', help: 'time from block_rq_insert'},
			{key: 'device', label: 'device', flag: '-d', type: 'text', help: 'major,minor'},
			{key: 'iotype', label: 'I/O type', flag: '-i', type: 'text', help: 'rwbs glob'},
			{key: 'interval', label: 'interval (s)', flag: 'arg', type: 'text', help: 'refresh every this many seconds (default 1)'},
		],
		unsupported: caps => needsSystem(caps, 'block', 'CONFIG_BLK_DEV'),
	},
	{
		name: 'opensnoop',
		summary: 'open() syscalls with file names',
		view: 'events',
		columns: [
			{key: 'comm', title: 'COMM', width: 16}, {key: 'pid', title: 'PID', width: 6}, {key: 'fd', title: 'FD', width: 4, align: 'right'},
			{key: 'file', title: 'FILE', width: 40},
		],
		fields: [pid, tid, {key: 'name', label: 'process name', flag: '-n', type: 'text', help: 'regular expression'}, {key: 'file', label: 'file name', flag: 'arg', type: 'text', help: 'regular expression on the path'}, duration],
		unsupported: caps => (caps.syscallTracepoints || caps.kprobeEvents ? undefined : 'needs syscall tracepoints (CONFIG_FTRACE_SYSCALLS) or kprobe events'),
	},
	{
		name: 'execsnoop',
		summary: 'new processes (exec) with arguments',
		view: 'events',
		columns: [
			{key: 'time', title: 'TIME', width: 15}, {key: 'pid', title: 'PID', width: 6}, {key: 'ppid', title: 'PPID', width: 6}, {key: 'args', title: 'ARGS', width: 44},
		],
		fields: [{key: 'maxArgs', label: 'max args', flag: '-a', type: 'text', help: 'arguments to show (default 8)'}, {key: 'name', label: 'name', flag: 'arg', type: 'text', help: 'regular expression on the command'}, duration],
		unsupported: caps => (caps.eventSystems.includes('sched') || caps.kprobeEvents ? undefined : 'needs sched tracepoints or kprobe events'),
	},
	{
		name: 'tpoint',
		summary: 'any tracepoint, with a filter',
		view: 'events',
		columns: [
			{key: 'time', title: 'TIME', width: 15}, {key: 'comm', title: 'COMM', width: 16}, {key: 'pid', title: 'PID', width: 7}, {key: 'event', title: 'EVENT', width: 20}, {key: 'body', title: 'DETAIL', width: 60},
		],
		fields: [
			{key: 'tracepoint', label: 'tracepoint', flag: 'arg', type: 'text', help: 'system:event (eg, block:block_rq_issue)', required: true},
			{key: 'filter', label: 'filter', flag: 'arg', type: 'text', help: 'kernel filter (eg, bytes > 4096)'},
			pid, tid, stacks, duration,
		],
		unsupported: caps => (caps.eventSystems.length > 0 ? undefined : 'needs tracepoints (events/ is empty)'),
	},
	{
		name: 'kprobe',
		summary: 'a kernel function call or return, with variables',
		view: 'events',
		columns: [
			{key: 'time', title: 'TIME', width: 15}, {key: 'comm', title: 'COMM', width: 16}, {key: 'pid', title: 'PID', width: 7}, {key: 'body', title: 'DETAIL', width: 60},
		],
		fields: [
			{key: 'definition', label: 'definition', flag: 'arg', type: 'text', help: "eg, p:do_sys_openat2 filename=+0(%si):string", required: true},
			{key: 'filter', label: 'filter', flag: 'arg', type: 'text', help: 'kernel filter on the probe fields'},
			pid, tid, stacks, duration,
		],
		unsupported: caps => (caps.kprobeEvents ? undefined : 'needs kprobe events (CONFIG_KPROBE_EVENTS)'),
	},
	{
		name: 'uprobe',
		summary: 'a user-level function call or return',
		view: 'events',
		columns: [
			{key: 'time', title: 'TIME', width: 15}, {key: 'comm', title: 'COMM', width: 16}, {key: 'pid', title: 'PID', width: 7}, {key: 'body', title: 'DETAIL', width: 60},
		],
		fields: [
			{key: 'definition', label: 'definition', flag: 'arg', type: 'text', help: 'eg, p:bash:readline or r:bash:readline +0($retval):string', required: true},
			{key: 'filter', label: 'filter', flag: 'arg', type: 'text', help: 'kernel filter on the probe fields'},
			pid, tid, duration,
		],
		unsupported: caps => (caps.uprobeEvents ? undefined : 'needs uprobe events (CONFIG_UPROBE_EVENTS)'),
	},
	{
		name: 'funccount',
		summary: 'count kernel function calls (top-like)',
		view: 'top',
		fields: [
			{key: 'funcstring', label: 'functions', flag: 'arg', type: 'text', help: 'glob, eg vfs_*', required: true},
			{key: 'interval', label: 'interval (s)', flag: '-i', type: 'text', help: 'refresh every this many seconds (default 1)'},
			{key: 'top', label: 'top', flag: '-t', type: 'text', help: 'show this many functions'},
			duration,
		],
		unsupported: caps => (caps.functionProfiler && caps.functionTracer) || caps.kprobeProfile || caps.histTriggers
			? undefined
			: 'needs the function profiler (CONFIG_FUNCTION_PROFILER), kprobe_profile (kprobe events) or hist triggers: this kernel has none',
	},
	{
		name: 'funcgraph',
		summary: 'a graph of kernel code flow, with durations',
		view: 'tree',
		fields: [
			{key: 'funcstring', label: 'function', flag: 'arg', type: 'text', help: 'glob, eg do_nanosleep', required: true},
			{key: 'maxdepth', label: 'max depth', flag: '-m', type: 'text', help: 'graph at most this deep'},
			pid, tid, duration,
		],
		unsupported: caps => (caps.functionGraphTracer ? undefined : 'needs the function_graph tracer (CONFIG_FUNCTION_GRAPH_TRACER)'),
	},
	{
		name: 'functrace',
		summary: 'trace kernel function calls',
		view: 'events',
		columns: [
			{key: 'time', title: 'TIME', width: 15}, {key: 'comm', title: 'COMM', width: 16}, {key: 'pid', title: 'PID', width: 7}, {key: 'body', title: 'FUNCTION', width: 60},
		],
		fields: [{key: 'funcstring', label: 'functions', flag: 'arg', type: 'text', help: 'glob', required: true}, pid, tid, duration],
		unsupported: caps => (caps.functionTracer ? undefined : 'needs a usable function tracer (CONFIG_FUNCTION_TRACER, not locked down)'),
	},
	{
		name: 'funcslower',
		summary: 'kernel function calls slower than a threshold',
		view: 'events',
		columns: [
			{key: 'time', title: 'TIME', width: 15}, {key: 'comm', title: 'COMM', width: 16}, {key: 'pid', title: 'PID', width: 7}, {key: 'body', title: 'DETAIL', width: 60},
		],
		fields: [
			{key: 'funcstring', label: 'function', flag: 'arg', type: 'text', help: 'glob', required: true},
			{key: 'latency', label: 'latency (µs)', flag: 'arg', type: 'text', help: 'show calls slower than this', required: true},
			pid, tid, duration,
		],
		unsupported: caps => (caps.functionGraphTracer ? undefined : 'needs the function_graph tracer (CONFIG_FUNCTION_GRAPH_TRACER)'),
	},
];

/** The spec of a tool by name. */
export function toolSpec(name: string): ToolSpec | undefined {
	return toolSpecs.find(spec => spec.name === name);
}

/** Whether each tool works here, and why not. */
export function toolSupport(caps: Capabilities): Array<{readonly name: string; readonly summary: string; readonly reason: string | undefined}> {
	return toolSpecs.map(spec => ({name: spec.name, summary: spec.summary, reason: spec.unsupported(caps)}));
}

/** Tracepoint subsystems in the order a performance engineer looks at them, then the rest. */
export const preferredSystems = ['syscalls', 'ext4', 'block', 'sock', 'sched', 'vmscan', 'kmem', 'scsi', 'irq'] as const;

/** The kernel's subsystems ordered: the preferred ones it has first, then all others alphabetically. */
export function orderSystems(systems: readonly string[]): string[] {
	const have = new Set(systems);
	const first = preferredSystems.filter(system => have.has(system));
	const rest = systems.filter(system => !(preferredSystems as readonly string[]).includes(system)).sort();
	return [...first, ...rest];
}
