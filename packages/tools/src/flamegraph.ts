/**
 * Renders folded stacks (`frame;frame;frame count` lines, as from
 * stackcollapse-perf) as an interactive SVG flame graph.
 *
 * Layout, colours and labels follow FlameGraph's flamegraph.pl, so the frames
 * (titles, rects, text) match its output for the same input and options;
 * the embedded script (search, zoom, reset) is this project's own. Without
 * `random`, output is deterministic: the default colours come from the same
 * name-seeded generator as the Perl (drand48), `hash` from the name hash.
 */
import { flameGraphScript } from './flamegraph-script.js';

/** Palettes accepted by `colors`. */
export const palettes = ['hot', 'mem', 'io', 'wakeup', 'chain', 'java', 'js', 'perl', 'red', 'green', 'blue', 'aqua', 'yellow', 'purple', 'orange'] as const;

export interface FlameGraphOptions {
	/** Heading; default "Flame Graph" ("Icicle Graph" inverted, "Flame Chart" for flamechart). */
	title?: string;
	/** Second heading line. */
	subtitle?: string;
	/** Image width in pixels (default 1200). */
	width?: number;
	/** Frame height in pixels (default 16). */
	height?: number;
	/** Omit narrower frames: pixels, or a percentage of the total with "%" (default "0.1"). */
	minwidth?: string | number;
	/** Font family (default Verdana). */
	fonttype?: string;
	/** Font size (default 12). */
	fontsize?: number;
	/** Average glyph width relative to the font size (default 0.59). */
	fontwidth?: number;
	/** Unit of the counts (default "samples"). */
	countname?: string;
	/** Label before a frame's details (default "Function:"). */
	nametype?: string;
	/** Palette (default "hot"); see {@link palettes}. */
	colors?: string;
	/** Background: yellow, blue, green, grey or "#rrggbb" (default by palette). */
	bgcolors?: string;
	/** Colour by a hash of the name (stable across graphs). */
	hash?: boolean;
	/** Random colours (not deterministic). */
	random?: boolean;
	/** Merge stacks from the leaf end. */
	reverse?: boolean;
	/** Icicle graph: root at the top. */
	inverted?: boolean;
	/** Keep input order (time) and do not merge stacks. */
	flamechart?: boolean;
	/** Swap the differential hues (red/blue). */
	negate?: boolean;
	/** Text for an SVG comment (no < or >). */
	notes?: string;
	/** XML encoding attribute. */
	encoding?: string;
	/** Override the total count (for comparable widths across graphs). */
	total?: number;
	/** Scale counts in the labels by this factor (default 1). */
	factor?: number;
	/** Per-function attributes (title, href, target, id, class, g_extra, a_extra). */
	nameattr?: ReadonlyMap<string, Readonly<Record<string, string>>>;
	/**
	 * Consistent palette (flamegraph.pl --cp): colours already in the map are
	 * reused, new ones are added to it; persist it with {@link formatPaletteMap}.
	 */
	palette?: Map<string, string>;
	/** Receives warnings (low counts, ignored lines). */
	onWarning?: (message: string) => void;
}

export interface FlameGraphResult {
	/** The SVG document. */
	svg: string;
	/** False when no input line had a count: `svg` is then an error image. */
	ok: boolean;
	/** Input lines ignored for bad format. */
	ignored: number;
	/** Sum of the counts. */
	total: number;
	/** Frames drawn (including the root). */
	frames: number;
}

/** A usage problem in the options; the message names the option. */
export class FlameGraphOptionError extends Error {
	override readonly name = 'FlameGraphOptionError';
}

const annotationRe = /_\[[kwij]\]$/;

/** Perl's stringification of a number (%.15g). */
export function perlNumber(value: number): string {
	const magnitude = Math.abs(value);
	// Integers below 1e15 print all their digits, as String() does.
	if (magnitude < 1e15 && Number.isInteger(value)) return String(value);
	if (magnitude < 1e15 && magnitude >= 1e-4) {
		// The shortest round-trip form is %.15g's when it has <= 15 digits.
		const shortest = String(value);
		if (shortest.replace(/^-?0*\.?0*/, '').replace('.', '').length <= 15) return shortest;
	}
	if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Inf' : '-Inf';
	const [mantissa = '', exponentText = '0'] = value.toExponential(14).split('e');
	const exponent = Number(exponentText);
	if (exponent < -4 || exponent >= 15) {
		const digits = mantissa.replace(/\.?0+$/, '');
		return `${digits}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
	}
	return value.toFixed(14 - exponent).replace(/\.?0+$/, '');
}

/** C's printf("%.Nf"): like toFixed, but exact ties round to even. */
export function cFixed(value: number, digits: number): string {
	// Fast path (most coordinates): scaled by 10^digits the value is far
	// from a rounding tie, so rounding the product is exact. Below 1e7 the
	// product's error is under 1e-7; ties are left to the exact path below.
	if (digits <= 2 && value >= 0 && value < 1e7) {
		const scale = digits === 0 ? 1 : digits === 1 ? 10 : 100;
		const scaled = value * scale;
		const floor = Math.floor(scaled);
		const fraction = scaled - floor;
		if (fraction < 0.499999 || fraction > 0.500001) {
			const n = fraction < 0.5 ? floor : floor + 1;
			if (digits === 0) return String(n);
			const whole = Math.floor(n / scale);
			const part = n - whole * scale;
			return digits === 1 ? `${whole}.${part}` : `${whole}.${part < 10 ? '0' : ''}${part}`;
		}
	}
	const plain = Math.abs(value) >= 1e21 ? BigInt(Math.round(value)).toString() + (digits > 0 ? '.' + '0'.repeat(digits) : '') : value.toFixed(digits);
	const magnitude = Math.abs(value);
	const fraction = magnitude - Math.floor(magnitude);
	const scaled = fraction * 2 ** (digits + 1);
	if (magnitude < 2 ** 50 && Number.isInteger(scaled) && scaled % 2 === 1) {
		// An exact tie: toFixed rounded away from zero; C rounds to even.
		const lower = Math.floor(magnitude * 10 ** digits);
		const chosen = lower % 2 === 0 ? lower : lower + 1;
		let text = String(chosen).padStart(digits + 1, '0');
		if (digits > 0) text = `${text.slice(0, -digits)}.${text.slice(-digits)}`;
		return value < 0 ? `-${text}` : text;
	}
	return plain;
}

function addCommas(integer: string): string {
	const length = integer.length;
	if (length <= 3) return integer;
	// Plain digits (sample counts): groups of three, without a regex.
	let digits = true;
	for (let i = 0; i < length && digits; i++) {
		const c = integer.charCodeAt(i);
		digits = c >= 48 && c <= 57;
	}
	if (digits) {
		let first = length % 3;
		if (first === 0) first = 3;
		let text = integer.slice(0, first);
		for (let i = first; i < length; i += 3) text += ',' + integer.slice(i, i + 3);
		return text;
	}
	return integer.replace(/^([-+]?)(\d+)$/, (_, sign: string, digits: string) => sign + digits.replace(/\B(?=(\d{3})+$)/g, ','));
}

function escapeXml(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Perl's split on ";": trailing empty fields dropped. */
function splitFrames(stack: string): string[] {
	const parts = stack.split(';');
	while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
	return parts;
}

const surrogateRe = /[\uD800-\uDFFF]/;

function chars(text: string): string[] | undefined {
	return surrogateRe.test(text) ? Array.from(text) : undefined;
}

function codePointCompare(a: string, b: string): number {
	const x = Array.from(a);
	const y = Array.from(b);
	const n = Math.min(x.length, y.length);
	for (let i = 0; i < n; i++) {
		const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
		if (d !== 0) return d;
	}
	return x.length - y.length;
}

// Perl's rand() after srand(seed): drand48, in 24-bit halves to stay exact.
function drand48First(seed: number): number {
	const A_HI = 0x5de, A_LO = 0xece66d, C = 0xb, TWO24 = 0x1000000;
	const s = seed >>> 0;
	// x0 = (seed << 16) + 0x330e, as 48 bits
	const xLo = ((s & 0xff) << 16) | 0x330e;
	const xHi = s >>> 8;
	const lo = A_LO * xLo + C;
	const carry = Math.floor(lo / TWO24);
	const newLo = lo % TWO24;
	const newHi = (A_HI * xLo + A_LO * xHi + carry) % TWO24;
	return (newHi * TWO24 + newLo) / 2 ** 48;
}

function nameSum(name: string): number {
	let sum = 0;
	for (const char of name) sum = (sum + char.codePointAt(0)!) >>> 0;
	return sum;
}

function nameHash(input: string): number {
	// A weighted hash of the first characters; a module prefix ("mod`func") is dropped.
	const name = input.includes('`') ? input.replace(/.(.*?)`/s, '') : input;
	let vector = 0;
	let weight = 1;
	let max = 1;
	let mod = 10;
	for (const char of name) {
		const i = char.codePointAt(0)! % mod;
		vector += (i / (mod++ - 1)) * weight;
		max += 1 * weight;
		weight *= 0.7;
		if (mod > 12) break;
	}
	return 1 - vector / max;
}

interface Renderer {
	hash: boolean;
	random: boolean;
	negate: boolean;
}

const colorCache = new Map<string, string>();

function colorFor(paletteName: string, name: string, renderer: Renderer): string {
	if (renderer.random) return computeColor(paletteName, name, renderer);
	const key = `${paletteName}${renderer.hash ? 'h' : 'r'}\0${name}`;
	let color = colorCache.get(key);
	if (color === undefined) {
		if (colorCache.size > 100_000) colorCache.clear();
		color = computeColor(paletteName, name, renderer);
		colorCache.set(key, color);
	}
	return color;
}

function computeColor(paletteName: string, name: string, renderer: Renderer): string {
	let v1: number, v2: number, v3: number;
	if (renderer.hash) {
		v1 = nameHash(name);
		v2 = v3 = nameHash(Array.from(name).reverse().join(''));
	} else if (renderer.random) {
		v1 = Math.random();
		v2 = Math.random();
		v3 = Math.random();
	} else {
		v1 = v2 = v3 = drand48First(nameSum(name));
	}
	const int = Math.trunc;
	let type = paletteName;
	switch (type) {
		case 'hot':
			return `rgb(${205 + int(50 * v3)},${int(230 * v1)},${int(55 * v2)})`;
		case 'mem':
			return `rgb(0,${190 + int(50 * v2)},${int(210 * v1)})`;
		case 'io': {
			const r = 80 + int(60 * v1);
			return `rgb(${r},${r},${190 + int(55 * v2)})`;
		}
		case 'java':
			if (/_\[j\]$/.test(name)) type = 'green';
			else if (/_\[i\]$/.test(name)) type = 'aqua';
			else if (/^L?(java|javax|jdk|net|org|com|io|sun)\//.test(name)) type = 'green';
			else if (name.includes(':::')) type = 'green';
			else if (name.includes('::')) type = 'yellow';
			else if (/_\[k\]$/.test(name)) type = 'orange';
			else type = 'red';
			break;
		case 'perl':
			if (name.includes('::')) type = 'yellow';
			else if (name.includes('Perl') || name.includes('.pl')) type = 'green';
			else if (/_\[k\]$/.test(name)) type = 'orange';
			else type = 'red';
			break;
		case 'js':
			if (/_\[j\]$/.test(name)) type = name.includes('/') ? 'green' : 'aqua';
			else if (name.includes('::')) type = 'yellow';
			else if (/\/.*\.js/s.test(name)) type = 'green';
			else if (name.includes(':')) type = 'aqua';
			else if (name === ' ') type = 'green';
			else if (name.includes('_[k]')) type = 'orange';
			else type = 'red';
			break;
		case 'wakeup':
			type = 'aqua';
			break;
		case 'chain':
			type = name.includes('_[w]') ? 'aqua' : 'blue';
			break;
	}
	switch (type) {
		case 'red': {
			const x = 50 + int(80 * v1);
			return `rgb(${200 + int(55 * v1)},${x},${x})`;
		}
		case 'green': {
			const x = 50 + int(60 * v1);
			return `rgb(${x},${200 + int(55 * v1)},${x})`;
		}
		case 'blue': {
			const x = 80 + int(60 * v1);
			return `rgb(${x},${x},${205 + int(50 * v1)})`;
		}
		case 'yellow': {
			const x = 175 + int(55 * v1);
			return `rgb(${x},${x},${50 + int(20 * v1)})`;
		}
		case 'purple': {
			const x = 190 + int(65 * v1);
			return `rgb(${x},${80 + int(60 * v1)},${x})`;
		}
		case 'aqua':
			return `rgb(${50 + int(60 * v1)},${165 + int(55 * v1)},${165 + int(55 * v1)})`;
		case 'orange':
			return `rgb(${190 + int(65 * v1)},${90 + int(65 * v1)},0)`;
		default:
			return 'rgb(0,0,0)';
	}
}

function colorScale(value: number, max: number, negate: boolean): string {
	let r = 255, g = 255, b = 255;
	const v = negate ? -value : value;
	if (v > 0) g = b = Math.trunc((210 * (max - v)) / max);
	else if (v < 0) r = g = Math.trunc((210 * (max + v)) / max);
	return `rgb(${r},${g},${b})`;
}

/** Reads a palette map file's text (`name->rgb(r,g,b)` lines). */
export function parsePaletteMap(text: string): Map<string, string> {
	const map = new Map<string, string>();
	for (const line of text.split('\n')) {
		if (line === '' && map.size >= 0) continue;
		const [key = '', value = ''] = line.split('->');
		map.set(key, value);
	}
	return map;
}

/** Formats a palette map for saving (sorted `name->colour` lines). */
export function formatPaletteMap(map: ReadonlyMap<string, string>): string {
	return [...map.keys()].sort().map((key) => `${key}->${map.get(key)!}\n`).join('');
}

/** Reads a name-attribute file: `function<TAB>name=value<TAB>...` lines. Throws on a line without attributes. */
export function parseNameAttributes(text: string): Map<string, Record<string, string>> {
	const map = new Map<string, Record<string, string>>();
	for (const line of text.split('\n')) {
		if (line === '') continue;
		const tab = line.indexOf('\t');
		if (tab === -1) throw new FlameGraphOptionError(`invalid name-attribute line (want function<TAB>name=value...): ${line}`);
		const attributes: Record<string, string> = {};
		for (const pair of line.slice(tab + 1).split('\t')) {
			const eq = pair.indexOf('=');
			if (eq === -1) attributes[pair] = '';
			else attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
		}
		map.set(line.slice(0, tab), attributes);
	}
	return map;
}

function validate(options: FlameGraphOptions): void {
	const positive = (name: string, value: number | undefined) => {
		if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
			throw new FlameGraphOptionError(`--${name} must be a positive number, not ${value}`);
		}
	};
	positive('width', options.width);
	positive('height', options.height);
	positive('fontsize', options.fontsize);
	positive('fontwidth', options.fontwidth);
	if (options.notes !== undefined && /[<>]/.test(options.notes)) {
		throw new FlameGraphOptionError("--notes can't contain < or >");
	}
	if (options.colors !== undefined && !(palettes as readonly string[]).includes(options.colors)) {
		throw new FlameGraphOptionError(`--colors ${options.colors}: choose one of ${palettes.join(', ')}`);
	}
	if (options.bgcolors !== undefined && options.bgcolors !== '' && !/^(yellow|blue|green|grey|#......)$/s.test(options.bgcolors)) {
		throw new FlameGraphOptionError(`--bgcolors ${options.bgcolors}: choose yellow, blue, green, grey or #rrggbb`);
	}
	if (options.minwidth !== undefined && !/^([0-9.]+)%?$/.test(String(options.minwidth))) {
		throw new FlameGraphOptionError(`--minwidth ${options.minwidth}: expected a number of pixels, or a percentage like 0.5%`);
	}
}

function header(width: number, height: number, options: FlameGraphOptions, interactive: boolean): string {
	const encoding = options.encoding === undefined ? '' : ` encoding="${options.encoding}"`;
	const onload = interactive ? ' onload="init(evt)"' : '';
	return `<?xml version="1.0"${encoding} standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" width="${perlNumber(width)}" height="${perlNumber(height)}"${onload} viewBox="0 0 ${perlNumber(width)} ${perlNumber(height)}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<!-- Flame graph (ftrace-ts flamegraph; format of Brendan Gregg's FlameGraph, http://www.brendangregg.com/flamegraphs.html). Click a frame to zoom, Ctrl-F to search. -->
<!-- NOTES: ${options.notes ?? ''} -->
`;
}

function text(id: string | undefined, x: number, y: number, content: string, extra = ''): string {
	return `<text ${id === undefined ? '' : `id="${id}"`} x="${cFixed(x, 2)}" y="${perlNumber(y)}" ${extra}>${content}</text>\n`;
}

function rect(x1: number, y1: number, x2: number, y2: number, fill: string, extra = ''): string {
	const left = cFixed(x1, 1);
	const right = cFixed(x2, 1);
	return `<rect x="${left}" y="${perlNumber(y1)}" width="${cFixed(Number(right) - Number(left), 1)}" height="${cFixed(y2 - y1, 1)}" fill="${fill}" ${extra} />\n`;
}

/** Perl's \s (Unicode rules), as a character code test. */
function isPerlSpace(c: number): boolean {
	return c === 32 || (c >= 9 && c <= 13) || (c >= 0x85 && (c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000));
}

/**
 * Where `text` (up to `end`) splits into stack and count, as
 * /^(.*)\s+?(\d+(?:\.\d*)?)$/s does: the index of the space before the
 * count, or -1 when the text does not end in " count".
 */
function countSplit(text: string, end: number): number {
	let i = end - 1;
	let dots = 0;
	for (; i >= 0; i--) {
		const c = text.charCodeAt(i);
		if (c >= 48 && c <= 57) continue;
		if (c === 46) {
			dots++;
			continue;
		}
		break;
	}
	// The count: digits, then optionally "." and more digits.
	if (i < 0 || i === end - 1 || dots > 1 || !isPerlSpace(text.charCodeAt(i))) return -1;
	const first = text.charCodeAt(i + 1);
	return first === 46 ? -1 : i;
}

/** What a frame's name gives, worked out once per distinct name. */
interface NameInfo {
	/** The name for titles: escaped, without its annotation. */
	title: string;
	/** Palette colour (standard colouring only), once computed. */
	color: string | undefined;
	/** The label text: the name without its annotation. */
	label: string;
	/** Its characters, when it has astral ones. */
	glyphs: string[] | undefined;
	/** Its length in characters. */
	length: number;
	/** The label escaped, when it fits whole. */
	full: string;
}

/** Counts of a rendering; the SVG itself went out in chunks. */
export type FlameGraphSummary = Omit<FlameGraphResult, 'svg'>;

/**
 * Renders folded lines as an SVG flame graph. `lines` are the input lines
 * without newlines (order matters only for `flamechart`). Returns the SVG and
 * counts; when no line has a count the SVG is an error image and `ok` is
 * false (the CLI exits 2, as flamegraph.pl does). Throws
 * {@link FlameGraphOptionError} for invalid options.
 */
export function renderFlameGraph(lines: readonly string[], options: FlameGraphOptions = {}): FlameGraphResult {
	const chunks: string[] = [];
	const generator = flameGraphChunks(lines, options);
	for (;;) {
		const next = generator.next();
		if (next.done) return { svg: chunks.join(''), ...next.value };
		chunks.push(next.value);
	}
}

/**
 * Renders as {@link renderFlameGraph}, yielding the SVG in pieces of about
 * 64 KB (for writing out as it is made) and returning the counts. Throws
 * {@link FlameGraphOptionError} for invalid options before yielding.
 */
export function* flameGraphChunks(lines: readonly string[], options: FlameGraphOptions = {}): Generator<string, FlameGraphSummary, undefined> {
	validate(options);
	const imagewidth = options.width ?? 1200;
	const frameheight = options.height ?? 16;
	const fontsize = options.fontsize ?? 12;
	const fontwidth = options.fontwidth ?? 0.59;
	const minwidth = String(options.minwidth ?? '0.1');
	const nametype = options.nametype ?? 'Function:';
	const countname = options.countname ?? 'samples';
	const colors = options.colors ?? 'hot';
	const factor = options.factor ?? 1;
	const inverted = Boolean(options.inverted);
	const warn = options.onWarning ?? (() => undefined);
	const renderer: Renderer = { hash: Boolean(options.hash), random: Boolean(options.random), negate: Boolean(options.negate) };

	const ypad1 = fontsize * 3;
	const ypad2 = fontsize * 2 + 10;
	const ypad3 = fontsize * 2;
	const xpad = 10;
	const framepad = 1;

	let titletext = options.title ?? '';
	if (options.flamechart && titletext === '') titletext = 'Flame Chart';
	if (titletext === '') titletext = inverted ? 'Icicle Graph' : 'Flame Graph';
	const subtitletext = options.subtitle ?? '';

	let bgcolors = options.bgcolors ?? '';
	if (bgcolors === '') {
		if (colors === 'mem') bgcolors = 'green';
		else if (/^(io|wakeup|chain)$/.test(colors)) bgcolors = 'blue';
		else if (/^(red|green|blue|aqua|yellow|purple|orange)$/.test(colors)) bgcolors = 'grey';
		else bgcolors = 'yellow';
	}
	const gradients: Record<string, [string, string]> = {
		yellow: ['#eeeeee', '#eeeeb0'],
		blue: ['#eeeeee', '#e0e0ff'],
		green: ['#eef2ee', '#e0ffe0'],
		grey: ['#f8f8f8', '#e8e8e8'],
	};
	const [bgcolor1, bgcolor2] = gradients[bgcolors] ?? [bgcolors, bgcolors];

	// Reverse first (per line), then sort whole lines: the merge order.
	let data: string[];
	if (options.reverse) {
		data = lines.map((line) => {
			const split = countSplit(line, line.length);
			const stack = split === -1 ? '' : line.slice(0, split);
			const samples = split === -1 ? '' : line.slice(split + 1);
			const inner = countSplit(stack, stack.length);
			if (inner !== -1) return `${splitFrames(stack.slice(0, inner)).reverse().join(';')} ${stack.slice(inner + 1)} ${samples}`;
			return `${splitFrames(stack).reverse().join(';')} ${samples}`;
		});
	} else {
		data = [...lines];
	}
	if (!options.flamechart) {
		if (data.some((line) => surrogateRe.test(line))) data.sort(codePointCompare);
		else data.sort();
	}

	// Merging, as flamegraph.pl's flow(): frames stay open (one per depth,
	// the previous line's path) until a line differs at their depth; each
	// closed frame becomes a node. Perl keys nodes by "func;depth;etime"
	// (etime stringified), so a zero-width frame can land on an earlier
	// node closed at the same time: that node is updated, not added.
	const nodeFunc: string[] = [];
	const nodeDepth: number[] = [];
	const nodeStime: number[] = [];
	const nodeEtime: number[] = [];
	const nodeDelta: (number | undefined)[] = [];
	const openStime: number[] = [];
	const openDelta: (number | undefined)[] = [];
	let closedTime = Number.NaN;
	let closedFrom = 0;
	const flow = (last: readonly string[], current: readonly string[], v: number, d: number | undefined): void => {
		const lenA = last.length - 1;
		const lenB = current.length - 1;
		let same = 0;
		while (same <= lenA && same <= lenB && last[same] === current[same]) same++;
		const etime = Number.isInteger(v) && Math.abs(v) < 1e15 ? v : Number(perlNumber(v));
		const before = nodeFunc.length;
		if (etime !== closedTime) {
			closedTime = etime;
			closedFrom = before;
		}
		for (let i = lenA; i >= same; i--) {
			const func = last[i]!;
			let index = -1;
			for (let j = closedFrom; j < before; j++) {
				if (nodeDepth[j] === i && nodeFunc[j] === func) {
					index = j;
					break;
				}
			}
			if (index === -1) {
				nodeFunc.push(func);
				nodeDepth.push(i);
				nodeStime.push(openStime[i]!);
				nodeEtime.push(etime);
				nodeDelta.push(openDelta[i]);
			} else {
				nodeStime[index] = openStime[i]!;
				if (openDelta[i] !== undefined) nodeDelta[index] = openDelta[i];
			}
		}
		for (let i = same; i <= lenB; i++) {
			openStime[i] = v;
			openDelta[i] = d === undefined ? undefined : i === lenB ? d : 0;
		}
	};

	let last: string[] = [];
	let time = 0;
	let delta: number | undefined;
	let ignored = 0;
	let maxdelta = 1;
	for (const line of data) {
		const split = countSplit(line, line.length);
		if (split === -1) {
			ignored++;
			continue;
		}
		let stack = line.slice(0, split);
		let samples = Number(line.slice(split + 1));
		// An optional second count column makes a differential graph.
		let samples2: number | undefined;
		const inner = countSplit(stack, stack.length);
		if (inner !== -1) {
			samples2 = samples;
			samples = Number(stack.slice(inner + 1));
			stack = stack.slice(0, inner);
		}
		delta = undefined;
		if (samples2 !== undefined) {
			delta = samples2 - samples;
			if (Math.abs(delta) > maxdelta) maxdelta = Math.abs(delta);
		}
		if (colors === 'chain') {
			// Frames after a "--" separator are the waker's: annotate them
			// _[w]. Like flamegraph.pl, a stack without one gains a "--" leaf.
			const parts = stack.split(';--;');
			while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
			const wakers = parts.slice(1).map((part) => `${part.replaceAll(';', '_[w];')}_[w]`);
			stack = `${parts[0]!};--;${wakers.join(';--;')}`;
		}
		const current = splitFrames(stack);
		current.unshift('');
		flow(last, current, time, delta);
		last = current;
		time += samples2 ?? samples;
	}
	flow(last, [], time, delta);

	if (countname === 'samples' && time < 100) warn(`Stack count is low (${perlNumber(time)}). Did something go wrong?`);
	if (ignored > 0) warn(`Ignored ${ignored} lines with invalid format`);

	if (!time) {
		warn('ERROR: No stack counts found');
		const height = fontsize * 5;
		yield header(imagewidth, height, options, false) + text(undefined, Math.trunc(imagewidth / 2), fontsize * 2, 'ERROR: No valid input provided to flamegraph.') + '</svg>\n';
		return { ok: false, ignored, total: 0, frames: 0 };
	}

	let timemax = options.total;
	if (timemax && timemax < time) {
		if (timemax / time > 0.02) warn(`Specified --total ${perlNumber(timemax)} is less than actual total ${perlNumber(time)}, so ignored`);
		timemax = undefined;
	}
	if (!timemax) timemax = time;

	const widthpertime = (imagewidth - 2 * xpad) / timemax;
	const minwidthValue = Number.parseFloat(minwidth) || 0;
	const minwidthTime = minwidth.endsWith('%') ? (timemax * minwidthValue) / 100 : minwidthValue / widthpertime;

	const nodeCount = nodeFunc.length;
	let depthmax = 0;
	let drawnCount = 0;
	for (let n = 0; n < nodeCount; n++) {
		if (nodeEtime[n]! - nodeStime[n]! < minwidthTime) continue;
		drawnCount++;
		if (nodeDepth[n]! > depthmax) depthmax = nodeDepth[n]!;
	}

	let imageheight = (depthmax + 1) * frameheight + ypad1 + ypad2;
	if (subtitletext !== '') imageheight += ypad3;
	const titlesize = fontsize + 5;
	let out = header(imagewidth, imageheight, options, true);
	out += `<defs>
	<linearGradient id="background" y1="0" y2="1" x1="0" x2="0">
		<stop stop-color="${bgcolor1}" offset="5%" />
		<stop stop-color="${bgcolor2}" offset="95%" />
	</linearGradient>
</defs>
<style type="text/css">
	text { font-family:${options.fonttype ?? 'Verdana'}; font-size:${perlNumber(fontsize)}px; fill:rgb(0,0,0); }
	#title { text-anchor:middle; font-size:${perlNumber(titlesize)}px; }
	#subtitle { text-anchor:middle; fill:rgb(160,160,160); }
	#search, #ignorecase { opacity:0.1; cursor:pointer; }
	#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity:1; }
	#unzoom { cursor:pointer; }
	#frames > *:hover { stroke:black; stroke-width:0.5; cursor:pointer; }
	.hide { display:none; }
	.parent { opacity:0.5; }
</style>
`;
	out += flameGraphScript({ xpad, width: imagewidth, fontsize, fontwidth, inverted, searchcolor: 'rgb(230,0,230)', nametype });
	out += rect(0, 0, imagewidth, imageheight, 'url(#background)');
	out += text('title', Math.trunc(imagewidth / 2), fontsize * 2, escapeXml(titletext));
	if (subtitletext !== '') out += text('subtitle', Math.trunc(imagewidth / 2), fontsize * 4, escapeXml(subtitletext));
	out += text('details', xpad, imageheight - ypad2 / 2, ' ');
	out += text('unzoom', xpad, fontsize * 2, 'Reset Zoom', 'class="hide"');
	out += text('search', imagewidth - xpad - 100, fontsize * 2, 'Search');
	out += text('ignorecase', imagewidth - xpad - 16, fontsize * 2, 'ic');
	out += text('matched', imagewidth - xpad - 100, imageheight - ypad2 / 2, ' ');
	out += '<g id="frames">\n';
	yield out;
	out = '';

	// Per depth: the rect's y and height and the label's y, as text.
	const rows: { y: string; height: string; textY: string }[] = [];
	for (let depth = 0; depth <= depthmax; depth++) {
		const y1 = inverted ? ypad1 + depth * frameheight : imageheight - ypad2 - (depth + 1) * frameheight + framepad;
		const y2 = inverted ? ypad1 + (depth + 1) * frameheight - framepad : imageheight - ypad2 - depth * frameheight;
		rows.push({ y: perlNumber(y1), height: cFixed(y2 - y1, 1), textY: perlNumber(3 + (y1 + y2) / 2) });
	}
	const names = new Map<string, NameInfo>();
	const nameInfo = (func: string): NameInfo => {
		let info = names.get(func);
		if (info === undefined) {
			const label = func.replace(annotationRe, '');
			const glyphs = chars(label);
			const title = /[&<>"]/.test(func) ? func.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replace(annotationRe, '') : label;
			info = { title, color: undefined, label, glyphs, length: glyphs ? glyphs.length : label.length, full: escapeXml(label) };
			names.set(func, info);
		}
		return info;
	};
	const standardColors = !renderer.random && !options.palette;

	const total = timemax * factor;
	const charWidth = fontsize * fontwidth;
	const parts: string[] = [];
	let size = 0;
	for (let n = 0; n < nodeCount; n++) {
		const stime = nodeStime[n]!;
		if (nodeEtime[n]! - stime < minwidthTime) continue;
		const func = nodeFunc[n]!;
		const depth = nodeDepth[n]!;
		const nodeDeltaValue = nodeDelta[n];
		const root = func === '' && depth === 0;
		const etime = root ? timemax : nodeEtime[n]!;
		const x1 = xpad + stime * widthpertime;
		const x2 = xpad + etime * widthpertime;
		const samples = cFixed((etime - stime) * factor, 0);
		const samplesText = addCommas(samples);
		const name = nameInfo(func);
		let info: string;
		if (root) {
			info = `all (${samplesText} ${countname}, 100%)`;
		} else {
			const pct = cFixed((100 * Number(samples)) / total, 2);
			if (nodeDeltaValue === undefined) {
				info = `${name.title} (${samplesText} ${countname}, ${pct}%)`;
			} else {
				const d = options.negate ? -nodeDeltaValue : nodeDeltaValue;
				let deltapct = cFixed((100 * d) / total, 2);
				if (d > 0) deltapct = `+${deltapct}`;
				info = `${name.title} (${samplesText} ${countname}, ${pct}%; ${deltapct}%)`;
			}
		}
		let close = '</g>\n';
		let frame: string;
		if (options.nameattr) {
			const attributes: Record<string, string> = { ...options.nameattr.get(func) };
			if (!attributes['title']) attributes['title'] = info;
			frame = groupStart(attributes);
			if (attributes['href']) close = '</a>\n';
		} else {
			frame = `<g >\n<title>${info}</title>`;
		}

		let color: string;
		if (func === '--') color = 'rgb(160,160,160)';
		else if (func === '-') color = 'rgb(200,200,200)';
		else if (nodeDeltaValue !== undefined) color = colorScale(nodeDeltaValue, maxdelta, renderer.negate);
		else if (standardColors) color = name.color ??= colorFor(colors, func, renderer);
		else if (options.palette) {
			color = options.palette.get(func) ?? colorFor(colors, func, renderer);
			options.palette.set(func, color);
		} else color = colorFor(colors, func, renderer);
		const row = rows[depth]!;
		const left = cFixed(x1, 1);
		const right = cFixed(x2, 1);
		frame += `<rect x="${left}" y="${row.y}" width="${cFixed(Number(right) - Number(left), 1)}" height="${row.height}" fill="${color}" rx="2" ry="2" />\n`;

		const fit = Math.trunc((x2 - x1) / charWidth);
		let label = '';
		if (fit >= 3) {
			if (fit >= name.length) label = name.full;
			else label = escapeXml((name.glyphs ? name.glyphs.slice(0, fit - 2).join('') : name.label.slice(0, fit - 2)) + '..');
		}
		frame += `<text  x="${cFixed(x1 + 3, 2)}" y="${row.textY}" >${label}</text>\n${close}`;
		// Each frame's text made flat now (charCodeAt flattens), and the
		// chunk joined at the end: appending to one string would build a
		// tree of pieces that lives through many young-generation collections.
		frame.charCodeAt(0);
		parts.push(frame);
		size += frame.length;
		if (size >= 65536) {
			yield parts.join('');
			parts.length = 0;
			size = 0;
		}
	}
	parts.push('</g>\n</svg>\n');
	yield parts.join('');
	return { ok: true, ignored, total: time, frames: drawnCount };
}

function groupStart(attributes: Record<string, string>): string {
	const g: string[] = [];
	for (const name of ['id', 'class']) {
		if (attributes[name] !== undefined) g.push(`${name}="${attributes[name]}"`);
	}
	if (attributes['g_extra']) g.push(attributes['g_extra']);
	let start: string;
	if (attributes['href']) {
		const a = [`xlink:href="${attributes['href']}"`, `target="${attributes['target'] || '_top'}"`];
		if (attributes['a_extra']) a.push(attributes['a_extra']);
		start = `<a ${[...a, ...g].join(' ')}>\n`;
	} else {
		start = `<g ${g.join(' ')}>\n`;
	}
	return attributes['title'] ? `${start}<title>${attributes['title']}</title>` : start;
}

/** Splits folded text into lines (a final newline ends the last one). */
export function foldedLines(folded: string): string[] {
	const lines = folded.split('\n');
	if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
	return lines;
}

/**
 * Renders folded text (newline-separated lines). See {@link renderFlameGraph}.
 */
export function flameGraphFromFolded(folded: string, options: FlameGraphOptions = {}): FlameGraphResult {
	return renderFlameGraph(foldedLines(folded), options);
}
