import test from 'ava';
import {render} from 'ink-testing-library';
import {CallTree} from '../src/components/CallTree.js';
import {EventTable} from '../src/components/EventTable.js';
import {Histogram} from '../src/components/Histogram.js';
import {Home, type HomeChoice} from '../src/components/Home.js';
import {ProbeBuilder} from '../src/components/ProbeBuilder.js';
import {ToolForm} from '../src/components/ToolForm.js';
import {TopTable, topRows} from '../src/components/TopTable.js';
import {TracepointBrowser} from '../src/components/TracepointBrowser.js';
import {toolSpec, orderSystems} from '../src/catalog.js';
import {graphLine, lineRow, type CoreBinding} from '../src/cores.js';
import type {GraphFeed, RowFeed} from '../src/feed.js';
import type {ProbeTrial} from '../src/environment.js';
import {delay, keys, recordedCaps, recordedCatalog, sampleLines, until} from './helpers.js';

const toolNames = new Set(['iosnoop', 'iolatency', 'tpoint', 'opensnoop', 'execsnoop', 'uprobe', 'kprobe']);

test.serial('home: this kernel\'s capabilities, tracer advice, and why tools will not work', async t => {
	const {lastFrame, unmount} = render(<Home caps={recordedCaps()} available={toolNames} sampleCount={5} onChoose={() => undefined} width={160}/>);
	const frame = lastFrame() ?? '';
	t.regex(frame, /kernel 6\.18\.44/);
	t.regex(frame, /✗ function_graph/);
	t.regex(frame, /✓ uprobes/);
	t.regex(frame, /live_tracing\s+→ ftrace, perf_events/);
	t.regex(frame, /in_kernel_summaries → eBPF/);
	t.regex(frame, /✗ funccount\s+needs the function profiler \(CONFIG_FUNCTION_PROFILER\), kprobe_profile/);
	t.regex(toolSpec('funccount')!.unsupported(recordedCaps()) ?? '', /or hist triggers: this kernel has none/);
	t.regex(frame, /✗ funcgraph\s+needs the function_graph tracer/);
	t.regex(frame, /✗ kprobe\s+needs kprobe events/);
	t.regex(frame, /✓ iosnoop\s+block I\/O events with latency/);
	t.regex(frame, /✓ samples/);
	unmount();
});

test.serial('home: a kernel with the function profiler and kprobes offers funccount and kprobe', t => {
	const caps = recordedCaps({functionProfiler: true, functionTracer: true, kprobeEvents: true, functionGraphTracer: true});
	const {lastFrame, unmount} = render(<Home caps={caps} available={new Set([...toolNames, 'funccount', 'funcgraph'])} sampleCount={5} onChoose={() => undefined} width={160}/>);
	t.regex(lastFrame() ?? '', /✓ funccount/);
	t.regex(lastFrame() ?? '', /✓ funcgraph/);
	t.regex(lastFrame() ?? '', /✓ kprobe /);
	unmount();
});

test.serial('home: without root it says so and offers the samples; ↵ chooses', async t => {
	const chosen: HomeChoice[] = [];
	const {lastFrame, stdin, unmount} = render(<Home problem="not root: tracing needs root (sudo ftrace-tui)" available={toolNames} sampleCount={8} onChoose={choice => chosen.push(choice)}/>);
	t.regex(lastFrame() ?? '', /Cannot trace here: not root/);
	t.regex(lastFrame() ?? '', /samples\s+replay 8 recorded traces/);
	await delay();
	stdin.write(keys.enter);
	await delay();
	t.deepEqual(chosen, [{kind: 'samples'}]);
	unmount();
});

const iosnoopRows = sampleLines('iosnoop.trace').map(line => lineRow(line)).filter((row): row is RowFeed => row !== undefined);
const columns = toolSpec('tpoint')!.columns!;

test.serial('event table: follows recorded rows, pauses, filters, opens the detail pane', async t => {
	t.true(iosnoopRows.length > 100);
	const {lastFrame, stdin, rerender, unmount} = render(<EventTable columns={columns} rows={iosnoopRows.slice(0, 50)} height={8}/>);
	t.regex(lastFrame() ?? '', /TIME\s+COMM\s+PID\s+EVENT/);
	t.regex(lastFrame() ?? '', /50 rows/);
	await delay();
	stdin.write(' ');
	await delay();
	rerender(<EventTable columns={columns} rows={iosnoopRows} height={8}/>);
	await delay();
	t.regex(lastFrame() ?? '', /PAUSED \(\d+ new\)/);
	t.regex(lastFrame() ?? '', /50 rows/);
	stdin.write(' ');
	await delay();
	t.regex(lastFrame() ?? '', new RegExp(`${iosnoopRows.length} rows`));
	stdin.write('/');
	await delay();
	stdin.write('complete');

	await delay();
	stdin.write(keys.enter);
	await delay();
	const frame = lastFrame() ?? '';
	t.regex(frame, /filter "complete"/);
	t.notRegex(frame.split('\n').slice(1, -1).join('\n'), /block_rq_issue/);
	stdin.write(keys.up);
	await delay();
	stdin.write(keys.enter);
	await delay();
	t.regex(lastFrame() ?? '', /line: .*block_rq_complete/);
	unmount();
});

const graph = sampleLines('funcgraph.trace').map(line => graphLine(line)).filter((feed): feed is GraphFeed => feed !== undefined);

test.serial('call tree: the recorded do_nanosleep graph, collapsible, with durations', async t => {
	t.true(graph.length > 90);
	const {lastFrame, stdin, unmount} = render(<CallTree lines={graph} height={12}/>);
	t.regex(lastFrame() ?? '', /…\s+▾ do_nanosleep\(\)/);
	t.regex(lastFrame() ?? '', /3\.998 us\s+▾ hrtimer_start_range_ns\(\)/);
	await delay();
	stdin.write(keys.down);
	await delay();
	stdin.write(keys.enter);
	await delay();
	t.regex(lastFrame() ?? '', /▸ hrtimer_start_range_ns\(\) \[1 calls\]/);
	t.notRegex(lastFrame() ?? '', /lock_hrtimer_base/);
	stdin.write('c');
	await delay();
	t.regex(lastFrame() ?? '', /▸ do_nanosleep\(\) \[\d+ calls\]/);
	unmount();
});

test.serial('histogram: bars scaled to the largest bucket', t => {
	const {lastFrame, unmount} = render(<Histogram intervals={3} histogram={{kind: 'histogram', title: '>=(ms) .. <(ms)', buckets: [{label: '0 -> 1', count: 40}, {label: '1 -> 2', count: 10}, {label: '2 -> 4', count: 0}]}}/>);
	const frame = lastFrame() ?? '';
	t.regex(frame, /0 -> 1 :\s+40 \|#{38}\|/);
	t.regex(frame, /1 -> 2 :\s+10 \|#{10} {28}\|/);
	t.regex(frame, /interval 3/);
	unmount();
});

test.serial('top table: deltas against the previous interval, sort cycles', async t => {
	const counts = [
		{kind: 'counts', rows: [{key: 'vfs_read', count: 10}, {key: 'vfs_write', count: 5}]},
		{kind: 'counts', rows: [{key: 'vfs_read', count: 12}, {key: 'vfs_write', count: 30}, {key: 'vfs_open', count: 1}]},
	] as const;
	t.deepEqual(topRows(counts, 'delta').map(row => [row.key, row.delta]), [['vfs_write', 25], ['vfs_read', 2], ['vfs_open', 1]]);
	const {lastFrame, stdin, unmount} = render(<TopTable counts={counts} height={10}/>);
	t.regex(lastFrame() ?? '', /vfs_write\s+30\s+\+25/);
	await delay();
	stdin.write('s');
	await delay(20);
	stdin.write('s');
	await delay();
	t.regex(lastFrame() ?? '', /s sort \(name\)/);
	t.regex((lastFrame() ?? '').split('\n')[1] ?? '', /vfs_open/);
	unmount();
});

test.serial('tracepoint browser: preferred subsystems first, fields and format, t traces', async t => {
	t.deepEqual(orderSystems(['irq', 'alarmtimer', 'block', 'sched', 'syscalls', 'zz']), ['syscalls', 'block', 'sched', 'irq', 'alarmtimer', 'zz']);
	const traced: string[] = [];
	const {lastFrame, stdin, unmount} = render(<TracepointBrowser catalog={recordedCatalog()} height={16} onTrace={id => traced.push(id)}/>);
	t.regex(await until(lastFrame, /^syscalls/m), /^syscalls/m);
	await delay(150);
	stdin.write(keys.down);
	await until(lastFrame, /block: \d+ events/);
	stdin.write(keys.right);
	await until(lastFrame, /→ ←|loading|\(id \d+\)/);
	const shown = (frame: string) => /block:(\w+) \(id/.exec(frame)?.[1];
	await until(lastFrame, /block:\w+ \(id/);
	for (let i = 0; i < 40 && shown(lastFrame() ?? '') !== 'block_rq_issue'; i++) {
		const before = shown(lastFrame() ?? '');
		stdin.write(keys.down);
		// One key, one new format shown: keys are not sent ahead of the screen.
		// eslint-disable-next-line no-await-in-loop
		await until(() => shown(lastFrame() ?? '') ?? '', new RegExp(`^(?!${before ?? ''}$)`), 2000);
	}

	t.regex(await until(lastFrame, /block:block_rq_issue \(id/), /block:block_rq_issue \(id/);
	t.regex(lastFrame() ?? '', /nr_sector\s+unsigned int/);
	t.regex(lastFrame() ?? '', /fmt: %d,%d %s %u \(%s\)/);
	stdin.write('t');
	await until(() => traced.join(), /./);
	t.deepEqual(traced, ['block:block_rq_issue']);
	unmount();
});

test.serial('probe builder: checked as you type; the kernel\'s message under the text with its caret', async t => {
	const asked: string[] = [];
	const tester = async (definition: string): Promise<ProbeTrial> => {
		asked.push(definition);
		return {ok: false, message: 'Invalid fetch argument', caret: 18, kernel: true};
	};

	const {lastFrame, stdin, unmount} = render(<ProbeBuilder tester={tester} kinds={['uprobe']} onTrace={() => undefined}/>);
	await delay();
	t.regex(lastFrame() ?? '', /type a uprobe/);
	stdin.write('x:bash');

	await delay();
	t.regex(lastFrame() ?? '', /must start with p: \(entry\) or r: \(return\)/);
	for (let i = 0; i < 6; i++) {
		stdin.write(keys.backspace);
		// eslint-disable-next-line no-await-in-loop
		await delay(20);
	}

	stdin.write('p:bash:readline %zz');

	await delay();
	t.regex(lastFrame() ?? '', /✗ .*zz/);
	stdin.write(keys.backspace);
	await delay(20);
	stdin.write(keys.backspace);
	await delay(20);
	stdin.write('ax');
	await delay();
	t.regex(lastFrame() ?? '', /✓ parses: p:/);
	stdin.write(keys.enter);
	await delay(100);
	t.deepEqual(asked, ['p:bash:readline %ax']);
	t.regex(lastFrame() ?? '', /kernel says: Invalid fetch argument/);
	t.regex(lastFrame() ?? '', /\n {20}\^/);
	unmount();
});

test.serial('tool form: required values and the core\'s own validation, as you type', async t => {
	const started: unknown[] = [];
	const binding: CoreBinding = {
		check(values) {
			if (values['pid'] === 'abc') {
				throw new Error('PID must be a process id (1 to 4194304), got "abc"');
			}
		},
		async * run() {},
	};
	const {lastFrame, stdin, unmount} = render(<ToolForm spec={toolSpec('tpoint')!} binding={binding} onStart={values => started.push(values)}/>);
	await delay();
	t.regex(lastFrame() ?? '', /✗ tracepoint is required/);
	stdin.write('block:block_rq_issue');

	await delay();
	t.regex(lastFrame() ?? '', /✓ ready/);
	stdin.write(keys.down);
	await delay(20);
	stdin.write(keys.down);
	await delay();
	stdin.write('abc');
	t.regex(await until(lastFrame, /PID must be a process id/), /PID must be a process id/);
	stdin.write(keys.enter);
	await delay();
	t.deepEqual(started, []);
	for (let i = 0; i < 3; i++) {
		stdin.write(keys.backspace);
		// eslint-disable-next-line no-await-in-loop
		await delay(20);
	}

	await until(lastFrame, /✓ ready/);
	stdin.write(keys.enter);
	await until(() => JSON.stringify(started), /block/);
	t.deepEqual(started, [{tracepoint: 'block:block_rq_issue', pid: ''}]);
	unmount();
});
