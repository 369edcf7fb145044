import type {Capabilities} from './capabilities.js';

/**
 * The "choosing a tracer" rule, applied to what a kernel has:
 *
 *     if linux_builtins == not_sufficient: return (SystemTap, LTTng)
 *     if need in [live_tracing, counting]: return (ftrace, perf_events)
 *     if need in [PMCs, stack_profiling, trace_dump_analyze]: return perf_events
 *     if need in [in_kernel_summaries]: return eBPF
 */
export const needs = [
	'live_tracing',
	'counting',
	'PMCs',
	'stack_profiling',
	'trace_dump_analyze',
	'in_kernel_summaries',
] as const;

export type Need = (typeof needs)[number];

export type TracerName = 'ftrace' | 'perf_events' | 'eBPF' | 'SystemTap' | 'LTTng';

export interface TracerChoice {
	readonly need: Need;
	/** What the rule recommends for this need, in order. */
	readonly recommended: readonly TracerName[];
	/** The recommended built-ins this kernel actually has. */
	readonly usable: readonly TracerName[];
	/** True when no recommended built-in is usable: fall back to SystemTap/LTTng. */
	readonly builtinsInsufficient: boolean;
	/** Why, in one or two sentences about this kernel. */
	readonly reason: string;
	/** Tools of this project that serve the need here. */
	readonly tools: readonly string[];
}

/** Parse a need as a user may type it ("live-tracing", "pmcs", "in kernel summaries"). */
export function parseNeed(text: string): Need | undefined {
	const key = text.toLowerCase().replaceAll(/[\s-]+/g, '_');
	return needs.find(need => need.toLowerCase() === key) ?? (key === 'pmc' ? 'PMCs' : key === 'summaries' ? 'in_kernel_summaries' : undefined);
}

function has(caps: Capabilities, tracer: TracerName): boolean {
	switch (tracer) {
		case 'ftrace': {
			return caps.tracers.length > 0 && caps.instances;
		}

		case 'perf_events': {
			return caps.perfEvents;
		}

		case 'eBPF': {
			return caps.ebpf;
		}

		case 'SystemTap': {
			return caps.commands.stap;
		}

		case 'LTTng': {
			return caps.commands.lttng;
		}
	}
}

/** Apply the rule for one need. */
export function chooseTracer(need: Need, caps: Capabilities): TracerChoice {
	let recommended: TracerName[];
	let tools: string[] = [];
	let extra = '';
	switch (need) {
		case 'live_tracing': {
			recommended = ['ftrace', 'perf_events'];
			tools = ['iosnoop', 'opensnoop', 'execsnoop', 'tpoint', caps.kprobeEvents ? 'kprobe' : '', caps.uprobeEvents ? 'uprobe' : '', caps.functionGraphTracer ? 'funcgraph' : ''].filter(Boolean);
			break;
		}

		case 'counting': {
			recommended = ['ftrace', 'perf_events'];
			const how = caps.functionProfiler ? 'the function profiler' : caps.kprobeProfile ? 'kprobe_profile hit counts' : caps.histTriggers ? 'hist triggers' : '';
			if (how) {
				tools = ['funccount', 'iolatency'];
				extra = ` funccount counts in the kernel with ${how}.`;
			} else {
				tools = ['iolatency', 'tpoint'];
				extra = ' This kernel has neither the function profiler, kprobe_profile nor hist triggers, so funccount cannot count kernel functions here; tracepoint events can still be counted.';
			}

			break;
		}

		case 'PMCs': {
			recommended = ['perf_events'];
			if (!caps.hardwarePmcs) {
				extra = ' This machine exposes no hardware PMU (no "cpu" event source): perf_events offers only software events here.';
			}

			tools = caps.commands.perf ? ['perf stat'] : [];
			break;
		}

		case 'stack_profiling': {
			recommended = ['perf_events'];
			tools = [caps.commands.perf ? 'perf record -g' : '', 'stackcollapse-perf', 'flamegraph'].filter(Boolean);
			break;
		}

		case 'trace_dump_analyze': {
			recommended = ['perf_events'];
			tools = [caps.commands.perf ? 'perf script' : '', 'iosnoop --replay', 'tpoint --replay'].filter(Boolean);
			break;
		}

		case 'in_kernel_summaries': {
			recommended = ['eBPF'];
			if (caps.histTriggers) {
				extra = ' ftrace hist triggers also summarise in the kernel here.';
			}

			break;
		}
	}

	const usable = recommended.filter(tracer => has(caps, tracer)
		&& !(need === 'PMCs' && tracer === 'perf_events' && !caps.hardwarePmcs));
	const builtinsInsufficient = usable.length === 0;
	const reason = builtinsInsufficient
		? `no built-in (${recommended.join(', ')}) is usable on this kernel for ${need}: use SystemTap or LTTng${caps.commands.stap || caps.commands.lttng ? '' : ' (neither is installed)'}.${extra}`
		: `${usable.join(' and ')} ${usable.length > 1 ? 'are' : 'is'} built in here.${extra}`;
	return {
		need,
		recommended: builtinsInsufficient ? ['SystemTap', 'LTTng'] : recommended,
		usable,
		builtinsInsufficient,
		reason,
		tools: builtinsInsufficient ? [] : tools,
	};
}
