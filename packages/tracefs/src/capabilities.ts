import {access, readFile} from 'node:fs/promises';
import {constants as fsConstants} from 'node:fs';
import {Tracefs} from './tracefs.js';

/**
 * What this kernel offers for tracing, found by looking (never by changing
 * anything). Each flag is true only when the file that provides the feature
 * exists and can be read.
 */
export interface Capabilities {
	/** The tracefs root, e.g. /sys/kernel/tracing. */
	readonly root: string;
	/** uname -r. */
	readonly kernelRelease: string;
	readonly tracers: readonly string[];
	/** The function tracer is listed and usable (available_filter_functions readable). */
	readonly functionTracer: boolean;
	readonly functionGraphTracer: boolean;
	/** available_filter_functions can be read (the function tracer can be filtered). */
	readonly filterFunctions: boolean;
	readonly kprobeEvents: boolean;
	readonly uprobeEvents: boolean;
	readonly dynamicEvents: boolean;
	readonly functionProfiler: boolean;
	readonly kprobeProfile: boolean;
	readonly uprobeProfile: boolean;
	readonly histTriggers: boolean;
	readonly snapshot: boolean;
	readonly instances: boolean;
	readonly traceRaw: boolean;
	readonly errorLog: boolean;
	readonly syscallTracepoints: boolean;
	readonly stackTraceTrigger: boolean;
	readonly tracingThresh: boolean;
	readonly maxGraphDepth: boolean;
	/** Tracepoint subsystems (directories of events/). */
	readonly eventSystems: readonly string[];
	/** perf_events: the perf_event_open interface is there. */
	readonly perfEvents: boolean;
	/** Hardware PMU counters (a "cpu" PMU), needed for PMC work. */
	readonly hardwarePmcs: boolean;
	/** The bpf() syscall is configured (CONFIG_BPF_SYSCALL). */
	readonly ebpf: boolean;
	/** External tracers installed: stap, lttng, bpftrace, perf. */
	readonly commands: Readonly<Record<'perf' | 'stap' | 'lttng' | 'bpftrace', boolean>>;
}

async function exists(path: string, mode = fsConstants.F_OK): Promise<boolean> {
	try {
		await access(path, mode);
		return true;
	} catch {
		return false;
	}
}

async function readable(path: string): Promise<boolean> {
	try {
		const handle = await import('node:fs/promises').then(async fs => fs.open(path, 'r'));
		try {
			const buffer = Buffer.alloc(64);
			await handle.read(buffer, 0, 64, 0);
		} finally {
			await handle.close();
		}

		return true;
	} catch {
		return false;
	}
}

async function onPath(command: string): Promise<boolean> {
	for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
		// eslint-disable-next-line no-await-in-loop
		if (dir && await exists(`${dir}/${command}`, fsConstants.X_OK)) {
			return true;
		}
	}

	return false;
}

/** Probe the kernel. Reads only; changes nothing. */
export async function probeCapabilities(tracefs: Tracefs): Promise<Capabilities> {
	const at = (relative: string) => exists(tracefs.path(relative));
	const tracers = ((await tracefs.readIfExists('available_tracers')) ?? '').split(/\s+/).filter(Boolean);
	const systems = (await tracefs.list('events').catch(() => [] as string[]));
	const eventSystems: string[] = [];
	for (const system of systems) {
		// eslint-disable-next-line no-await-in-loop
		if (await tracefs.isDirectory(`events/${system}`)) {
			eventSystems.push(system);
		}
	}

	const readme = (await tracefs.readIfExists('README').catch(() => undefined)) ?? '';
	const filterFunctions = await readable(tracefs.path('available_filter_functions'));
	const histTriggers = readme.includes('hist:keys') || await at('events/sched/sched_switch/hist');
	const release = (await readFile('/proc/sys/kernel/osrelease', 'utf8').catch(() => '')).trim();
	const [perf, stap, lttng, bpftrace] = await Promise.all(['perf', 'stap', 'lttng', 'bpftrace'].map(onPath));
	return {
		root: tracefs.root,
		kernelRelease: release,
		tracers,
		// Listed is not enough: under lockdown the kernel lists "function" but
		// refuses it (EPERM), and then available_filter_functions is unreadable too.
		functionTracer: tracers.includes('function') && filterFunctions,
		functionGraphTracer: tracers.includes('function_graph'),
		filterFunctions,
		kprobeEvents: await at('kprobe_events'),
		uprobeEvents: await at('uprobe_events'),
		dynamicEvents: await at('dynamic_events'),
		functionProfiler: await at('function_profile_enabled'),
		kprobeProfile: await at('kprobe_profile'),
		uprobeProfile: await at('uprobe_profile'),
		histTriggers,
		snapshot: await at('snapshot'),
		instances: await at('instances'),
		traceRaw: await at('per_cpu/cpu0/trace_pipe_raw'),
		errorLog: await at('error_log'),
		syscallTracepoints: eventSystems.includes('syscalls'),
		stackTraceTrigger: readme.includes('stacktrace'),
		tracingThresh: await at('tracing_thresh'),
		maxGraphDepth: await at('max_graph_depth'),
		eventSystems,
		perfEvents: await exists('/proc/sys/kernel/perf_event_paranoid'),
		hardwarePmcs: await exists('/sys/bus/event_source/devices/cpu') || await exists('/sys/bus/event_source/devices/cpu_core'),
		ebpf: await exists('/proc/sys/kernel/unprivileged_bpf_disabled'),
		commands: {perf: perf!, stap: stap!, lttng: lttng!, bpftrace: bpftrace!},
	};
}
