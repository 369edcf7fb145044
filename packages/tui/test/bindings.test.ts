import test from 'ava';
import * as tools from '@ftrace-ts/tools';
import {coreBindings} from '../src/bindings.js';
import type {Feed} from '../src/feed.js';
import {landedBindings} from '../src/landed-cores.js';
import {applyFeeds, initialRunState} from '../src/run-state.js';
import {RunRegistry} from '../src/run-registry.js';
import {samplePath} from './helpers.js';

async function collect(feeds: AsyncIterable<Feed>): Promise<Feed[]> {
	const out: Feed[] = [];
	for await (const feed of feeds) {
		out.push(feed);
	}

	return out;
}

const signal = new AbortController().signal;

test('a core is bound once @ftrace-ts/tools exports it; until then its tool only replays', t => {
	for (const name of ['iosnoop', 'iolatency', 'opensnoop', 'execsnoop', 'tpoint', 'funccount', 'funcgraph']) {
		const exported = typeof (tools as Record<string, unknown>)[name] === 'function';
		const binding = coreBindings[name];
		t.is(binding !== undefined && !binding.replayOnly, exported, name);
	}

	t.false(coreBindings['uprobe']!.replayOnly ?? false);
});

test('landed cores: records become view feeds (fake cores with the cores\' record shapes)', async t => {
	const bindings = landedBindings({
		async * iosnoop() {
			yield {type: 'start', mode: 'replay', mechanism: 'block:block_rq_issue -> block:block_rq_complete'};
			yield {type: 'io', comm: 'dd', pid: 42, rwbs: 'WS', dev: '7,0', sector: 8, bytes: 4096, latencyMs: 0.0412};
			yield {type: 'lost', count: 3};
		},
		checkIosnoopOptions() {},
		async * iolatency() {
			yield {type: 'summary', time: '1.0', buckets: [{fromMs: 0, toMs: 1, count: 5}, {fromMs: 1, toMs: 2, count: 1}]};
		},
		checkIolatencyOptions() {},
		async * funccount() {
			yield {kind: 'start', mechanism: 'hist', counted: 2, capped: 0, skipped: []};
			yield {kind: 'summary', time: 't1', counts: [{func: 'vfs_read', count: 3}, {func: 'vfs_write', count: 1}]};
		},
	});
	t.deepEqual(Object.keys(bindings).sort(), ['funccount', 'iolatency', 'iosnoop']);
	const io = await collect(bindings['iosnoop']!.run({}, {signal}));
	const state = applyFeeds(initialRunState, io);
	t.is(state.status, 'running');
	t.is(state.lost, 3);
	t.deepEqual(state.rows[0]?.cells, {comm: 'dd', pid: '42', type: 'WS', dev: '7,0', block: '8', bytes: '4096', latms: '0.04'});
	const histogram = await collect(bindings['iolatency']!.run({}, {signal}));
	t.deepEqual(histogram[0], {kind: 'histogram', title: '>=(ms) .. <(ms)', at: '1.0', buckets: [{label: '0 -> 1', count: 5}, {label: '1 -> 2', count: 1}]});
	const counts = await collect(bindings['funccount']!.run({funcstring: 'vfs_*'}, {signal}));
	t.deepEqual(counts[1], {kind: 'counts', at: 't1', rows: [{key: 'vfs_read', count: 3}, {key: 'vfs_write', count: 1}]});
	t.throws(() => bindings['funccount']!.check({funcstring: 'vfs read\u0001'}));
});

test('replays through the tracefs reader: the funcgraph sample as graph lines, sched as rows', async t => {
	const graph = await collect(coreBindings['funcgraph']!.run({funcstring: 'do_nanosleep'}, {signal, replay: samplePath('funcgraph.trace')}));
	t.is(graph[0]?.kind, 'start');
	t.true(graph.filter(feed => feed.kind === 'graph').length > 90);
	t.deepEqual(graph[1], {kind: 'graph', type: 'entry', cpu: 0, func: 'do_nanosleep', durationUs: undefined});
	const sched = await collect(coreBindings['tpoint']!.run({tracepoint: 'sched:sched_switch'}, {signal, replay: samplePath('sched.trace')}));
	const rows = sched.filter(feed => feed.kind === 'row');
	t.true(rows.length > 100);
	t.regex(JSON.stringify(rows[0]), /sched_switch|sched_wakeup/);
});

test('the run registry stops every run and waits for each cleanup', async t => {
	const registry = new RunRegistry();
	const cleaned: number[] = [];
	for (const id of [1, 2, 3]) {
		registry.start(async stop => {
			await new Promise(resolve => {
				stop.addEventListener('abort', resolve, {once: true});
			});
			await new Promise(resolve => {
				setTimeout(resolve, 20 * id);
			});
			cleaned.push(id);
		});
	}

	t.is(registry.size, 3);
	await registry.closeAll();
	t.deepEqual(cleaned, [1, 2, 3]);
	t.is(registry.size, 0);
});
