/**
 * per_cpu/cpuN/stats: how full each CPU's ring buffer is and what it lost.
 */
import type {Instance} from './instance.js';

/** One CPU's ring-buffer statistics. Counters missing on older kernels read as 0. */
export interface CpuStats {
	readonly cpu: number;
	/** Events in the buffer now. */
	readonly entries: number;
	/** Events overwritten before being read (overwrite mode): lost to readers. */
	readonly overrun: number;
	readonly commitOverrun: number;
	readonly bytes: number;
	/** Events dropped because the buffer was full (no-overwrite mode): lost. */
	readonly dropped: number;
	readonly read: number;
	/** "oldest event ts" and "now ts" in seconds, when printed. */
	readonly oldestEventTs?: number | undefined;
	readonly nowTs?: number | undefined;
}

/** Parse the text of a per_cpu/cpuN/stats file. */
export function parseCpuStats(text: string, cpu: number): CpuStats {
	const values = new Map<string, string>();
	for (const line of text.split('\n')) {
		const colon = line.indexOf(':');
		if (colon > 0) {
			values.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
		}
	}

	const count = (key: string): number => Number.parseInt(values.get(key) ?? '0', 10) || 0;
	const seconds = (key: string): number | undefined => (values.has(key) ? Number(values.get(key)) : undefined);
	return {
		cpu,
		entries: count('entries'),
		overrun: count('overrun'),
		commitOverrun: count('commit overrun'),
		bytes: count('bytes'),
		dropped: count('dropped events'),
		read: count('read events'),
		oldestEventTs: seconds('oldest event ts'),
		nowTs: seconds('now ts'),
	};
}

/** The CPUs that have a per_cpu directory in the instance, ascending. Throws TracefsError. */
export async function instanceCpus(instance: Instance): Promise<number[]> {
	const entries = await instance.tracefs.list(instance.file('per_cpu'));
	return entries.filter(name => /^cpu\d+$/.test(name)).map(name => Number(name.slice(3))).sort((a, b) => a - b);
}

/** Read one CPU's stats. Throws TracefsError (ENOENT for a CPU that does not exist). */
export async function readCpuStats(instance: Instance, cpu: number): Promise<CpuStats> {
	return parseCpuStats(await instance.read(`per_cpu/cpu${cpu}/stats`), cpu);
}

/** Read every CPU's stats (or those listed). Throws TracefsError. */
export async function readAllCpuStats(instance: Instance, cpus?: readonly number[]): Promise<CpuStats[]> {
	const list = cpus ?? await instanceCpus(instance);
	return Promise.all(list.map(async cpu => readCpuStats(instance, cpu)));
}

/** Sum of events lost (overrun + dropped) across stats. */
export function lostInStats(stats: readonly CpuStats[]): number {
	return stats.reduce((sum, s) => sum + s.overrun + s.dropped, 0);
}
