import {TracefsError} from './errors.js';
import {Instance} from './instance.js';
import {Tracefs} from './tracefs.js';

/**
 * The kernel's default trace options (TRACE_DEFAULT_FLAGS and the tracers'
 * own defaults). Options not named here are left as they are; options named
 * here but absent from a kernel are skipped.
 */
export const defaultOptions: Readonly<Record<string, boolean>> = {
	annotate: true, 'context-info': true, 'function-trace': true, 'hash-ptr': true, 'irq-info': true,
	markers: true, overwrite: true, 'print-parent': true, 'record-cmd': true, trace_printk: true,
	'copy_trace_marker': true, 'trace_printk_dest': true,
	'funcgraph-cpu': true, 'funcgraph-overhead': true, 'funcgraph-duration': true, 'funcgraph-irqs': true,
	'sleep-time': true, 'graph-time': true,
	bin: false, block: false, 'event-fork': false, fields: false, 'func-no-repeats': false, func_stack_trace: false,
	'function-fork': false, hex: false, 'latency-format': false, 'pause-on-trace': false, 'printk-msg-only': false,
	raw: false, 'record-tgid': false, stacktrace: false, 'sym-addr': false, 'sym-offset': false, 'sym-userobj': false,
	userstacktrace: false, verbose: false, 'disable_on_free': false, 'display-graph': false,
	'funcgraph-proc': false, 'funcgraph-abstime': false, 'funcgraph-tail': false, 'funcgraph-overrun': false,
	'funcgraph-retval': false, 'funcgraph-retval-hex': false, 'funcgraph-args': false, 'funcgraph-retaddr': false,
};

/** One file the reset looked at. */
export interface ResetStep {
	/** tracefs-relative path. */
	readonly file: string;
	readonly before: string;
	readonly after: string;
	/** Set when the kernel refused the reset of this file (the reset goes on). */
	readonly error?: string | undefined;
}

export interface ResetOptions {
	/** Called for each file as it is reset (for progress output). */
	readonly onStep?: ((step: ResetStep) => void) | undefined;
	/** Default per-CPU buffer size to restore, in KB. */
	readonly bufferSizeKb?: number | undefined;
}

/**
 * Reset the top instance to the kernel's defaults: nop tracer, empty function
 * filters and PID lists, every event disabled with its filter cleared and its
 * triggers removed, tracing_thresh and max_graph_depth 0, the default options,
 * the function profiler off, the buffer emptied and tracing_on 1. Named
 * instances and dynamic events are not touched here (see reclaim in probes).
 * Never throws for one file: its error is reported in the step and the reset
 * goes on. Returns every step.
 */
export async function resetTopInstance(tracefs: Tracefs, options: ResetOptions = {}): Promise<ResetStep[]> {
	const steps: ResetStep[] = [];
	const read = async (file: string) => (await tracefs.readIfExists(file).catch((error: unknown) => `<${error instanceof TracefsError ? error.code ?? 'error' : 'error'}>`)) ?? '';
	const reset = async (file: string, value: string, options_: {append?: boolean; only?: (before: string) => boolean} = {}) => {
		if (!(await tracefs.exists(file))) {
			return;
		}

		const before = await read(file);
		// A file the kernel will not even let us read (function tracing under
		// lockdown answers EPERM) holds nothing to reset.
		if (/^<E[A-Z]+>$/.test(before) || (options_.only && !options_.only(before))) {
			return;
		}

		let error: string | undefined;
		try {
			await tracefs.write(file, value, {validate: false, ...(options_.append ? {append: true} : {})});
		} catch (caught) {
			error = caught instanceof TracefsError ? caught.oneLine() : String(caught);
		}

		const step = {file, before, after: await read(file), error};
		steps.push(step);
		options.onStep?.(step);
	};

	const top = Instance.top(tracefs);
	await reset('current_tracer', 'nop');
	await reset('function_profile_enabled', '0', {only: before => before.trim() !== '0'});
	for (const file of ['set_ftrace_filter', 'set_ftrace_notrace', 'set_graph_function', 'set_graph_notrace', 'set_ftrace_pid', 'set_ftrace_notrace_pid', 'set_event_pid', 'set_event_notrace_pid']) {
		// eslint-disable-next-line no-await-in-loop
		await reset(file, '');
	}

	await reset('events/enable', '0');
	const events = await top.allEvents().catch(() => []);
	for (const {system, event} of events) {
		const dir = `events/${system}/${event}`;
		// eslint-disable-next-line no-await-in-loop
		await reset(`${dir}/filter`, '0', {only: before => before.trim() !== 'none'});
		// eslint-disable-next-line no-await-in-loop
		const triggers = (await read(`${dir}/trigger`)).split('\n').map(line => line.trim()).filter(line => line !== '' && !line.startsWith('#'));
		for (const trigger of triggers) {
			// The listing adds ":count=N"/":unlimited" and " [active]"; the removal takes the command.
			const command = trigger.replace(/\s*\[(?:active|paused)\]$/, '').replace(/:(?:unlimited|count=\d+)$/, '');
			// eslint-disable-next-line no-await-in-loop
			await reset(`${dir}/trigger`, `!${command}`, {append: true});
		}
	}

	await reset('tracing_thresh', '0');
	await reset('max_graph_depth', '0');
	const optionNames = await tracefs.list('options').catch(() => [] as string[]);
	for (const name of optionNames) {
		const wanted = defaultOptions[name];
		if (wanted === undefined) {
			continue;
		}

		// eslint-disable-next-line no-await-in-loop
		await reset(`options/${name}`, wanted ? '1' : '0', {only: before => before.trim() !== (wanted ? '1' : '0')});
	}

	if (options.bufferSizeKb !== undefined) {
		await reset('buffer_size_kb', String(options.bufferSizeKb), {only: before => Number.parseInt(before, 10) !== options.bufferSizeKb && !before.includes('expanded')});
	}

	await reset('trace', '');
	await reset('tracing_on', '1', {only: before => before.trim() !== '1'});
	return steps;
}
