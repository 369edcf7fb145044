/**
 * The perf_events workflow in one call: `perf record -g`, `perf script`,
 * fold (streamed, never stored), render the SVG.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerfStackCollapser, type CollapseOptions } from './stackcollapse-perf.js';
import { renderFlameGraph, type FlameGraphOptions, type FlameGraphResult } from './flamegraph.js';

export interface PerfFlamegraphOptions {
	/** Command to profile (argv). Without it, `duration` is required. */
	command?: readonly string[];
	/** Seconds to record (runs `sleep N` as the workload when no command). */
	duration?: number;
	/** Sampling frequency in Hz (default 99, as the perf-tools examples). */
	frequency?: number;
	/** Profile all CPUs (-a). */
	allCpus?: boolean;
	/** Profile this process (-p PID). */
	pid?: number;
	/** perf event (default cpu-clock, which works without hardware PMCs). */
	event?: string;
	/** More arguments for `perf record`. */
	recordArgs?: readonly string[];
	collapse?: CollapseOptions;
	flamegraph?: FlameGraphOptions;
	/** perf executable (default `perf` from PATH). */
	perf?: string;
	/** Stops recording early (perf gets SIGINT); the graph is still drawn. */
	signal?: AbortSignal;
	/** Receives perf's own stderr lines and tool warnings. */
	onMessage?: (line: string) => void;
}

export interface PerfFlamegraphResult extends FlameGraphResult {
	/** The folded stacks, sorted, newline-terminated. */
	folded: string;
}

/** Thrown when perf is missing or fails; the message says what to do next. */
export class PerfError extends Error {
	override readonly name = 'PerfError';
}

/** Whether `perf` runs here. */
export function isPerfAvailable(perf = 'perf'): boolean {
	const probe = spawnSync(perf, ['--version'], { stdio: 'ignore' });
	return probe.error === undefined && probe.status === 0;
}

function run(perf: string, args: string[], onStdout: ((chunk: Buffer) => void) | undefined, options: PerfFlamegraphOptions): Promise<void> {
	return new Promise((resolve, reject) => {
		// The profiled command's stdout goes to our stderr: our stdout may be the SVG.
		const child = spawn(perf, args, { stdio: ['inherit', onStdout ? 'pipe' : 2, 'pipe'] });
		let stderr = '';
		child.stderr!.setEncoding('utf8');
		child.stderr!.on('data', (text: string) => {
			stderr += text;
			for (const line of text.split('\n')) if (line !== '') options.onMessage?.(line);
		});
		if (onStdout) child.stdout!.on('data', onStdout);
		const abort = () => child.kill('SIGINT');
		options.signal?.addEventListener('abort', abort, { once: true });
		child.on('error', (error: NodeJS.ErrnoException) => {
			options.signal?.removeEventListener('abort', abort);
			reject(error.code === 'ENOENT'
				? new PerfError(`${perf} not found: install it (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r))`)
				: error);
		});
		child.on('close', (code, signal) => {
			options.signal?.removeEventListener('abort', abort);
			// perf record exits non-zero when interrupted; the data is still good.
			if (code === 0 || options.signal?.aborted || signal === 'SIGINT') resolve();
			else {
				const hint = /paranoid|Permission|EACCES|EPERM/i.test(stderr)
					? ': not permitted (run as root, or lower /proc/sys/kernel/perf_event_paranoid)'
					: '';
				reject(new PerfError(`perf ${args[0]} failed (exit ${code ?? signal})${hint}`));
			}
		});
	});
}

/**
 * Records with `perf record -g`, folds `perf script` output and renders it.
 * Returns the SVG, the folded text and counts. Throws {@link PerfError} when
 * perf is missing or fails, RangeError for bad options. The temporary
 * perf.data is always removed.
 */
export async function perfFlamegraph(options: PerfFlamegraphOptions): Promise<PerfFlamegraphResult> {
	const perf = options.perf ?? 'perf';
	const command = options.command ?? [];
	if (command.length === 0 && options.duration === undefined) throw new RangeError('give a command to profile or a duration');
	if (options.duration !== undefined && !(options.duration > 0)) throw new RangeError(`duration must be > 0 seconds, not ${options.duration}`);
	const frequency = options.frequency ?? 99;
	if (!Number.isInteger(frequency) || frequency <= 0) throw new RangeError(`frequency must be a positive integer, not ${frequency}`);

	const dir = mkdtempSync(join(tmpdir(), 'perf-flamegraph-'));
	try {
		const data = join(dir, 'perf.data');
		const record = ['record', '-F', String(frequency), '-g', '-e', options.event ?? 'cpu-clock', '-o', data];
		if (options.allCpus) record.push('-a');
		if (options.pid !== undefined) record.push('-p', String(options.pid));
		record.push(...(options.recordArgs ?? []), '--');
		if (command.length > 0) record.push(...command);
		else record.push('sleep', String(options.duration));
		await run(perf, record, undefined, options);

		const collapser = new PerfStackCollapser({ ...options.collapse, onWarning: options.collapse?.onWarning ?? options.onMessage });
		await run(perf, ['script', '-i', data], (chunk) => collapser.write(chunk.toString('latin1')), { ...options, signal: undefined });
		collapser.end();
		const lines = collapser.lines();
		const result = renderFlameGraph(lines, { onWarning: options.onMessage, ...options.flamegraph });
		return { ...result, folded: lines.length === 0 ? '' : `${lines.join('\n')}\n` };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}
