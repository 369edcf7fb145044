/**
 * Folded stacks ("frame;frame;frame count" lines, root first) from our own
 * tracers, in the format stackcollapse-perf and flamegraph read.
 *
 * eg, from ftrace's stacktrace lines (innermost first):
 *
 *     const counter = new FoldedCounter();
 *     counter.add(foldKernelStack(['=> vfs_read+0x5/0x20', '=> ksys_read+0x6b/0xf0'], 'dd'));
 *     counter.toString(); // "dd;ksys_read;vfs_read 1\n"
 */

const framePrefixRe = /^\s*=>\s*/;
// "func+0x1c/0x30", "func+0x1c" and " [module]" suffixes as ftrace prints them.
const offsetRe = /\+0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i;
const moduleRe = /\s+\[[^\]]+\]$/;
const addressRe = /^<?(0x)?[0-9a-f]+>?$/i;

/** Cleans one stack frame: no `=>` marker, offsets or module; `;` becomes `:`. */
export function cleanKernelFrame(frame: string): string {
	let name = frame.replace(framePrefixRe, '').trim();
	name = name.replace(moduleRe, '').replace(offsetRe, '');
	if (name === '' || addressRe.test(name)) return '[unknown]';
	return name.replaceAll(';', ':');
}

/**
 * Turns a kernel stack, innermost frame first (the order of ftrace's `=>`
 * lines), into a folded key: `comm;outermost;...;innermost`, the comm (spaces
 * as `_`) omitted when not given. Frames become bare function names
 * (see {@link cleanKernelFrame}); `_[k]`-style annotation is not added.
 * Returns '' for an empty stack without comm.
 */
export function foldKernelStack(frames: readonly string[], comm?: string): string {
	const parts: string[] = [];
	if (comm !== undefined) parts.push(comm.replaceAll(' ', '_').replaceAll(';', ':'));
	for (let i = frames.length - 1; i >= 0; i--) parts.push(cleanKernelFrame(frames[i]!));
	return parts.join(';');
}

/**
 * Counts folded stacks. {@link lines} and {@link toString} give them in the
 * order FlameGraph's Perl scripts print them (plain string sort), ready for
 * flamegraph or flamegraph.pl.
 */
export class FoldedCounter {
	readonly #counts = new Map<string, number>();

	/** Adds `count` (default 1) to a stack key. Throws RangeError for a negative or non-finite count. */
	add(stackKey: string, count = 1): void {
		if (!Number.isFinite(count) || count < 0) throw new RangeError(`count must be a finite number >= 0, not ${count}`);
		this.#counts.set(stackKey, (this.#counts.get(stackKey) ?? 0) + count);
	}

	/** The count for a key (0 when absent). */
	get(stackKey: string): number {
		return this.#counts.get(stackKey) ?? 0;
	}

	/** Number of distinct stacks. */
	get size(): number {
		return this.#counts.size;
	}

	/** Sum of all counts. */
	get total(): number {
		let sum = 0;
		for (const count of this.#counts.values()) sum += count;
		return sum;
	}

	/** Sorted `stack count` lines, without newlines. */
	lines(): string[] {
		return [...this.#counts.keys()].sort().map((key) => `${key} ${this.#counts.get(key)!}`);
	}

	/** The folded text: sorted lines, each ending in a newline ('' when empty). */
	toString(): string {
		const lines = this.lines();
		return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
	}
}
