import test from 'ava';
import {FoldedCounter, cleanKernelFrame, foldKernelStack} from '../src/folded.js';
import {flameGraphFromFolded} from '../src/flamegraph.js';

const cleans = test.macro({
	exec(t, input: string, expected: string) {
		t.is(cleanKernelFrame(input), expected);
	},
	title: (_, input: string) => `cleanKernelFrame(${JSON.stringify(input)})`,
});

test(cleans, ' => vfs_read+0x5/0x20', 'vfs_read');
test(cleans, '=> ext4_file_read_iter+0x1c/0x30 [ext4]', 'ext4_file_read_iter');
test(cleans, ' => do_syscall_64', 'do_syscall_64');
test(cleans, ' => <ffffffff81234567>', '[unknown]');
test(cleans, ' => 0xffffffffc0a1b2c3', '[unknown]');
test(cleans, ' => odd;name', 'odd:name');

test('foldKernelStack: innermost first in, root first out, comm leads', (t) => {
	const frames = [' => vfs_read+0x5/0x20', ' => ksys_read+0x6b/0xf0', ' => do_syscall_64+0x38/0x90'];
	t.is(foldKernelStack(frames, 'my app'), 'my_app;do_syscall_64;ksys_read;vfs_read');
	t.is(foldKernelStack(frames), 'do_syscall_64;ksys_read;vfs_read');
	t.is(foldKernelStack([]), '');
});

test('FoldedCounter sums and sorts like the Perl scripts', (t) => {
	const counter = new FoldedCounter();
	counter.add('b;x');
	counter.add('a;y', 2);
	counter.add('b;x', 3);
	counter.add('B;z');
	t.is(counter.size, 3);
	t.is(counter.total, 7);
	t.is(counter.get('b;x'), 4);
	t.is(counter.get('nope'), 0);
	t.deepEqual(counter.lines(), ['B;z 1', 'a;y 2', 'b;x 4']);
	t.is(counter.toString(), 'B;z 1\na;y 2\nb;x 4\n');
	t.throws(() => counter.add('x', -1), {instanceOf: RangeError});
	t.is(new FoldedCounter().toString(), '');
});

test('folded output feeds flamegraph', (t) => {
	const counter = new FoldedCounter();
	counter.add(foldKernelStack([' => vfs_read', ' => ksys_read'], 'dd'), 150);
	const result = flameGraphFromFolded(counter.toString());
	t.true(result.ok);
	t.is(result.frames, 4);
	t.regex(result.svg, /<title>vfs_read \(150 samples, 100.00%\)<\/title>/);
});
