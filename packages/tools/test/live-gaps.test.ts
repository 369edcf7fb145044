import test from 'ava';
import type {CpuStats} from '@ftrace-ts/tracefs';
import {LiveGaps} from '../src/live-gaps.js';

const stats = (...losses: Array<[overrun: number, dropped: number]>): CpuStats[] =>
	losses.map(([overrun, dropped], cpu) => ({cpu, entries: 0, overrun, commitOverrun: 0, bytes: 0, dropped, read: 0}));

test('a CPU whose counters grew drops the held rows completed after its last event, and keeps the earlier ones', t => {
	const gaps = new LiveGaps<string>();
	t.false(gaps.counters(stats([0, 0], [5, 0])), 'the first reading is the baseline');
	gaps.seen(1, 10, 500);
	gaps.seen(0, 10, 700);
	gaps.hold('completed before CPU 1 went quiet', 10, 400);
	gaps.hold('completed at its last event', 10, 500);
	gaps.seen(0, 11, 0);
	gaps.hold('completed after it: may pair across its gap', 11, 0);
	t.is(gaps.held, 3);
	t.true(gaps.counters(stats([0, 0], [6, 0])));
	t.deepEqual(gaps.release(), ['completed before CPU 1 went quiet', 'completed at its last event']);
	t.is(gaps.held, 0);
});

test('counters that did not grow release every held row; dropped events count as lost too', t => {
	const gaps = new LiveGaps<string>();
	gaps.counters(stats([3, 1]));
	gaps.seen(0, 1, 0);
	gaps.hold('a', 2, 0);
	t.false(gaps.counters(stats([3, 1])));
	t.deepEqual(gaps.release(), ['a']);
	gaps.hold('b', 3, 0);
	t.true(gaps.counters(stats([3, 2])));
	t.deepEqual(gaps.release(), []);
});

test('a marker drops rows after its CPU\'s last event; an unseen or unknown CPU drops them all', t => {
	const gaps = new LiveGaps<string>();
	gaps.seen(0, 5, 0);
	gaps.hold('early', 4, 999_999_999);
	gaps.hold('late', 5, 1);
	gaps.marker(0);
	t.deepEqual(gaps.release(), ['early']);
	gaps.hold('x', 1, 0);
	gaps.marker(3);
	t.deepEqual(gaps.release(), [], 'CPU 3 never seen: its gap may lie anywhere');
	gaps.hold('y', 1, 0);
	gaps.marker(undefined);
	t.deepEqual(gaps.release(), []);
	gaps.counters(stats([0, 0]));
	gaps.hold('z', 1, 0);
	t.true(gaps.counters(stats([0, 0], [1, 0])), 'a CPU new in the counters with losses');
	t.deepEqual(gaps.release(), []);
});
