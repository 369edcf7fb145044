/**
 * flamegraph bench: our stackcollapse-perf + flamegraph against FlameGraph's
 * stackcollapse-perf.pl + flamegraph.pl on the same generated perf script
 * input (deterministic, ~40 MB). Each tool runs as its own process, one
 * after the other (collapse to a file, then render it), as a user's
 * `a < perf.script > out.folded; b out.folded > out.svg` does; ours run
 * through their #! lines, as installed bins do. Per side: CPU
 * (user + system) and wall time summed over the two stages, best of five
 * runs taken in turn with the Perl side's (ours, perl, ours, ...); memory
 * is the larger peak RSS of the two stages (/usr/bin/time's
 * maximum resident set size of each process), and the larger peak of
 * private memory (RssAnon: heap, stacks, JIT code; sampled every 5 ms).
 * RSS also counts the interpreter's own mapped program text: node's is
 * ~34 MB before any script runs (an empty `node -e 0` peaks at ~40 MB RSS,
 * more than flamegraph.pl's whole run), perl's ~5 MB; private memory is
 * what the work itself costs. Both folded outputs must be
 * byte-identical and both SVGs must draw the same frames (the layout and
 * the frame elements, sorted: flamegraph.pl writes them in hash order).
 * Then the one-process path, `flamegraph --perf < perf.script > out.svg`,
 * against the Perl pipe as users run it, `stackcollapse-perf.pl < perf.script
 * | flamegraph.pl > out.svg` (a shell pipe, both running at once): CPU of
 * every process, wall time of the whole command, best of five, in turn; the Perl
 * side's memory is the sum of its two processes' peaks (they run at the same
 * time). Its SVG must be byte-identical to our two-step one.
 * The Perl scripts are not shipped: set FLAMEGRAPH_DIR (or put a checkout
 * in /tmp/FlameGraph).
 */
import {spawn} from 'node:child_process';
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const targetBytes = 40 * 1024 * 1024;
const toolsBin = resolve(fileURLToPath(import.meta.url), '../../../packages/tools/dist/bundle');

function findPeer(): string | undefined {
	for (const dir of [process.env['FLAMEGRAPH_DIR'], '/tmp/FlameGraph']) {
		if (dir && existsSync(join(dir, 'stackcollapse-perf.pl')) && existsSync(join(dir, 'flamegraph.pl'))) return dir;
	}
	return undefined;
}

// A small LCG: the same input on every run and machine.
function random(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		return state / 2 ** 32;
	};
}

/** Writes perf script text with user and kernel stacks, a few processes and threads. */
export function generate(path: string): void {
	const rand = random(42);
	const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
	const user = Array.from({length: 600}, (_, i) => `app_func_${i}${i % 7 === 0 ? '(int, char const*)' : ''}`);
	const kernel = Array.from({length: 300}, (_, i) => `kernel_fn_${i}`);
	const libs = ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/app', '/usr/lib/libz.so.1'];
	const comms = ['app', 'app worker', 'gzip', 'java', 'swapper'];
	// A few hundred stack shapes, sampled with a skew, as real profiles are.
	const shapes = Array.from({length: 400}, () => {
		const depth = 5 + Math.floor(rand() * 30);
		const frames: string[] = [];
		for (let d = 0; d < depth; d++) {
			const address = Math.floor(rand() * 2 ** 40).toString(16);
			if (d < 6 && rand() < 0.6) frames.push(`\tffffffff${address.slice(0, 8)} ${pick(kernel)}+0x${(d * 16 + 3).toString(16)} ([kernel.kallsyms])`);
			else if (rand() < 0.05) frames.push(`\t${address} [unknown] ([unknown])`);
			else frames.push(`\t${address} ${pick(user)}+0x${(d * 8 + 1).toString(16)} (${pick(libs)})`);
		}
		return frames.join('\n');
	});
	const fd = openSync(path, 'w');
	let written = 0;
	let time = 1000;
	const buffer: string[] = [];
	while (written < targetBytes) {
		const comm = pick(comms);
		const pid = 1000 + Math.floor(rand() * 8);
		time += 0.001001;
		const shape = shapes[Math.floor(rand() ** 2 * shapes.length)]!;
		const record = `${comm} ${pid}/${pid + Math.floor(rand() * 3)} [00${Math.floor(rand() * 4)}] ${time.toFixed(6)}:    1001001 cpu-clock: \n${shape}\n\n`;
		buffer.push(record);
		written += record.length;
		if (buffer.length >= 2000) {
			writeSync(fd, buffer.join(''));
			buffer.length = 0;
		}
	}
	writeSync(fd, buffer.join(''));
	closeSync(fd);
}

interface Stage {
	/** CPU seconds (user + system). */
	cpu: number;
	wall: number;
	rssKb: number;
	/** Peak private memory (RssAnon), sampled: of the one process, or the sum over a pipe's. */
	anonKb: number;
}

/**
 * Samples the RssAnon of `root` and its descendants every 5 ms (the
 * /usr/bin/time and sh wrappers left out); stop() gives each process's peak.
 */
function watchAnon(root: number): {stop(): number[]} {
	const peaks = new Map<number, number>();
	const sample = (pid: number): void => {
		try {
			const status = readFileSync(`/proc/${pid}/status`, 'utf8');
			const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '';
			const anon = Number(/^RssAnon:\s+(\d+)/m.exec(status)?.[1] ?? 0);
			if (name !== 'time' && name !== 'sh') peaks.set(pid, Math.max(peaks.get(pid) ?? 0, anon));
			for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) sample(Number(child));
		} catch {}
	};
	sample(root);
	const timer = setInterval(() => sample(root), 5);
	return {
		stop() {
			clearInterval(timer);
			return [...peaks.values()];
		},
	};
}

/** Runs one stage under /usr/bin/time for its CPU time and peak RSS (or /proc polling without it). */
function stage(command: string, args: string[], input: string, output: string): Promise<Stage> {
	return new Promise((done, fail) => {
		const useTime = existsSync('/usr/bin/time');
		const inFd = openSync(input, 'r');
		const outFd = openSync(output, 'w');
		const start = process.hrtime.bigint();
		const child = useTime
			? spawn('/usr/bin/time', ['-f', '%U %S %M', command, ...args], {stdio: [inFd, outFd, 'pipe']})
			: spawn(command, args, {stdio: [inFd, outFd, 'pipe']});
		const anon = watchAnon(child.pid!);
		let stderr = '';
		let polledKb = 0;
		const poll = useTime ? undefined : setInterval(() => {
			try {
				const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
				if (match) polledKb = Math.max(polledKb, Number(match[1]));
			} catch {}
		}, 10);
		child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.on('error', fail);
		child.on('close', (code) => {
			const wall = Number(process.hrtime.bigint() - start) / 1e9;
			if (poll) clearInterval(poll);
			const anonKb = Math.max(0, ...anon.stop());
			closeSync(inFd);
			closeSync(outFd);
			if (code !== 0) {
				fail(new Error(`${command} exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
				return;
			}
			const usage = /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(stderr);
			if (useTime && usage) done({cpu: Number(usage[1]) + Number(usage[2]), wall, rssKb: Number(usage[3]), anonKb});
			else done({cpu: wall, wall, rssKb: polledKb, anonKb});
		});
	});
}

interface Run {
	cpu: number;
	wall: number;
	rssMb: number;
	anonMb: number;
	folded: string;
	svg: string;
}

async function pipeline(collapse: [string, string[]], render: [string, string[]], input: string, dir: string, tag: string): Promise<Run> {
	const folded = join(dir, `${tag}.folded`);
	const svg = join(dir, `${tag}.svg`);
	const a = await stage(collapse[0], collapse[1], input, folded);
	const b = await stage(render[0], render[1], folded, svg);
	return {cpu: a.cpu + b.cpu, wall: a.wall + b.wall, rssMb: Math.max(a.rssKb, b.rssKb) / 1024, anonMb: Math.max(a.anonKb, b.anonKb) / 1024, folded, svg};
}

/**
 * A shell pipe `a < input | b > output`, each side under /usr/bin/time:
 * CPU of both processes, wall time of the whole, the sum of their peak RSS.
 */
function shellPipe(a: [string, string[]], b: [string, string[]], input: string, output: string, dir: string): Promise<Stage> {
	const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
	const timed = (command: [string, string[]], file: string) => ['/usr/bin/time', '-f', '%U %S %M', '-o', file, command[0], ...command[1]].map(quote).join(' ');
	const [timeA, timeB] = [join(dir, 'time-a'), join(dir, 'time-b')];
	const script = `${timed(a, timeA)} < ${quote(input)} | ${timed(b, timeB)} > ${quote(output)}`;
	return new Promise((done, fail) => {
		const start = process.hrtime.bigint();
		const child = spawn('/bin/sh', ['-c', script], {stdio: ['ignore', 'ignore', 'pipe']});
		const anon = watchAnon(child.pid!);
		let stderr = '';
		child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.on('error', fail);
		child.on('close', (code) => {
			const wall = Number(process.hrtime.bigint() - start) / 1e9;
			const anonKb = anon.stop().reduce((sum, kb) => sum + kb, 0);
			if (code !== 0) {
				fail(new Error(`${script} exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
				return;
			}
			const [x, y] = [timeA, timeB].map((file) => /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(readFileSync(file, 'utf8'))!);
			done({cpu: Number(x![1]) + Number(x![2]) + Number(y![1]) + Number(y![2]), wall, rssKb: Number(x![3]) + Number(y![3]), anonKb});
		});
	});
}

async function single(command: [string, string[]], input: string, dir: string, tag: string): Promise<Run> {
	const svg = join(dir, `${tag}.svg`);
	const a = await stage(command[0], command[1], input, svg);
	return {cpu: a.cpu, wall: a.wall, rssMb: a.rssKb / 1024, anonMb: a.anonKb / 1024, folded: '', svg};
}

async function piped(a: [string, string[]], b: [string, string[]], input: string, dir: string, tag: string): Promise<Run> {
	const svg = join(dir, `${tag}.svg`);
	const run = await shellPipe(a, b, input, svg, dir);
	return {cpu: run.cpu, wall: run.wall, rssMb: run.rssKb / 1024, anonMb: run.anonKb / 1024, folded: '', svg};
}

/**
 * Each side's best of `times` runs (least CPU), the runs taken in turn
 * (ours, perl, ours, ...) so that a machine speeding up or slowing down
 * meets both sides alike; the memory peaks are the largest seen.
 */
async function bestInTurn(times: number, ours: () => Promise<Run>, perl: () => Promise<Run>): Promise<[Run, Run]> {
	const sides = [ours, perl];
	const results: Array<Run | undefined> = sides.map(() => undefined);
	const peaks = sides.map(() => ({rssMb: 0, anonMb: 0}));
	for (let i = 0; i < times; i++) {
		for (const [index, once] of sides.entries()) {
			const run = await once();
			const peak = peaks[index]!;
			peak.rssMb = Math.max(peak.rssMb, run.rssMb);
			peak.anonMb = Math.max(peak.anonMb, run.anonMb);
			if (!results[index] || run.cpu < results[index]!.cpu) results[index] = run;
		}
	}
	const [a, b] = results.map((run, index) => ({...run!, ...peaks[index]!}));
	return [a!, b!];
}

/** Memory of ours against perl's: private peaks (the ratio) and RSS peaks. */
function memory(ours: Run, perl: Run, how: string): string {
	const mb = (value: number) => Math.round(value);
	return `private memory ${mb(ours.anonMb)} MB vs ${mb(perl.anonMb)} MB (${(ours.anonMb / perl.anonMb).toFixed(2)}x, ${how}), peak rss ${mb(ours.rssMb)} MB vs ${mb(perl.rssMb)} MB (rss counts node's ~34 MB of program text)`;
}

/** A bin as installed bins run: the script itself, through its #! line (node, its flags, its environment). */
function nodeBin(name: string): [string, string[]] {
	return [join(toolsBin, `${name}.js`), []];
}

/** The drawing of an SVG: the <svg> tag, the layout, the frame elements sorted. */
export function drawing(svg: string): string {
	const svgTag = /(<svg [^>]*>)/.exec(svg)?.[1] ?? '';
	const layout = /(<rect x="0.0" y="0".*?)<g id="frames">\n/s.exec(svg)?.[1] ?? '';
	const frames = /<g id="frames">\n(.*)<\/g>\n<\/svg>/s.exec(svg)?.[1] ?? '';
	const blocks = frames.match(/<(?:g|a) [^\n]*>\n.*?\n<\/(?:g|a)>\n/gs) ?? [];
	return `${svgTag}\n${layout}${blocks.sort().join('')}`;
}

function frames(svg: string): number {
	return svg.split('<rect ').length - 2;
}

export default async function run(): Promise<string> {
	const peer = findPeer();
	if (!peer) return 'flamegraph: peer missing (set FLAMEGRAPH_DIR)';
	const dir = mkdtempSync(join(tmpdir(), 'bench-flamegraph-'));
	try {
		const input = join(dir, 'perf.script');
		generate(input);
		const sizeMb = Math.round(statSync(input).size / 2 ** 20);
		// --hash: deterministic colours in both (the Perl default seeds rand per name; so do we).
		const [collapse, render] = [nodeBin('stackcollapse-perf'), nodeBin('flamegraph')];
		const [ours, perl] = await bestInTurn(5,
			() => pipeline(collapse, [render[0], [...render[1], '--hash']], input, dir, 'ours'),
			() => pipeline(['perl', [join(peer, 'stackcollapse-perf.pl')]], ['perl', [join(peer, 'flamegraph.pl'), '--hash']], input, dir, 'perl'));
		let same = readFileSync(ours.folded).equals(readFileSync(perl.folded)) ? '' : ' (FOLDED OUTPUT DIFFERS)';
		if (drawing(readFileSync(ours.svg, 'utf8')) !== drawing(readFileSync(perl.svg, 'utf8'))) same += ' (SVG DRAWING DIFFERS)';
		const ratio = perl.cpu / ours.cpu;
		const twoStep = `flamegraph: ${ratio.toFixed(1)}x vs perl (stackcollapse-perf.pl then flamegraph.pl, ${sizeMb} MB perf script, ${frames(readFileSync(ours.svg, 'utf8'))} frames; cpu ${ours.cpu.toFixed(2)} s vs ${perl.cpu.toFixed(2)} s, wall ${ours.wall.toFixed(2)} s vs ${perl.wall.toFixed(2)} s, best of 5, in turn), ${memory(ours, perl, 'larger stage')}${same}`;
		// One process against the Perl shell pipe.
		const [oneOurs, onePerl] = await bestInTurn(5,
			() => single([render[0], [...render[1], '--perf', '--hash']], input, dir, 'one'),
			() => piped(['perl', [join(peer, 'stackcollapse-perf.pl')]], ['perl', [join(peer, 'flamegraph.pl'), '--hash']], input, dir, 'perl-pipe'));
		let oneSame = readFileSync(oneOurs.svg).equals(readFileSync(ours.svg)) ? '' : ' (SVG DIFFERS FROM THE TWO-STEP ONE)';
		if (drawing(readFileSync(oneOurs.svg, 'utf8')) !== drawing(readFileSync(onePerl.svg, 'utf8'))) oneSame += ' (SVG DRAWING DIFFERS)';
		const oneStep = `flamegraph --perf: ${(onePerl.cpu / oneOurs.cpu).toFixed(1)}x vs perl (one process vs the shell pipe stackcollapse-perf.pl | flamegraph.pl; cpu ${oneOurs.cpu.toFixed(2)} s vs ${onePerl.cpu.toFixed(2)} s, wall ${oneOurs.wall.toFixed(2)} s vs ${onePerl.wall.toFixed(2)} s, best of 5, in turn), ${memory(oneOurs, onePerl, 'perl: both processes, summed')}${oneSame}`;
		return `${twoStep}\n${oneStep}`;
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	console.log(await run());
}
