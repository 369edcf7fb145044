#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --max-semi-space-size=1 --single-threaded
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {FlameGraphOptionError, flameGraphChunks, foldedLines, formatPaletteMap, parseNameAttributes, parsePaletteMap, type FlameGraphOptions} from '../flamegraph.js';
import {UsageError} from '../flag-check.js';
import {parseQuickFlags, runQuickCli} from '../quick-cli.js';

const help = `
USAGE: flamegraph [options] [infile ...] > outfile.svg
                 --title TEXT     # change title text
                 --subtitle TEXT  # second level title (optional)
                 --width NUM      # width of image (default 1200)
                 --height NUM     # height of each frame (default 16)
                 --minwidth NUM   # omit smaller functions. In pixels or use "%" for
                                  # percentage of time (default 0.1 pixels)
                 --fonttype FONT  # font type (default "Verdana")
                 --fontsize NUM   # font size (default 12)
                 --fontwidth NUM  # average glyph width / font size (default 0.59)
                 --countname TEXT # count type label (default "samples")
                 --nametype TEXT  # name type label (default "Function:")
                 --colors PALETTE # set color palette. choices are: hot (default), mem,
                                  # io, wakeup, chain, java, js, perl, red, green, blue,
                                  # aqua, yellow, purple, orange
                 --bgcolors COLOR # set background colors. gradient choices are yellow
                                  # (default), blue, green, grey; flat colors use "#rrggbb"
                 --hash           # colors are keyed by function name hash
                 --random         # colors are randomly generated
                 --cp             # use consistent palette (palette.map, or --palfile)
                 --palfile FILE   # the consistent palette file (default palette.map)
                 --reverse        # generate stack-reversed flame graph
                 --inverted       # icicle graph
                 --flamechart     # produce a flame chart (sort by time, do not merge stacks)
                 --negate         # switch differential hues (blue<->red)
                 --notes TEXT     # add notes comment in SVG (for debugging)
                 --total NUM      # override the total count
                 --factor NUM     # scale counts by this factor
                 --nameattr FILE  # function attributes (title, href, ...) per name
                 --encoding NAME  # XML encoding attribute
                 --perf           # input is perf script output: fold it first, as
                                  # stackcollapse-perf does (one process, same SVG)
                 -h, --help       # this message
  infile: folded stacks ("a;b;c 12" lines); none or - reads stdin
  eg,
       flamegraph --title="Flame Graph: malloc()" trace.folded > graph.svg
       perf script | stackcollapse-perf | flamegraph > cpu.svg
       perf script | flamegraph --perf > cpu.svg
`;

const flagSpec = {
	title: {type: 'string'},
	subtitle: {type: 'string'},
	width: {type: 'string'},
	height: {type: 'string'},
	minwidth: {type: 'string'},
	fonttype: {type: 'string'},
	fontsize: {type: 'string'},
	fontwidth: {type: 'string'},
	countname: {type: 'string'},
	nametype: {type: 'string'},
	colors: {type: 'string', aliases: ['color']},
	bgcolors: {type: 'string', aliases: ['bgcolor']},
	hash: {type: 'boolean'},
	random: {type: 'boolean'},
	cp: {type: 'boolean'},
	palfile: {type: 'string'},
	reverse: {type: 'boolean'},
	inverted: {type: 'boolean'},
	flamechart: {type: 'boolean'},
	negate: {type: 'boolean'},
	notes: {type: 'string'},
	total: {type: 'string'},
	factor: {type: 'string'},
	nameattr: {type: 'string'},
	encoding: {type: 'string'},
	perf: {type: 'boolean'},
	help: {type: 'boolean', shortFlag: 'h'},
} as const;

/** Writes the chunks to stdout as they come, waiting when it is full. */
async function writeChunks<R>(chunks: Generator<string, R, undefined>): Promise<R> {
	for (;;) {
		const next = chunks.next();
		if (next.done) return next.value;
		if (!process.stdout.write(next.value) && !process.stdout.destroyed) await new Promise((resolve) => process.stdout.once('drain', resolve));
	}
}

function integer(name: string, value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	if (!/^[-+]?\d+$/.test(value)) throw new UsageError(`--${name} ${value}: expected an integer`);
	return Number(value);
}

function float(name: string, value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(value)) throw new UsageError(`--${name} ${value}: expected a number`);
	return Number(value);
}

function readText(path: string): string {
	try {
		return readFileSync(path === '-' ? 0 : path, 'utf8');
	} catch (error) {
		throw new Error(`can't read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
	}
}

await runQuickCli('flamegraph', async () => {
	const {flags, input} = await parseQuickFlags(import.meta, process.argv.slice(2), help, flagSpec);
	const options: FlameGraphOptions = {
		title: flags.title,
		subtitle: flags.subtitle,
		width: integer('width', flags.width),
		height: integer('height', flags.height),
		minwidth: flags.minwidth,
		fonttype: flags.fonttype,
		fontsize: float('fontsize', flags.fontsize),
		fontwidth: float('fontwidth', flags.fontwidth),
		countname: flags.countname,
		nametype: flags.nametype,
		colors: flags.colors,
		bgcolors: flags.bgcolors,
		hash: flags.hash,
		random: flags.random,
		reverse: flags.reverse,
		inverted: flags.inverted,
		flamechart: flags.flamechart,
		negate: flags.negate,
		notes: flags.notes,
		encoding: flags.encoding,
		total: float('total', flags.total),
		factor: float('factor', flags.factor),
		onWarning: (message) => process.stderr.write(`${message}\n`),
	};
	if (flags.nameattr !== undefined) {
		try {
			options.nameattr = parseNameAttributes(readText(flags.nameattr));
		} catch (error) {
			if (error instanceof FlameGraphOptionError) throw new UsageError(`--nameattr ${flags.nameattr}: ${error.message}`);
			throw error;
		}
	}
	const palfile = flags.palfile ?? 'palette.map';
	if (flags.cp) options.palette = existsSync(palfile) ? parsePaletteMap(readText(palfile)) : new Map();

	const inputs = input.length === 0 ? ['-'] : input;
	const lines = flags.perf
		? await foldPerf(inputs)
		: foldedLines(inputs.map((path) => readText(path)).map((text) => (text === '' || text.endsWith('\n') ? text : text + '\n')).join(''));
	// The SVG goes out as it is drawn, not as one string.
	let result;
	try {
		result = await writeChunks(flameGraphChunks(lines, options));
	} catch (error) {
		if (error instanceof FlameGraphOptionError) throw new UsageError(error.message);
		throw error;
	}
	if (options.palette) writeFileSync(palfile, formatPaletteMap(options.palette));
	return result.ok ? 0 : 2;
});

/**
 * `perf script` output folded as `stackcollapse-perf` (default options)
 * folds it: the lines that `stackcollapse-perf | flamegraph` would read.
 * Files are read as stackcollapse-perf reads them (readPerfScript).
 */
async function foldPerf(paths: readonly string[]): Promise<string[]> {
	const {PerfStackCollapser, readPerfScript} = await import('../stackcollapse-perf.js');
	const collapser = new PerfStackCollapser({onWarning: (message) => process.stderr.write(`${message}\n`)});
	for (const path of paths) await readPerfScript(collapser, path);
	collapser.end();
	// stackcollapse-perf writes the bytes back (latin1); flamegraph reads UTF-8.
	const lines = collapser.lines();
	for (let i = 0; i < lines.length; i++) {
		if (/[\x80-\xff]/.test(lines[i]!)) lines[i] = Buffer.from(lines[i]!, 'latin1').toString('utf8');
	}
	return lines;
}
