import {execFileSync} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const source = new URL('../../test/fixtures/probes/counted.c', import.meta.url).pathname;

/** Compile the counted.c fixture (PIE or not) into a fresh temp dir; returns the binary's path. */
export function compileCounted(pie: boolean): string {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-elf-'));
	const output = join(dir, pie ? 'counted-pie' : 'counted-nopie');
	execFileSync('gcc', ['-O1', '-g0', pie ? '-pie' : '-no-pie', pie ? '-fPIE' : '-fno-PIE', '-o', output, source]);
	return output;
}

/** readelf's view of a symbol (an independent oracle for the tests only). */
export function readelfSymbol(path: string, name: string): bigint | undefined {
	let text: string;
	try {
		text = execFileSync('readelf', ['-sW', path], {encoding: 'utf8'});
	} catch {
		return undefined;
	}

	for (const line of text.split('\n')) {
		const words = line.trim().split(/\s+/);
		if (words[7]?.split('@')[0] === name && words[3] === 'FUNC' && words[6] !== 'UND') {
			return BigInt(`0x${words[1]!}`);
		}
	}

	return undefined;
}

/**
 * The parts of the tracefs-state dump that belong to this process (names
 * ftrace_ts_<our pid>...): other engineers' tests run concurrently, so a
 * whole-machine diff would be theirs as much as ours. Empty = nothing of ours.
 */
export function ownState(dump: string): string[] {
	const mark = `ftrace_ts_${process.pid}`;
	return dump.split('\n').flatMap(line => line.split('|')).filter(part => part.includes(mark));
}
