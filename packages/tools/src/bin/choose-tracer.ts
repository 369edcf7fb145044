#!/usr/bin/env node
import {Tracefs, chooseTracer, needs, parseNeed, probeCapabilities, type Capabilities} from '@ftrace-ts/tracefs';
import {UsageError, runCli} from '../cli.js';
import {meowWithUsage} from '../meow-usage.js';

const usage = `
USAGE: choose-tracer [-hj] [need ...]
                 -j, --json        # machine-readable output
                 -h, --help        # this usage message
  need: ${needs.join(', ')}
  (default: each of them)
  eg,
       choose-tracer                  # what this kernel can trace, and advice for each need
       choose-tracer live_tracing     # which tracer for live tracing here
       choose-tracer --json counting  # as JSON

It probes this kernel's tracing features (changing nothing) and applies the
"choosing a tracer" rule: live tracing and counting -> ftrace, perf_events;
PMCs, stack profiling, trace dump analysis -> perf_events; in-kernel
summaries -> eBPF; where the built-ins fall short -> SystemTap, LTTng.
`;

const cli = meowWithUsage(usage, {
	importMeta: import.meta,
	flags: {
		json: {type: 'boolean', shortFlag: 'j'},
		help: {type: 'boolean', shortFlag: 'h'},
	},
	allowUnknownFlags: false,
});

function yes(flag: boolean): string {
	return flag ? 'yes' : 'no';
}

function printCapabilities(caps: Capabilities): void {
	const rows: Array<[string, string]> = [
		['tracefs', caps.root],
		['kernel', caps.kernelRelease],
		['tracers', caps.tracers.join(' ')],
		['function tracer', yes(caps.functionTracer)],
		['function_graph tracer', yes(caps.functionGraphTracer)],
		['function filtering', yes(caps.filterFunctions)],
		['kprobe events', yes(caps.kprobeEvents)],
		['uprobe events', yes(caps.uprobeEvents)],
		['dynamic_events', yes(caps.dynamicEvents)],
		['function profiler', yes(caps.functionProfiler)],
		['kprobe_profile', yes(caps.kprobeProfile)],
		['hist triggers', yes(caps.histTriggers)],
		['snapshot', yes(caps.snapshot)],
		['instances', yes(caps.instances)],
		['trace_pipe_raw', yes(caps.traceRaw)],
		['error_log', yes(caps.errorLog)],
		['syscall tracepoints', yes(caps.syscallTracepoints)],
		['tracepoint subsystems', String(caps.eventSystems.length)],
		['perf_events', yes(caps.perfEvents)],
		['hardware PMCs', yes(caps.hardwarePmcs)],
		['eBPF (bpf syscall)', yes(caps.ebpf)],
		['installed', Object.entries(caps.commands).filter(([, on]) => on).map(([name]) => name).join(' ') || 'none of perf, stap, lttng, bpftrace'],
	];
	for (const [label, value] of rows) {
		console.log(`${label.padEnd(24)}${value}`);
	}
}

await runCli('choose-tracer', async () => {
	const wanted = cli.input.length === 0 ? [...needs] : cli.input.map(text => {
		const need = parseNeed(text);
		if (!need) {
			throw new UsageError(`unknown need "${text}" (one of: ${needs.join(', ')})`);
		}

		return need;
	});
	const tracefs = await Tracefs.find();
	const caps = await probeCapabilities(tracefs);
	const choices = wanted.map(need => chooseTracer(need, caps));
	if (cli.flags.json) {
		console.log(JSON.stringify({capabilities: caps, choices}, undefined, 2));
		return;
	}

	printCapabilities(caps);
	console.log('');
	for (const choice of choices) {
		console.log(`${choice.need}: ${choice.recommended.join(', ')}`);
		console.log(`    ${choice.reason}`);
		if (choice.tools.length > 0) {
			console.log(`    tools: ${choice.tools.join(', ')}`);
		}
	}
});
