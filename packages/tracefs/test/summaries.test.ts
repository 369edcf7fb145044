import {readFileSync} from 'node:fs';
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {
	TracefsError,
	formatHistTrigger,
	histControl,
	mergeFunctionProfiles,
	parseEventFormat,
	parseFunctionProfile,
	parseHist,
	parseProbeProfile,
	type HistTriggerSpec,
} from '../src/index.js';

function fixture(name: string): string {
	return readFileSync(new URL(`../../test/fixtures/summaries/${name}`, import.meta.url), 'utf8');
}

test('function profiler: one CPU\'s trace_stat table', t => {
	const rows = parseFunctionProfile(fixture('function0'));
	t.is(rows.length, 3);
	t.deepEqual(rows[1], {function: 'vfs_read', hits: 300, timeUs: 1530.011, avgUs: 5.1, s2: 2.07});
	t.deepEqual(parseFunctionProfile(fixture('function0-hits-only')), [
		{function: 'schedule', hits: 412, timeUs: undefined, avgUs: undefined, s2: undefined},
		{function: 'vfs_read', hits: 300, timeUs: undefined, avgUs: undefined, s2: undefined},
	]);
});

test('function profiler: CPUs merge into one row per function', t => {
	const merged = mergeFunctionProfiles([parseFunctionProfile(fixture('function0')), parseFunctionProfile(fixture('function1'))]);
	t.deepEqual(merged.map(row => [row.function, row.hits]), [
		['schedule', 500], ['vfs_read', 400], ['do_sys_openat2', 10], ['a_very_long_function_name_that', 1],
	]);
	const read = merged.find(row => row.function === 'vfs_read')!;
	t.is(read.timeUs, 1940.011);
	t.is(Math.round(read.avgUs! * 1000) / 1000, 4.85);
	// Same-mean halves with the same variance merge to about that variance plus the spread of the means.
	t.true(read.s2! > 1.21 && read.s2! < 2.5, `s2 ${read.s2}`);
	// A lone CPU's row merges to itself.
	const alone = mergeFunctionProfiles([parseFunctionProfile(fixture('function0'))]).find(row => row.function === 'vfs_read')!;
	t.is(Math.round(alone.s2! * 1000) / 1000, 2.07);
});

test('kprobe_profile and uprobe_profile', t => {
	t.deepEqual(parseProbeProfile(fixture('kprobe_profile'), 'kprobe'), [
		{event: 'myopen', hits: 42, misses: 0},
		{event: 'ftts_read', hits: 1000, misses: 3},
	]);
	t.deepEqual(parseProbeProfile(fixture('uprobe_profile'), 'uprobe'), [
		{file: '/usr/bin/bash', event: 'readline', hits: 7},
		{file: '/usr/lib/x86_64-linux-gnu/libc.so.6', event: 'malloc', hits: 123_456},
	]);
});

test('hist output: execname keys and totals', t => {
	const [histogram] = parseHist(fixture('hist-execname'));
	t.truthy(histogram);
	t.false(histogram!.paused);
	t.deepEqual(histogram!.totals, {hits: 103, entries: 2, dropped: 0});
	t.deepEqual(histogram!.records.map(record => [record.key['common_pid']?.comm, record.key['common_pid']?.number, record.hitcount]), [
		['sshd', 812, 3], ['node', 1234, 100],
	]);
});

test('hist output: two triggers, string keys with commas, log2, sym, buckets, values', t => {
	const histograms = parseHist(fixture('hist-multi'));
	t.is(histograms.length, 2);
	const [files, sites] = histograms as [typeof histograms[0], typeof histograms[0]];
	t.true(files.paused);
	t.is(files.trigger, 'hist:keys=filename,ret.log2:vals=hitcount,bytes:sort=bytes.descending:size=2048 if ret > 0');
	t.deepEqual(files.totals, {hits: 3, entries: 2, dropped: 5});
	t.is(files.records[0]!.key['filename']!.raw, '/etc/some file, with comma');
	t.deepEqual(files.records[0]!.key['ret']!.range, [512, 1024]);
	t.deepEqual(files.records[0]!.values, {bytes: 2048});
	t.is(files.records[1]!.key['ret']!.number, 0);
	t.is(sites.records.length, 1);
	t.is(sites.records[0]!.key['call_site']!.symbol, 'kmalloc_reserve');
	t.is(sites.records[0]!.key['call_site']!.address, 'ffffffff811cdb6e');
	t.deepEqual(sites.records[0]!.key['len']!.range, [100, 199]);
	t.is(sites.records[0]!.hitcount, 4);
});

const openatFormat = parseEventFormat(`name: sys_enter_openat
ID: 600
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:int flags;	offset:32;	size:8;	signed:0;
	field:__data_loc char[] name;	offset:40;	size:4;	signed:0;

print fmt: "dfd: 0x%08lx", ((unsigned long)(REC->dfd))
`, 'syscalls');

const builds = test.macro({
	exec(t: ExecutionContext, spec: HistTriggerSpec, expected: string) {
		t.is(formatHistTrigger(spec, openatFormat), expected);
	},
	title: (_title, _spec, expected: string) => `hist builder: ${expected}`,
});

test(builds, {keys: ['common_pid.execname']}, 'hist:keys=common_pid.execname:vals=hitcount');
test(builds, {keys: [{field: 'common_pid', modifier: 'execname'}], values: ['dfd'], sort: [{field: 'hitcount', descending: true}], size: 4096}, 'hist:keys=common_pid.execname:vals=hitcount,dfd:sort=hitcount.descending:size=4096');
test(builds, {keys: ['flags.hex', 'dfd.log2'], filter: 'dfd > 2', paused: true}, 'hist:keys=flags.hex,dfd.log2:vals=hitcount:pause if dfd > 2');
test(builds, {keys: [{field: 'dfd', modifier: 'buckets', buckets: 10}], name: 'shared'}, 'hist:keys=dfd.buckets=10:vals=hitcount:name=shared');
test(builds, {keys: ['filename.sym', 'name'], sort: ['name']}, 'hist:keys=filename.sym,name:vals=hitcount:sort=name');

const refuses = test.macro({
	exec(t: ExecutionContext, spec: HistTriggerSpec, message: RegExp) {
		t.throws(() => formatHistTrigger(spec, openatFormat), {instanceOf: TracefsError, message});
	},
	title: (_title, _spec, message: RegExp) => `hist builder refuses: ${message.source}`,
});

test(refuses, {keys: []}, /at least one key/);
test(refuses, {keys: ['a', 'b', 'c', 'd']}, /at most 3 keys/);
test(refuses, {keys: ['nosuch']}, /not a field of syscalls:sys_enter_openat/);
test(refuses, {keys: ['dfd.bogus']}, /unknown modifier/);
test(refuses, {keys: ['dfd.buckets']}, /needs a bucket size/);
test(refuses, {keys: ['dfd.execname']}, /applies to a PID field/);
test(refuses, {keys: ['name.log2']}, /is a string/);
test(refuses, {keys: ['dfd'], values: ['name']}, /values must be numbers/);
test(refuses, {keys: ['dfd'], sort: ['flags']}, /neither a key, a value nor hitcount/);
test(refuses, {keys: ['dfd'], size: 0}, /size 0/);
test(refuses, {keys: ['dfd'], filter: 'dfd > 1\nhist:keys=x'}, /newline/);

test('pause, continue and clear keep the keys and the filter', t => {
	const trigger = 'hist:keys=common_pid.execname:vals=hitcount if dfd > 2';
	t.is(histControl(trigger, 'pause'), 'hist:keys=common_pid.execname:vals=hitcount:pause if dfd > 2');
	t.is(histControl(trigger, 'continue'), 'hist:keys=common_pid.execname:vals=hitcount:cont if dfd > 2');
	t.is(histControl('hist:keys=x:pause', 'clear'), 'hist:keys=x:clear');
});
