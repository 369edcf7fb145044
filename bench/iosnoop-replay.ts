/**
 * iosnoop-replay bench: our iosnoop CLI replaying a trace file
 * (`iosnoop --replay FILE`, output to a file: startup, reading, pairing,
 * printing) against perf-tools' iosnoop awk program run by mawk over the
 * same file (output to a file), with the same generated block trace:
 * 2 million lines of block_rq_issue / block_rq_complete pairs in the 3.x-4.x
 * text format (no ioprio), which the awk program still parses correctly
 * (comms without spaces or "-digits"). Wall time, best of five runs each,
 * taken in turn (ours, mawk, ours, ...: this VM's speed drifts by 30 to 50%
 * within minutes, and drift only ever adds time), with the medians beside
 * it, and the CPU time (user + system) of those runs. The data
 * lines (COMM PID TYPE DEV BLOCK BYTES LATms) must be identical; the header
 * lines differ (the awk program prints none, the bash script prints them)
 * and are not compared. Ours runs as installed (its defaults on this
 * machine's CPUs), and each way forced, all of which must print the same
 * bytes: on one thread; printed on a thread of its own
 * (FTRACE_TS_IOSNOOP_ROWS_THREAD=1; iosnoop's default from 4 CPUs on when
 * it does not split);
 * decoded by two worker threads (FTRACE_TS_REPLAY_WORKERS=2; the reader's
 * default from 4 CPUs on); the whole pipeline split into 32 MiB pieces on
 * 2 to 4 threads (FTRACE_TS_IOSNOOP_SPLIT; iosnoop's default from 4 CPUs on).
 *
 * The awk program is read from a perf-tools git mirror
 * (PERF_TOOLS_MIRROR, else /work/.mirror/brendangregg+perf-tools/repo);
 * without one (CI) we run our own equivalent program and say so.
 * Needs mawk (apt-get install -y mawk).
 */
import {spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs';
import {availableParallelism, tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const lineCount = 2_000_000;
const runs = 5;

const traceHeader = `# tracer: nop
#
# entries-in-buffer/entries-written: ${lineCount}/${lineCount}   #P:2
#
#                              _-----=> irqs-off
#                             / _----=> need-resched
#                            | / _---=> hardirq/softirq
#                            || / _--=> preempt-depth
#                            ||| /     delay
#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION
#              | |       |   ||||       |         |
`;

/** Our equivalent of the original's programs (positional, as it is), for when no mirror is at hand. */
const ourOffsetProgram = `BEGIN { o = 0; }
	$1 == "#" && $2 ~ /TASK/ && NF == 6 { o = 1; }
	$2 ~ /TASK/ { print o; exit }`;

const ourMainProgram = `
	$1 != "#" {
		comm = pid = $1
		sub(/-[0-9][0-9]*/, "", comm)
		sub(/.*-/, "", pid)
		time = $(3+o); sub(":", "", time)
		dev = $(5+o)
	}
	$1 != "#" && $0 ~ b_start {
		if (opt_name && match(comm, name) == 0)
			next
		loc = $(NF-3)
		starts[dev, loc] = time
		comms[dev, loc] = comm
		pids[dev, loc] = pid
		next
	}
	$1 != "#" && $0 ~ /rq_complete/ {
		dir = $(6+o)
		loc = $(NF-3)
		nsec = $(NF-1)
		if (starts[dev, loc] > 0) {
			latency = sprintf("%.2f", 1000 * (time - starts[dev, loc]))
			if (opt_start)
				printf "%-15s ", starts[dev, loc]
			if (opt_end)
				printf "%-15s ", time
			printf "%-12.12s %-6s %-4s %-8s %-12s %-6s %8s\\n",
			    comms[dev, loc], pids[dev, loc], dir, dev, loc, nsec * 512, latency
			if (!opt_duration)
				fflush()
			delete starts[dev, loc]
			delete comms[dev, loc]
			delete pids[dev, loc]
		}
		next
	}
	$0 ~ /LOST.*EVENTS/ { print "WARNING: " $0 > "/dev/stderr" }
`;

/** perf-tools' iosnoop programs from the mirror: the header-offset one and the main one. */
function mirrorPrograms(): {offset: string; main: string} | undefined {
	const repo = process.env['PERF_TOOLS_MIRROR'] ?? '/work/.mirror/brendangregg+perf-tools/repo';
	if (!existsSync(repo)) {
		return undefined;
	}

	const show = (path: string): string | undefined => {
		const result = spawnSync('git', ['-C', repo, 'show', `HEAD:${path}`], {encoding: 'utf8'});
		return result.status === 0 ? result.stdout : undefined;
	};

	let script = show('bin/iosnoop');
	// bin/iosnoop is a symbolic link ("../iosnoop").
	if (script !== undefined && !script.includes('\n')) {
		script = show(join('bin', script).replace(/^(?:\.\.\/)+/, ''));
	}

	const offset = script && /offset=\$\(\$awk '([^']*)' trace\)/.exec(script)?.[1];
	const mainAt = script?.indexOf("-v b_start=$b_start '") ?? -1;
	if (!script || !offset || mainAt === -1) {
		return undefined;
	}

	const start = script.indexOf("'", mainAt) + 1;
	return {offset, main: script.slice(start, script.indexOf("'", start))};
}

/** The trace: requests issued by a few tasks, completed in any order by <idle>, at most 4 in flight. */
function generate(path: string): void {
	let seed = 12_345;
	const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296;
	const tasks = [['supervise', 1809], ['tar', 14_794], ['dd', 1234], ['kworker/u8:2', 211], ['jbd2/xvda1', 290], ['cksum', 7428]] as const;
	const types = ['W', 'R', 'RM', 'WS', 'RA'];
	const seconds = (us: number): string => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
	const fd = openSync(path, 'w');
	try {
		writeSync(fd, traceHeader);
		const inFlight: Array<{dev: string; type: string; sector: number; sectors: number; cpu: number}> = [];
		let us = 7_269_912_000_000;
		let lines: string[] = [];
		for (let written = 0; written < lineCount; written++) {
			if (inFlight.length < 4 && (inFlight.length === 0 || random() < 0.5) && written + inFlight.length < lineCount) {
				const [comm, pid] = tasks[Math.floor(random() * tasks.length)]!;
				const request = {
					type: types[Math.floor(random() * types.length)]!,
					sector: Math.floor(random() * 40_000_000) * 8,
					sectors: 8 * (1 + Math.floor(random() * 32)),
					dev: random() < 0.8 ? '202,1' : '202,16',
					cpu: Math.floor(random() * 2),
				};
				us += 1 + Math.floor(random() * 50);
				lines.push(`${`${comm}-${pid}`.padStart(16)} [00${request.cpu}] d... ${seconds(us)}: block_rq_issue: ${request.dev} ${request.type} 0 () ${request.sector} + ${request.sectors} [${comm}]`);
				inFlight.push(request);
			} else {
				const request = inFlight.splice(Math.floor(random() * inFlight.length), 1)[0]!;
				us += 1 + Math.floor(random() * 3000);
				lines.push(`          <idle>-0     [00${request.cpu}] d.h. ${seconds(us)}: block_rq_complete: ${request.dev} ${request.type} () ${request.sector} + ${request.sectors} [0]`);
			}

			if (lines.length === 10_000) {
				writeSync(fd, `${lines.join('\n')}\n`);
				lines = [];
			}
		}

		if (lines.length > 0) {
			writeSync(fd, `${lines.join('\n')}\n`);
		}
	} finally {
		closeSync(fd);
	}
}

function median(values: number[]): number {
	return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

interface Timing {
	readonly wall: number;
	readonly cpu: number;
}

/** Run a command with stdout to `out`; wall time, and its CPU time from the shell's `times` (children's user and system). */
function timed(command: readonly string[], out: string, env?: NodeJS.ProcessEnv): Timing {
	const quoted = command.map(word => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
	const started = process.hrtime.bigint();
	const result = spawnSync('sh', ['-c', `${quoted} > '${out}' || exit 1; times >&2`], {encoding: 'utf8', ...(env ? {env: {...process.env, ...env}} : {})});
	const wall = Number(process.hrtime.bigint() - started) / 1e9;
	if (result.error || result.status !== 0) {
		throw new Error(`${command[0]!} failed: ${result.error?.message ?? result.stderr}`);
	}

	// The last line of `times`: the children's user and system time, as "0m3.210s 0m0.150s".
	const last = result.stderr.trim().split('\n').at(-1) ?? '';
	const cpu = [...last.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, minutes, seconds]) => sum + (Number(minutes) * 60) + Number(seconds), 0);
	return {wall, cpu};
}

/** The CLI as installed bins run: through its #! line (node, its flags, its environment). */
function ourCommand(trace: string): string[] {
	return [new URL('../../packages/tools/dist/bundle/iosnoop.js', import.meta.url).pathname, '--replay', trace];
}

function mawkCommand(program: string, offset: string, trace: string): string[] {
	return ['mawk', '-v', `o=${offset}`, '-v', 'opt_name=0', '-v', 'name=', '-v', 'opt_duration=1', '-v', 'opt_start=0', '-v', 'opt_end=0', '-v', 'b_start=block_rq_issue', '-f', program, trace];
}

/** Our output's data lines: those after the column header, up to the blank line before "Ending tracing...". */
function dataLines(text: string): string[] {
	const lines = text.split('\n');
	const header = lines.findIndex(line => /^COMM\s+PID\s+TYPE/.test(line));
	const end = lines.indexOf('', header + 1);
	return lines.slice(header + 1, end === -1 ? undefined : end);
}

export default async function run(): Promise<string> {
	const trace = process.env['IOSNOOP_REPLAY_TRACE'];
	if (trace !== undefined) {
		// Only write the trace (for profiling): IOSNOOP_REPLAY_TRACE=file node bench/dist/iosnoop-replay.js
		generate(trace);
		return `iosnoop-replay: wrote ${trace}`;
	}

	if (spawnSync('mawk', ['-W', 'version']).error) {
		throw new Error('mawk not found: apt-get install -y mawk');
	}

	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-bench-iosnoop-'));
	try {
		const trace = join(dir, 'block.trace');
		generate(trace);
		const mirror = mirrorPrograms();
		const programFile = join(dir, 'iosnoop.awk');
		const offsetFile = join(dir, 'offset.awk');
		writeFileSync(programFile, mirror?.main ?? ourMainProgram);
		writeFileSync(offsetFile, mirror?.offset ?? ourOffsetProgram);
		const offset = spawnSync('mawk', ['-f', offsetFile, trace], {encoding: 'utf8'}).stdout.trim();
		if (offset !== '1') {
			throw new Error(`the awk header check gave offset "${offset}", expected 1 (irq-info column)`);
		}

		// Ours as installed (the defaults: on this machine's CPUs), and each way forced: one thread,
		// the rows printed on a thread of their own (from 4 CPUs on, where no split), decoding on 2
		// threads (the reader's default from 4 CPUs on), the whole pipeline split into 32 MiB pieces
		// on 2 to 4 threads (iosnoop's default from 4 CPUs on).
		const variants = {
			ours: undefined,
			one: {FTRACE_TS_IOSNOOP_SPLIT: '0', FTRACE_TS_REPLAY_WORKERS: '0', FTRACE_TS_IOSNOOP_ROWS_THREAD: '0'},
			printing: {FTRACE_TS_IOSNOOP_SPLIT: '0', FTRACE_TS_REPLAY_WORKERS: '0', FTRACE_TS_IOSNOOP_ROWS_THREAD: '1'},
			decoding: {FTRACE_TS_IOSNOOP_SPLIT: '0', FTRACE_TS_REPLAY_WORKERS: '2', FTRACE_TS_IOSNOOP_ROWS_THREAD: '0'},
			split: {FTRACE_TS_IOSNOOP_SPLIT: String(32 << 20)},
		} as const;
		const times = {mawk: [] as Timing[], ours: [] as Timing[], one: [] as Timing[], printing: [] as Timing[], decoding: [] as Timing[], split: [] as Timing[]};
		for (let i = 0; i < runs; i++) {
			times.mawk.push(timed(mawkCommand(programFile, offset, trace), join(dir, 'mawk.out')));
			for (const [name, env] of Object.entries(variants)) {
				times[name as keyof typeof variants].push(timed(ourCommand(trace), join(dir, `${name}.out`), env));
			}
		}

		for (const name of ['one', 'printing', 'decoding', 'split']) {
			if (!readFileSync(join(dir, `${name}.out`)).equals(readFileSync(join(dir, 'ours.out')))) {
				throw new Error(`the replay (${name}) printed something else than the default one`);
			}
		}

		const ourRows = dataLines(readFileSync(join(dir, 'ours.out'), 'utf8'));
		const theirRows = readFileSync(join(dir, 'mawk.out'), 'utf8').split('\n').slice(0, -1);
		if (ourRows.length !== theirRows.length) {
			throw new Error(`row counts differ: ours ${ourRows.length}, mawk ${theirRows.length}`);
		}

		const differing = ourRows.findIndex((row, i) => row !== theirRows[i]);
		if (differing !== -1) {
			throw new Error(`row ${differing + 1} differs:\n  ours ${ourRows[differing]!}\n  mawk ${theirRows[differing]!}`);
		}

		const wall = (name: keyof typeof times): number => Math.min(...times[name].map(run => run.wall));
		const medianWall = (name: keyof typeof times): number => median(times[name].map(run => run.wall));
		const cpu = (name: keyof typeof times): number => Math.min(...times[name].map(run => run.cpu));
		const forced = (name: keyof typeof times, label: string): string => `${label}: ${(wall('mawk') / wall(name)).toFixed(2)}x, wall ${wall(name).toFixed(2)} s, cpu ${cpu(name).toFixed(2)} s`;
		const program = mirror ? 'perf-tools\' (mirror)' : 'ours, equivalent';
		return `iosnoop-replay: ${(wall('mawk') / wall('ours')).toFixed(2)}x vs mawk (${lineCount} lines, ${ourRows.length} rows; \`iosnoop --replay\` vs mawk -f iosnoop.awk, output to files; wall, best of ${runs} in turn: ours ${wall('ours').toFixed(2)} s, mawk ${wall('mawk').toFixed(2)} s; medians: ours ${medianWall('ours').toFixed(2)} s, mawk ${medianWall('mawk').toFixed(2)} s (${(medianWall('mawk') / medianWall('ours')).toFixed(2)}x); cpu (user+sys), best: ours ${cpu('ours').toFixed(2)} s, mawk ${cpu('mawk').toFixed(2)} s (${(cpu('mawk') / cpu('ours')).toFixed(2)}x); ${availableParallelism()} CPUs; awk program: ${program}; data lines identical; header lines differ and are not compared; the same bytes forced ${forced('one', 'on one thread')}; ${forced('printing', 'printed on a thread of its own')}; ${forced('decoding', 'decoded on 2 threads')}; ${forced('split', 'split into 32 MiB pieces')})`;
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	console.log(await run());
}
