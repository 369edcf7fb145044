import {
	Instance, Tracefs, listProbeEvents, reclaimStaleGroups, removeProbeEvent, resetTopInstance, ownerPidOf, isProcessAlive,
	type ResetStep,
} from '@ftrace-ts/tracefs';

/** Probe groups perf-tools and hand-made probes use by default: reset like kprobe_events was. */
export const defaultProbeGroups = ['kprobes', 'uprobes'] as const;

export interface ResetFtraceOptions {
	/** Also remove other tracers' state: every probe group and every instance not owned by a live ftrace-ts process. */
	readonly force?: boolean;
	readonly tracefs?: Tracefs;
	/** Progress: each file reset, each instance or probe removed. */
	readonly onStep?: (step: ResetStep) => void;
	readonly onRemoved?: (what: string) => void;
}

export interface ResetFtraceReport {
	readonly steps: readonly ResetStep[];
	/** Instances and probes removed ("instances/NAME", "GROUP/EVENT"). */
	readonly removed: readonly string[];
	/** What could not be reset, one line each. */
	readonly failures: readonly string[];
	/** State left alone because it belongs to another tracer (without force). */
	readonly keptForeign: readonly string[];
}

function liveOwner(name: string): boolean {
	const pid = ownerPidOf(name);
	return pid !== undefined && (pid === process.pid || isProcessAlive(pid));
}

/**
 * The reset-ftrace core: reclaim what dead ftrace-ts tools left (their
 * instances and probe groups), remove probes in the default groups, and reset
 * the top instance to the kernel's defaults. With `force`, other tracers'
 * probe groups and instances go too (never those of a running ftrace-ts tool).
 */
export async function resetFtrace(options: ResetFtraceOptions = {}): Promise<ResetFtraceReport> {
	const tracefs = options.tracefs ?? await Tracefs.find();
	const removed: string[] = [];
	const failures: string[] = [];
	const keptForeign: string[] = [];
	const note = (what: string) => {
		removed.push(what);
		options.onRemoved?.(what);
	};

	const reclaimed = await reclaimStaleGroups(tracefs);
	for (const name of reclaimed.instances) {
		note(`instances/${name}`);
	}

	for (const name of reclaimed.probes) {
		note(name);
	}

	for (const failure of reclaimed.failures) {
		failures.push(`${failure.name}: ${failure.error instanceof Error ? failure.error.message : String(failure.error)}`);
	}

	for (const name of await Instance.list(tracefs)) {
		if (ownerPidOf(name) !== undefined) {
			continue; // ours: reclaimed above when stale, kept when its tool runs
		}

		if (!options.force) {
			keptForeign.push(`instances/${name}`);
			continue;
		}

		try {
			// eslint-disable-next-line no-await-in-loop
			await (await Instance.open(tracefs, name)).destroy();
			note(`instances/${name}`);
		} catch (error) {
			failures.push(`instances/${name}: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	for (const probe of await listProbeEvents(tracefs)) {
		const name = `${probe.system}/${probe.event}`;
		if (liveOwner(probe.system)) {
			continue;
		}

		const isDefault = (defaultProbeGroups as readonly string[]).includes(probe.system);
		if (!isDefault && !options.force) {
			keptForeign.push(name);
			continue;
		}

		try {
			// eslint-disable-next-line no-await-in-loop
			if (await removeProbeEvent(tracefs, probe.kind, probe)) {
				note(name);
			}
		} catch (error) {
			failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	const steps = await resetTopInstance(tracefs, {onStep: options.onStep});
	for (const step of steps) {
		if (step.error) {
			failures.push(`${step.file}: ${step.error}`);
		}
	}

	return {steps, removed, failures, keptForeign};
}
