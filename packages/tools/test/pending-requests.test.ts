/**
 * iosnoop's table of issued requests (pending-requests.ts) keeps what a
 * Map keyed by (dev, sector) keeps: checked against one over random sets,
 * finds and deletes (runs of colliding keys, deletes in the middle of a
 * run, growth), sectors beyond 2^32 and 2^53, replacing, clearing.
 */
import test from 'ava';
import {PendingRequests, type PendingRequest} from '../src/pending-requests.js';

function request(table: PendingRequests, slot: number): PendingRequest {
	const bytes = table.bytes(slot);
	return {comm: table.comm(slot), pid: table.pid(slot), seconds: table.seconds(slot), nanoseconds: table.nanoseconds(slot), bytes: Number.isNaN(bytes) ? undefined : bytes};
}

test('sets, finds and deletes as a Map does, through growth and collisions', t => {
	let seed = 7;
	const random = (n: number): number => {
		seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
		return Math.floor((seed / 4_294_967_296) * n);
	};

	const table = new PendingRequests();
	const model = new Map<string, {dev: number; sector: number; request: PendingRequest}>();
	const devs = [(8 * 1_048_576) + 0, (259 * 1_048_576) + 1, 4_294_967_295];
	// Few distinct keys (long runs, many replacements), then many (growth past 64k places).
	for (const [keys, steps] of [[200, 40_000], [300_000, 200_000]] as const) {
		for (let step = 0; step < steps; step++) {
			const dev = devs[random(devs.length)]!;
			const sector = random(4) === 0 ? (2 ** 32) + (random(keys) * 8) : random(keys) * 8;
			const key = `${dev}:${sector}`;
			const slot = table.find(dev, sector);
			if ((slot === -1) !== !model.has(key)) {
				t.fail(`${key}: found ${slot !== -1}, expected ${model.has(key)} at step ${step}`);
				return;
			}

			if (random(3) === 0 && slot !== -1) {
				const found = JSON.stringify(request(table, slot));
				if (found !== JSON.stringify(model.get(key)!.request)) {
					t.fail(`${key}: ${found}, expected ${JSON.stringify(model.get(key)!.request)}`);
					return;
				}

				table.delete(slot);
				model.delete(key);
			} else {
				const request = {comm: `c${step % 97}`, pid: step, seconds: 1000 + step, nanoseconds: step * 7, bytes: step % 5 === 0 ? undefined : step * 512};
				table.set(dev, sector, request.comm, request.pid, request.seconds, request.nanoseconds, request.bytes ?? Number.NaN);
				model.set(key, {dev, sector, request});
			}

			if (table.size !== model.size) {
				t.fail(`size ${table.size}, expected ${model.size} after step ${step}`);
				return;
			}
		}

		// Every key the model has is found with its values, and entries() gives exactly them.
		const found = [...model.values()].map(({dev, sector}) => {
			const slot = table.find(dev, sector);
			return slot === -1 ? undefined : request(table, slot);
		});
		// Compared as text: the assertion library's deep comparison of 100k objects takes seconds.
		t.is(JSON.stringify(found), JSON.stringify([...model.values()].map(({request}) => request)));

		const entries = [...table.entries()].map(([dev, sector, request]) => [`${dev}:${sector}`, request] as const).sort(([a], [b]) => a.localeCompare(b));
		const expected = [...model].map(([key, {request}]) => [key, request] as const).sort(([a], [b]) => a.localeCompare(b));
		t.is(JSON.stringify(entries), JSON.stringify(expected));
	}
});

test('sectors beyond 2^53 and the largest u64 are keys of their own; clear forgets all', t => {
	const table = new PendingRequests();
	const flush = 18_446_744_073_709_551_615;
	table.set(1, flush, 'kworker', 9, 5, 6, Number.NaN);
	table.set(1, 2 ** 53, 'dd', 10, 7, 8, 4096);
	table.set(2, flush, 'jbd2', 11, 9, 10, Number.NaN);
	t.is(table.size, 3);
	t.is(table.comm(table.find(1, flush)), 'kworker');
	t.is(table.comm(table.find(1, 2 ** 53)), 'dd');
	t.is(table.bytes(table.find(1, 2 ** 53)), 4096);
	t.is(table.comm(table.find(2, flush)), 'jbd2');
	t.is(table.find(3, flush), -1);
	table.clear();
	t.is(table.size, 0);
	t.is(table.find(1, flush), -1);
	t.deepEqual([...table.entries()], []);
	table.set(1, flush, 'again', 1, 2, 3, Number.NaN);
	t.is(table.comm(table.find(1, flush)), 'again');
});
