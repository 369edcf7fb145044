import {execFileSync} from 'node:child_process';
import {Tracefs} from '../src/index.js';

/** The real tracefs of this machine (mounted if needed; tests run as root). */
export async function liveTracefs(): Promise<Tracefs> {
	return Tracefs.find();
}

/** A per-test instance name: ours, unique, and reclaimable by owner PID. */
export function testInstanceName(tag: string): string {
	return `ftrace_ts_${process.pid}_test_${tag}`;
}

/** The canonical tracing-state dump of ../shared/tools/tracefs-state. */
export function tracefsState(): string {
	const script = new URL('../../../../../shared/tools/tracefs-state', import.meta.url).pathname;
	return execFileSync('bash', [script], {encoding: 'utf8'});
}
