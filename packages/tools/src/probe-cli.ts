import {parseTraceLine, type ProbeKind} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';
import {FoldedCounter, foldKernelStack} from './folded.js';
import {commonValues, funcFlags} from './func-cli.js';
import {probeTrace} from './probe-trace.js';
import {withExitSignals} from './session.js';
import {LostReport} from './tool-records.js';

/** The flags kprobe and uprobe share, for meow. */
export const probeFlags = {
	...funcFlags,
	force: {type: 'boolean', shortFlag: 'F'},
	headers: {type: 'boolean', shortFlag: 'H'},
	stack: {type: 'boolean', shortFlag: 's'},
	view: {type: 'boolean', shortFlag: 'v'},
	folded: {type: 'boolean'},
} as const;

/** The flags kprobe and uprobe share, as meow parsed them. */
export interface ProbeCliFlags {
	readonly force?: boolean | undefined;
	readonly headers?: boolean | undefined;
	readonly stack?: boolean | undefined;
	readonly view?: boolean | undefined;
	readonly json?: boolean | undefined;
	readonly duration?: string | undefined;
	readonly pid?: string | undefined;
	readonly tid?: string | undefined;
	readonly folded?: boolean | undefined;
}

/** kprobe/uprobe main: definition [filter] -> the kernel's trace lines (or JSON records). */
export async function runProbeCli(kind: ProbeKind, input: readonly string[], flags: ProbeCliFlags): Promise<void> {
	if (input.length === 0) {
		throw new UsageError(`a ${kind} definition is needed; try -h`);
	}

	if (input.length > 2) {
		throw new UsageError(`too many arguments: "${input[2]!}" (quote the definition and the filter)`);
	}

	const values = commonValues(flags);
	if (values.durationSec !== undefined && flags.view) {
		throw new UsageError('use either -d or -v');
	}

	if (flags.folded && (!flags.stack || flags.json || flags.view)) {
		throw new UsageError('--folded needs -s (the stacks to fold), and neither --json nor -v');
	}

	// --folded: stdout carries only the folded stacks; the talk goes to stderr.
	const folded = flags.folded ? new StackFolder() : undefined;
	const out = (text: string) => (folded ? process.stderr : process.stdout).write(text);
	const lost = new LostReport();
	await withExitSignals(async signal => {
		for await (const record of probeTrace(kind, {
			definition: input[0]!,
			filter: input[1],
			...values,
			stacks: flags.stack,
			headers: flags.headers,
			view: flags.view,
			force: flags.force,
			signal,
		})) {
			if (record.kind === 'lost') {
				process.stderr.write(lost.gap(record.count, record.cpu));
			}

			if (flags.json) {
				process.stdout.write(`${JSON.stringify(record)}\n`);
				continue;
			}

			switch (record.kind) {
				case 'format': {
					process.stdout.write(record.text);
					break;
				}

				case 'start': {
					const detail = kind === 'uprobe' ? ` (${record.command.replace(/^([pr]\d*):[^/]+\//, '$1:')})` : '';
					const when = values.durationSec === undefined ? '. Ctrl-C to end.' : ` for ${values.durationSec} seconds (buffered)...`;
					out(`Tracing ${kind} ${record.probe.event}${detail}${when}\n`);
					break;
				}

				case 'note': {
					process.stderr.write(`${kind}: ${record.text}\n`);
					break;
				}

				case 'line': {
					if (folded) {
						folded.accept(record.text);
					} else {
						process.stdout.write(`${record.text}\n`);
					}

					break;
				}
			}
		}

		if (folded) {
			process.stdout.write(folded.finish());
		}

		if (flags.json && lost.any) {
			process.stdout.write(`${JSON.stringify({kind: 'lost-total', ...lost.total()})}\n`);
		}
	}, flags.view || flags.json ? false : folded ? 'stderr' : 'stdout');
	process.stderr.write(lost.totalLine());
}

/** Kernel trace lines in, folded stacks out: each event's " => " frames under its comm. */
class StackFolder {
	readonly #counter = new FoldedCounter();
	#comm: string | undefined;
	#frames: string[] = [];

	accept(line: string): void {
		const parsed = parseTraceLine(line);
		if (parsed.kind === 'frame') {
			this.#frames.push(parsed.text);
		} else if (parsed.kind === 'body') {
			this.#flush();
			this.#comm = parsed.context.comm;
		}
	}

	finish(): string {
		this.#flush();
		return this.#counter.toString();
	}

	#flush(): void {
		if (this.#comm !== undefined && this.#frames.length > 0) {
			this.#counter.add(foldKernelStack(this.#frames, this.#comm));
		}

		this.#comm = undefined;
		this.#frames = [];
	}
}
