import test from 'ava';
import type {ExecutionContext} from 'ava';
import {
	TracefsError,
	defaultEventName,
	formatProbeDefinition,
	mapCaretToSource,
	parseFetchArg,
	parseProbeDefinition,
	probeCommand,
	type FetchArg,
	type ProbeDefinition,
	type ProbeKind,
} from '../src/index.js';

// ---- parse -> format round trips ----------------------------------------------------

const roundTrip = test.macro({
	exec(t: ExecutionContext, kind: ProbeKind, text: string, expected: string) {
		const parsed = parseProbeDefinition(text, kind);
		t.is(formatProbeDefinition(parsed), expected);
		// What we write parses back to the same definition.
		t.is(formatProbeDefinition(parseProbeDefinition(expected, kind)), expected);
	},
	title: (_title, kind: ProbeKind, text: string) => `${kind} ${text}`,
});

test(roundTrip, 'kprobe', 'p:do_sys_open', 'p:do_sys_open do_sys_open');
test(roundTrip, 'kprobe', 'r:do_sys_open', 'r:do_sys_open_ret do_sys_open');
test(roundTrip, 'kprobe', 'p:myopen do_sys_open', 'p:myopen do_sys_open');
test(roundTrip, 'kprobe', 'p:grp/myopen do_sys_open', 'p:grp/myopen do_sys_open');
test(roundTrip, 'kprobe', 'r10:myret do_sys_open ret=$retval', 'r10:myret do_sys_open ret=$retval');
test(roundTrip, 'kprobe', 'p:do_sys_openat2  file=+0(%si):string  dfd=%di:s32', 'p:do_sys_openat2 do_sys_openat2 file=+0(%si):string dfd=%di:s32');
test(roundTrip, 'kprobe', 'p:do_sys_openat2 file=+0(+8(%si)):ustring', 'p:do_sys_openat2 do_sys_openat2 file=+0(+8(%si)):ustring');
test(roundTrip, 'kprobe', 'p:vfs_read+4 %di %si:x64', 'p:vfs_read_4 vfs_read+4 %di %si:x64');
test(roundTrip, 'kprobe', 'p:ext4:ext4_file_open', 'p:ext4_file_open ext4:ext4_file_open');
test(roundTrip, 'kprobe', 'p:at 0xffffffff81000000', 'p:at 0xffffffff81000000');
test(roundTrip, 'kprobe', 'p:vfs_read $comm $stack $stack3 $arg2:u32', 'p:vfs_read vfs_read $comm $stack $stack3 $arg2:u32');
test(roundTrip, 'kprobe', 'p:vfs_read j=@jiffies:u64 k=@jiffies+8 m=@jiffies-16 a=@0xffff1000', 'p:vfs_read vfs_read j=@jiffies:u64 k=@jiffies+8 m=@jiffies-16 a=@0xffff1000');
test(roundTrip, 'kprobe', 'p:vfs_read f=-8(%bp):b4@2/32 arr=+0(%si):u32[4]', 'p:vfs_read vfs_read f=-8(%bp):b4@2/32 arr=+0(%si):u32[4]');
test(roundTrip, 'kprobe', 'p:vfs_read u=+u0(%si):u8 s=%ax:symbol', 'p:vfs_read vfs_read u=+u0(%si):u8 s=%ax:symbol');
test(roundTrip, 'kprobe', 'p:vfs_read%return r=$retval', 'r:vfs_read_ret vfs_read r=$retval');
test(roundTrip, 'uprobe', 'p:/bin/bash:0x4245c0', 'p:p_bash_0x4245c0 /bin/bash:0x4245c0');
test(roundTrip, 'uprobe', 'r:/bin/bash:0x4245c0 ret=$retval', 'r:r_bash_0x4245c0 /bin/bash:0x4245c0 ret=$retval');
test(roundTrip, 'uprobe', 'p:myread /bin/bash:0x4245c0 %di', 'p:myread /bin/bash:0x4245c0 %di');
test(roundTrip, 'uprobe', 'p:/lib/libc.so.6:0x98930 size=%di:u64', 'p:p_libc_so_6_0x98930 /lib/libc.so.6:0x98930 size=%di:u64');

// ---- parsed structure ----------------------------------------------------------------

const parsesTo = test.macro({
	exec(t: ExecutionContext, kind: ProbeKind, text: string, expected: Partial<ProbeDefinition>) {
		const {source, ...parsed} = parseProbeDefinition(text, kind);
		t.like(parsed, expected);
		t.is(source.text, text);
	},
	title: (_title, kind: ProbeKind, text: string) => `parses ${kind} ${text}`,
});

test(parsesTo, 'uprobe', 'p:bash:readline', {probe: 'entry', event: undefined, location: {type: 'file', file: 'bash', symbol: 'readline', offset: 0n}, args: []});
test(parsesTo, 'uprobe', 'r:libc:fopen file=$retval', {probe: 'return', location: {type: 'file', file: 'libc', symbol: 'fopen', offset: 0n}});
test(parsesTo, 'uprobe', 'p:bash:readline+4', {location: {type: 'file', file: 'bash', symbol: 'readline', offset: 4n}});
test(parsesTo, 'uprobe', 'p:/bin/bash:0x4245c0', {location: {type: 'file', file: '/bin/bash', symbol: undefined, offset: 0x42_45_c0n}});
test(parsesTo, 'kprobe', 'r5:g/n do_sys_open', {probe: 'return', maxActive: 5, group: 'g', event: 'n', location: {type: 'symbol', symbol: 'do_sys_open', offset: 0}});
test(parsesTo, 'kprobe', 'p:vfs_read+0x10', {location: {type: 'symbol', symbol: 'vfs_read', offset: 16}});

test('uprobe symbols are named perf-tools style and must be resolved before writing', t => {
	const parsed = parseProbeDefinition('p:bash:readline', 'uprobe');
	t.is(defaultEventName(parsed), 'readline');
	t.is(defaultEventName(parseProbeDefinition('r:bash:readline', 'uprobe')), 'readline_ret');
	t.throws(() => formatProbeDefinition(parsed), {message: /must be resolved/});
});

const fetchArg = test.macro({
	exec(t: ExecutionContext, text: string, expected: FetchArg) {
		t.deepEqual(parseFetchArg(text), expected);
	},
	title: (_title, text: string) => `fetch arg ${text}`,
});

test(fetchArg, '%di', {name: undefined, value: {kind: 'register', register: 'di'}, type: undefined});
test(fetchArg, 'f=+0(%si):string', {name: 'f', value: {kind: 'deref', offset: 0, user: false, inner: {kind: 'register', register: 'si'}}, type: {base: 'string', array: undefined}});
test(fetchArg, 'x=-0x10(+8(%ax)):s16', {name: 'x', value: {kind: 'deref', offset: -16, user: false, inner: {kind: 'deref', offset: 8, user: false, inner: {kind: 'register', register: 'ax'}}}, type: {base: 's16', array: undefined}});
test(fetchArg, 'b=%ax:b3@5/8', {name: 'b', value: {kind: 'register', register: 'ax'}, type: {base: 'bitfield', width: 3, bitOffset: 5, container: 8}});
test(fetchArg, '$stack2', {name: undefined, value: {kind: 'stack', index: 2}, type: undefined});
test(fetchArg, 'a=$arg1:x32[2]', {name: 'a', value: {kind: 'arg', index: 1}, type: {base: 'x32', array: 2}});
test(fetchArg, 'c=$comm:string', {name: 'c', value: {kind: 'comm'}, type: {base: 'string', array: undefined}});

// ---- refused before writing -----------------------------------------------------------

const refused = test.macro({
	exec(t: ExecutionContext, kind: ProbeKind, text: string, message: RegExp) {
		const error = t.throws(() => formatProbeDefinition(parseProbeDefinition(text, kind)), {instanceOf: TracefsError, message});
		t.true(error?.usage);
	},
	title: (_title, kind: ProbeKind, text: string) => `refuses ${kind} ${JSON.stringify(text)}`,
});

test(refused, 'kprobe', '', /empty/);
test(refused, 'kprobe', 'x:do_sys_open', /must start with p: .* or r:/);
test(refused, 'kprobe', 'p:', /has no function/);
test(refused, 'kprobe', 'p:do_sys_open\nr:evil', /newline/);
test(refused, 'kprobe', 'p:do_sys_open f=%rdi', /unknown register "%rdi"/);
test(refused, 'kprobe', 'p:do_sys_open f=%zz', /unknown register/);
test(refused, 'kprobe', 'p:do_sys_open r=$retval', /\$retval is only for return probes/);
test(refused, 'kprobe', 'p:do_sys_open f=+0(%si):strnig', /unknown fetch type "strnig"/);
test(refused, 'kprobe', 'p:do_sys_open f=%si:string', /must be fetched through memory/);
test(refused, 'kprobe', 'p:do_sys_open f=%si:b9@0/8', /does not fit/);
test(refused, 'kprobe', 'p:do_sys_open f=%si:b1@0/12', /container size/);
test(refused, 'kprobe', 'p:do_sys_open a=%si b=%di a=%dx', /used twice/);
test(refused, 'kprobe', 'p:do_sys_open 1a=%si', /not a valid name/);
test(refused, 'kprobe', 'p:do_sys_open $foo', /unknown variable/);
test(refused, 'kprobe', 'p:do_sys_open $arg0', /start at 1/);
test(refused, 'kprobe', 'p:9bad do_sys_open', /event name "9bad" is not a valid name/);
test(refused, 'kprobe', 'p:g-x/ev do_sys_open', /group "g-x" is not a valid name/);
test(refused, 'kprobe', 'r:do_sys_open+4', /kretprobe goes on a function entry/);
test(refused, 'kprobe', 'p5:do_sys_open', /MAXACTIVE/);
test(refused, 'kprobe', 'p:vfs_read+8 $arg1', /\$argN is only for kprobes on a function entry/);
test(refused, 'uprobe', 'p:bash', /not FILE:SYMBOL/);
test(refused, 'uprobe', 'p:/bin/bash:0x10 x=@jiffies', /@SYM is only for kprobes/);
test(refused, 'uprobe', 'p:/bin/bash:0x10(0x20)', /reference counter/);

// ---- carets: the kernel's echo mapped onto the user's text ------------------------------

test('a caret in the location maps onto the perf-tools shorthand', t => {
	const user = 'p:no_such_fn';
	const definition = {...parseProbeDefinition(user, 'kprobe'), group: 'ftrace_ts_1'};
	const segments = probeCommand(definition);
	const written = segments.map(segment => segment.text).join(' ');
	t.is(written, 'p:ftrace_ts_1/no_such_fn no_such_fn');
	// Kernel: "Invalid probed address or symbol", caret under argv[1].
	t.is(mapCaretToSource(segments, written, written.indexOf(' ') + 1), 2);
});

test('a caret inside a fetch arg keeps its offset, across extra spaces', t => {
	const user = 'p:myopen   do_sys_openat2    f=+0(%si):string   g=+0(%di):u32';
	const definition = {...parseProbeDefinition(user, 'kprobe'), group: 'ftrace_ts_1'};
	const segments = probeCommand(definition);
	const written = segments.map(segment => segment.text).join(' ');
	const caretInWritten = written.indexOf('%di');
	t.is(mapCaretToSource(segments, written, caretInWritten), user.indexOf('%di'));
	// The head was rewritten (group added): point at its start, not at a guess.
	t.is(mapCaretToSource(segments, written, 5), 0);
	// A different command is not ours: no caret.
	t.is(mapCaretToSource(segments, 'p:other/x y', 3), undefined);
});

test('a caret in a resolved uprobe target points at the user\'s target', t => {
	const user = 'p:bash:readline x=%di';
	const parsed = parseProbeDefinition(user, 'uprobe');
	const definition = {...parsed, group: 'ftrace_ts_1', event: 'readline', location: {type: 'file' as const, file: '/usr/bin/bash', offset: 0xC6_C20n}};
	const segments = probeCommand(definition);
	const written = segments.map(segment => segment.text).join(' ');
	t.is(written, 'p:ftrace_ts_1/readline /usr/bin/bash:0xc6c20 x=%di');
	t.is(mapCaretToSource(segments, written, written.indexOf('/usr')), 2);
	t.is(mapCaretToSource(segments, written, written.indexOf('%di')), user.indexOf('%di'));
});
