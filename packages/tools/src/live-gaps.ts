/**
 * Pairs joined across another CPU's gap, in live reading. trace_pipe merges
 * the CPUs' buffers by time, but a CPU's "[LOST n EVENTS]" line comes only
 * with that CPU's next event: before it, other CPUs' events later than its
 * last one may already have been read, and a completion there may have been
 * paired with an issue whose own completion was among the lost events (a
 * wrong latency). So rows are held until the loss counters (per_cpu stats
 * overrun and dropped) have been read after them: a CPU whose counters grew
 * lost events after its last event seen, and every held row completed after
 * that is dropped, and again when its marker comes. Events a CPU lost
 * before the time of a completion already read were overwritten before that
 * read (the merge reads them in time order), so the counters read after it
 * show them. iolatency holds an interval's latencies here the same way
 * (markers only), until the interval is summarized.
 */
import type {CpuStats} from '@ftrace-ts/tracefs';

/** A timestamp: whole seconds and nanoseconds. */
interface Time {
	readonly seconds: number;
	readonly nanoseconds: number;
}

function after(a: Time, b: Time): boolean {
	return a.seconds > b.seconds || (a.seconds === b.seconds && a.nanoseconds > b.nanoseconds);
}

export class LiveGaps<Row> {
	readonly #lastSeen = new Map<number, Time>();
	#held: Array<{row: Row; end: Time}> = [];
	#losses: Map<number, number> | undefined;

	/** An event of `cpu` at this time (every event, paired or not). */
	seen(cpu: number, seconds: number, nanoseconds: number): void {
		this.#lastSeen.set(cpu, {seconds, nanoseconds});
	}

	/** A row completed at this time, held until the counters are read after it. */
	hold(row: Row, seconds: number, nanoseconds: number): void {
		this.#held.push({row, end: {seconds, nanoseconds}});
	}

	/** How many rows are held. */
	get held(): number {
		return this.#held.length;
	}

	/**
	 * A lost-events marker for `cpu` (undefined: unknown CPU): drops the
	 * held rows it may have joined wrongly (again, when the counters showed
	 * the gap first: more may have been lost since). Requests begun before
	 * it must be forgotten.
	 */
	marker(cpu: number | undefined): void {
		this.#drop(cpu);
	}

	/**
	 * The loss counters as read now. The first reading is the baseline.
	 * Returns whether some CPU lost events since the last reading (requests
	 * begun before must then be forgotten); rows that gap may have joined
	 * wrongly are dropped.
	 */
	counters(stats: readonly CpuStats[]): boolean {
		const losses = new Map(stats.map(cpu => [cpu.cpu, cpu.overrun + cpu.dropped]));
		const before = this.#losses;
		this.#losses = losses;
		if (!before) {
			return false;
		}

		let grew = false;
		for (const [cpu, lost] of losses) {
			if (lost > (before.get(cpu) ?? 0)) {
				grew = true;
				this.#drop(cpu);
			}
		}

		return grew;
	}

	/** The held rows (those no gap touched), in order; they are no longer held. */
	release(): Row[] {
		const rows = this.#held.map(held => held.row);
		this.#held = [];
		return rows;
	}

	/** Drop the held rows completed after `cpu`'s last event seen (all of them for a CPU not seen yet or unknown). */
	#drop(cpu: number | undefined): void {
		const last = cpu === undefined ? undefined : this.#lastSeen.get(cpu);
		this.#held = last ? this.#held.filter(held => !after(held.end, last)) : [];
	}
}
