/**
 * Block requests issued and waiting for their completions, by (dev,
 * sector): a hash table with open addressing over typed arrays, so that
 * an issue costs no object and no Map entry (a replay pairs millions).
 */

/** What an issue left for its completion. */
export interface PendingRequest {
	readonly comm: string;
	readonly pid: number;
	readonly seconds: number;
	readonly nanoseconds: number;
	/** The issue's `bytes` field, where its event has one. */
	readonly bytes: number | undefined;
}

export class PendingRequests {
	#mask = 63;
	/** 32 - log2 of the capacity: the hash's top bits choose the home slot. */
	#shift = 26;
	#count = 0;
	#used = new Uint8Array(64);
	#devs = new Float64Array(64);
	#sectors = new Float64Array(64);
	#pids = new Float64Array(64);
	#seconds = new Float64Array(64);
	#nanoseconds = new Float64Array(64);
	/** NaN for none. */
	#bytes = new Float64Array(64);
	#comms: string[] = Array.from({length: 64}, () => '');

	get size(): number {
		return this.#count;
	}

	/** Where (dev, sector) is, or -1. Valid until the next set or delete. */
	find(dev: number, sector: number): number {
		const used = this.#used;
		const devs = this.#devs;
		const sectors = this.#sectors;
		for (let slot = this.#home(dev, sector); used[slot] === 1; slot = (slot + 1) & this.#mask) {
			if (sectors[slot] === sector && devs[slot] === dev) {
				return slot;
			}
		}

		return -1;
	}

	/** Keep an issue (replacing one of the same dev and sector). `bytes` NaN: none. */
	set(dev: number, sector: number, comm: string, pid: number, seconds: number, nanoseconds: number, bytes: number): void {
		if ((this.#count + 1) * 2 > this.#mask + 1) {
			this.#grow();
		}

		const used = this.#used;
		let slot = this.#home(dev, sector);
		for (; used[slot] === 1; slot = (slot + 1) & this.#mask) {
			if (this.#sectors[slot] === sector && this.#devs[slot] === dev) {
				break;
			}
		}

		if (used[slot] === 0) {
			used[slot] = 1;
			this.#devs[slot] = dev;
			this.#sectors[slot] = sector;
			this.#count++;
		}

		this.#comms[slot] = comm;
		this.#pids[slot] = pid;
		this.#seconds[slot] = seconds;
		this.#nanoseconds[slot] = nanoseconds;
		this.#bytes[slot] = bytes;
	}

	comm(slot: number): string {
		return this.#comms[slot]!;
	}

	pid(slot: number): number {
		return this.#pids[slot]!;
	}

	seconds(slot: number): number {
		return this.#seconds[slot]!;
	}

	nanoseconds(slot: number): number {
		return this.#nanoseconds[slot]!;
	}

	/** The bytes field; NaN for none. */
	bytes(slot: number): number {
		return this.#bytes[slot]!;
	}

	/** Forget the issue at `slot` (from find). */
	delete(slot: number): void {
		const mask = this.#mask;
		const used = this.#used;
		this.#count--;
		// Backward shift: later entries of the run move into the hole unless their home lies between.
		let hole = slot;
		for (let next = (slot + 1) & mask; used[next] === 1; next = (next + 1) & mask) {
			const home = this.#home(this.#devs[next]!, this.#sectors[next]!);
			if (((next - home) & mask) >= ((next - hole) & mask)) {
				this.#move(next, hole);
				hole = next;
			}
		}

		used[hole] = 0;
		this.#comms[hole] = '';
	}

	clear(): void {
		this.#used.fill(0);
		this.#comms.fill('');
		this.#count = 0;
	}

	/** Each waiting issue, as (dev, sector, issue). */
	* entries(): Generator<[number, number, PendingRequest]> {
		for (let slot = 0; slot <= this.#mask; slot++) {
			if (this.#used[slot] === 1) {
				const bytes = this.#bytes[slot]!;
				yield [this.#devs[slot]!, this.#sectors[slot]!, {
					comm: this.#comms[slot]!,
					pid: this.#pids[slot]!,
					seconds: this.#seconds[slot]!,
					nanoseconds: this.#nanoseconds[slot]!,
					bytes: Number.isNaN(bytes) ? undefined : bytes,
				}];
			}
		}
	}

	#home(dev: number, sector: number): number {
		// Both are integers (sectors up to 2^64, beyond 2^53 inexact but compared as they are).
		const high = sector < 4_294_967_296 ? 0 : (sector / 4_294_967_296) >>> 0;
		const hash = Math.imul((sector >>> 0) ^ Math.imul(high, 0x2_7D_4E_B2_F) ^ Math.imul(dev >>> 0, 0x1B_87_35_93), 0x9E_37_79_B1);
		return hash >>> this.#shift;
	}

	#move(from: number, to: number): void {
		this.#devs[to] = this.#devs[from]!;
		this.#sectors[to] = this.#sectors[from]!;
		this.#comms[to] = this.#comms[from]!;
		this.#pids[to] = this.#pids[from]!;
		this.#seconds[to] = this.#seconds[from]!;
		this.#nanoseconds[to] = this.#nanoseconds[from]!;
		this.#bytes[to] = this.#bytes[from]!;
	}

	#grow(): void {
		const old = {used: this.#used, devs: this.#devs, sectors: this.#sectors, pids: this.#pids, seconds: this.#seconds, nanoseconds: this.#nanoseconds, bytes: this.#bytes, comms: this.#comms};
		const capacity = (this.#mask + 1) * 2;
		this.#mask = capacity - 1;
		this.#shift--;
		this.#used = new Uint8Array(capacity);
		this.#devs = new Float64Array(capacity);
		this.#sectors = new Float64Array(capacity);
		this.#pids = new Float64Array(capacity);
		this.#seconds = new Float64Array(capacity);
		this.#nanoseconds = new Float64Array(capacity);
		this.#bytes = new Float64Array(capacity);
		this.#comms = Array.from({length: capacity}, () => '');
		this.#count = 0;
		for (let slot = 0; slot < old.used.length; slot++) {
			if (old.used[slot] === 1) {
				this.set(old.devs[slot]!, old.sectors[slot]!, old.comms[slot]!, old.pids[slot]!, old.seconds[slot]!, old.nanoseconds[slot]!, old.bytes[slot]!);
			}
		}
	}
}
