/**
 * An event's print fmt turned around: from the text the kernel printed back
 * to the event's fields by name. The kernel renders an event with
 * printf(print fmt, args...); we parse the format's conversions and argument
 * expressions, build an anchored matcher, and map each captured value to the
 * field its argument reads. Arguments that derive several values from one
 * field (dev as "%d,%d" of MAJOR/MINOR, ioprio as "%s,%u,%u") are inverted
 * back to the field when they are bit extractions; otherwise the field keeps
 * its printed text.
 */
import type {EventField, EventFormat} from './format.js';
import {splitTopLevel} from './format.js';
import {normalizeInteger, type FieldValue} from './trace-record.js';

// ---- C expressions of print fmt arguments -----------------------------------

/** A parsed print fmt argument expression. */
export type Expr =
	| {readonly k: 'num'; readonly v: bigint}
	| {readonly k: 'str'; readonly v: string}
	| {readonly k: 'field'; readonly name: string}
	| {readonly k: 'id'; readonly name: string}
	| {readonly k: 'unary'; readonly op: string; readonly a: Expr}
	| {readonly k: 'binary'; readonly op: string; readonly a: Expr; readonly b: Expr}
	| {readonly k: 'cond'; readonly c: Expr; readonly a: Expr; readonly b: Expr}
	| {readonly k: 'cast'; readonly type: string; readonly a: Expr}
	| {readonly k: 'call'; readonly name: string; readonly args: readonly Expr[]}
	| {readonly k: 'list'; readonly items: readonly Expr[]}
	| {readonly k: 'unknown'; readonly text: string};

/**
 * Enum constants that appear by name in print fmts of current kernels (the
 * kernel substitutes only TRACE_DEFINE_ENUM'd names). Needed to invert
 * __print_symbolic tables such as block's ioprio class.
 */
export const knownConstants: ReadonlyMap<string, bigint> = new Map([
	['IOPRIO_CLASS_NONE', 0n],
	['IOPRIO_CLASS_RT', 1n],
	['IOPRIO_CLASS_BE', 2n],
	['IOPRIO_CLASS_IDLE', 3n],
	['IOPRIO_CLASS_INVALID', 7n],
	['true', 1n],
	['false', 0n],
]);

const typeWords = new Set(['unsigned', 'signed', 'int', 'long', 'short', 'char', 'const', 'volatile', 'struct', 'enum', 'union', 'void', 'bool', '_Bool', 'float', 'double']);

function isTypeWord(word: string): boolean {
	return typeWords.has(word) || /^(?:__)?[us](?:8|16|32|64)$/.test(word) || /_t$/.test(word);
}

const tokenPattern = /\s*(?:(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|([A-Za-z_]\w*)|("(?:[^"\\]|\\.)*")|('(?:[^'\\]|\\.)*')|(->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>?:(){}[\],.]))/y;

type Token = {t: 'num'; v: bigint} | {t: 'id'; v: string} | {t: 'str'; v: string} | {t: 'op'; v: string};

function tokenize(text: string): Token[] {
	const tokens: Token[] = [];
	tokenPattern.lastIndex = 0;
	let index = 0;
	while (index < text.length) {
		if (/^\s*$/.test(text.slice(index))) {
			break;
		}

		tokenPattern.lastIndex = index;
		const match = tokenPattern.exec(text);
		if (!match) {
			throw new SyntaxError(`cannot tokenize print fmt argument at ${JSON.stringify(text.slice(index, index + 20))}`);
		}

		index = tokenPattern.lastIndex;
		if (match[1] !== undefined) {
			const digits = match[1];
			tokens.push({t: 'num', v: /^0\d/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits)});
		} else if (match[2] !== undefined) {
			tokens.push({t: 'id', v: match[2]});
		} else if (match[3] !== undefined) {
			tokens.push({t: 'str', v: match[3].slice(1, -1).replaceAll(/\\(.)/g, '$1')});
		} else if (match[4] !== undefined) {
			const body = match[4].slice(1, -1).replaceAll(/\\(.)/g, '$1');
			tokens.push({t: 'num', v: BigInt(body.codePointAt(0) ?? 0)});
		} else {
			tokens.push({t: 'op', v: match[5]!});
		}
	}

	return tokens;
}

const binaryPrecedence: Record<string, number> = {
	'||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
	'<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

class ExprParser {
	#i = 0;
	constructor(private readonly tokens: Token[]) {}

	parse(): Expr {
		const expr = this.#conditional();
		if (this.#i < this.tokens.length) {
			throw new SyntaxError('trailing tokens in print fmt argument');
		}

		return expr;
	}

	#peek(offset = 0): Token | undefined {
		return this.tokens[this.#i + offset];
	}

	#isOp(value: string, offset = 0): boolean {
		const token = this.#peek(offset);
		return token?.t === 'op' && token.v === value;
	}

	#expect(value: string): void {
		if (!this.#isOp(value)) {
			throw new SyntaxError(`expected "${value}" in print fmt argument`);
		}

		this.#i++;
	}

	#conditional(): Expr {
		const c = this.#binary(1);
		if (this.#isOp('?')) {
			this.#i++;
			const a = this.#conditional();
			this.#expect(':');
			const b = this.#conditional();
			return {k: 'cond', c, a, b};
		}

		return c;
	}

	#binary(minPrecedence: number): Expr {
		let left = this.#unary();
		for (;;) {
			const token = this.#peek();
			const precedence = token?.t === 'op' ? binaryPrecedence[token.v] : undefined;
			if (precedence === undefined || precedence < minPrecedence) {
				return left;
			}

			this.#i++;
			const right = this.#binary(precedence + 1);
			left = {k: 'binary', op: String(token!.v), a: left, b: right};
		}
	}

	/** Whether the tokens at the cursor (just after "(") spell a type name followed by ")". */
	#castLength(): number {
		let n = 0;
		let sawType = false;
		for (;;) {
			const token = this.#peek(n);
			if (token?.t === 'id' && (isTypeWord(token.v) || (sawType && this.#peek(n - 1)?.v === 'struct'))) {
				sawType = true;
				n++;
			} else if (token?.t === 'op' && token.v === '*' && sawType) {
				n++;
			} else if (token?.t === 'op' && token.v === ')' && sawType) {
				return n;
			} else {
				return 0;
			}
		}
	}

	#unary(): Expr {
		const token = this.#peek();
		if (token?.t === 'op' && ['-', '+', '~', '!', '*', '&'].includes(token.v)) {
			this.#i++;
			return {k: 'unary', op: token.v, a: this.#unary()};
		}

		if (token?.t === 'op' && token.v === '(') {
			this.#i++;
			const castLength = this.#castLength();
			if (castLength > 0) {
				const type = this.tokens.slice(this.#i, this.#i + castLength).map(t => String(t.v)).join(' ');
				this.#i += castLength + 1;
				return {k: 'cast', type, a: this.#unary()};
			}

			const inner = this.#conditional();
			this.#expect(')');
			return this.#postfix(inner);
		}

		return this.#postfix(this.#primary());
	}

	#postfix(expr: Expr): Expr {
		let result = expr;
		for (;;) {
			if (this.#isOp('[')) {
				this.#i++;
				const index = this.#conditional();
				this.#expect(']');
				result = {k: 'binary', op: '[]', a: result, b: index};
			} else if (this.#isOp('->') || this.#isOp('.')) {
				this.#i++;
				const member = this.#peek();
				this.#i++;
				result = {k: 'unknown', text: `${describe(result)}.${String(member?.v)}`};
			} else {
				return result;
			}
		}
	}

	#primary(): Expr {
		const token = this.#peek();
		if (!token) {
			throw new SyntaxError('unexpected end of print fmt argument');
		}

		this.#i++;
		if (token.t === 'num') {
			return {k: 'num', v: token.v};
		}

		if (token.t === 'str') {
			let text = token.v;
			while (this.#peek()?.t === 'str') {
				text += String(this.#peek()!.v);
				this.#i++;
			}

			return {k: 'str', v: text};
		}

		if (token.t === 'op' && token.v === '{') {
			const items: Expr[] = [];
			while (!this.#isOp('}')) {
				items.push(this.#conditional());
				if (this.#isOp(',')) {
					this.#i++;
				}
			}

			this.#i++;
			return {k: 'list', items};
		}

		if (token.t === 'id') {
			if (token.v === 'REC' && this.#isOp('->')) {
				this.#i++;
				const name = this.#peek();
				this.#i++;
				if (name?.t !== 'id') {
					throw new SyntaxError('expected a field name after REC->');
				}

				return {k: 'field', name: name.v};
			}

			if (this.#isOp('(')) {
				this.#i++;
				const args: Expr[] = [];
				while (!this.#isOp(')')) {
					if (this.#i >= this.tokens.length) {
						throw new SyntaxError('unterminated call in print fmt argument');
					}

					args.push(this.#conditional());
					if (this.#isOp(',')) {
						this.#i++;
					}
				}

				this.#i++;
				return {k: 'call', name: token.v, args};
			}

			return {k: 'id', name: token.v};
		}

		throw new SyntaxError(`unexpected "${String(token.v)}" in print fmt argument`);
	}
}

function describe(expr: Expr): string {
	return expr.k === 'field' ? `REC->${expr.name}` : expr.k;
}

/** Parse one print fmt argument. Unparseable text becomes {k: 'unknown'}; never throws. */
export function parseExpr(text: string): Expr {
	try {
		return new ExprParser(tokenize(text)).parse();
	} catch {
		return {k: 'unknown', text};
	}
}

/** The fields an expression reads (REC->name), in order of first use. */
export function fieldsOf(expr: Expr, into: string[] = []): string[] {
	switch (expr.k) {
		case 'field': {
			if (!into.includes(expr.name)) {
				into.push(expr.name);
			}

			break;
		}

		case 'unary':
		case 'cast': {
			fieldsOf(expr.a, into);
			break;
		}

		case 'binary': {
			fieldsOf(expr.a, into);
			fieldsOf(expr.b, into);
			break;
		}

		case 'cond': {
			fieldsOf(expr.c, into);
			fieldsOf(expr.a, into);
			fieldsOf(expr.b, into);
			break;
		}

		case 'call': {
			for (const arg of expr.args) {
				fieldsOf(arg, into);
			}

			break;
		}

		case 'list': {
			for (const item of expr.items) {
				fieldsOf(item, into);
			}

			break;
		}

		default:
	}

	return into;
}

function castBits(type: string): {bits: bigint; signed: boolean} | undefined {
	const t = type.replaceAll(/\bconst\b|\bvolatile\b/g, '').trim();
	if (t.endsWith('*')) {
		return {bits: 64n, signed: false};
	}

	const unsigned = /\bunsigned\b|^(?:__)?u\d+$|^size_t$|_t$/.test(t) && !/^(?:__)?s\d+$|^ssize_t$|^pid_t$/.test(t);
	const sized = /(\d+)$/.exec(t);
	let bits: bigint;
	if (/^(?:__)?[us](8|16|32|64)$/.test(t) && sized) {
		bits = BigInt(sized[1]!);
	} else if (/\bchar\b|^bool$|^_Bool$/.test(t)) {
		bits = 8n;
	} else if (/\bshort\b/.test(t)) {
		bits = 16n;
	} else if (/\blong\b|size_t|^u64$|^s64$/.test(t)) {
		bits = 64n;
	} else if (/\bint\b|^(?:unsigned|signed)$|pid_t|dev_t|gfp_t|umode_t/.test(t)) {
		bits = /umode_t/.test(t) ? 16n : 32n;
	} else {
		return undefined;
	}

	return {bits, signed: !unsigned && !/^bool$|^_Bool$/.test(t)};
}

function wrap(value: bigint, bits: bigint, signed: boolean): bigint {
	return signed ? BigInt.asIntN(Number(bits), value) : BigInt.asUintN(Number(bits), value);
}

/**
 * Evaluate an integer expression with BigInt arithmetic. `field` supplies
 * REC->name values. Returns undefined for what cannot be evaluated (strings,
 * helper calls, unknown identifiers, division by zero).
 */
export function evaluate(expr: Expr, field: (name: string) => bigint | undefined = () => undefined): bigint | undefined {
	switch (expr.k) {
		case 'num': {
			return expr.v;
		}

		case 'field': {
			return field(expr.name);
		}

		case 'id': {
			return knownConstants.get(expr.name);
		}

		case 'cast': {
			const value = evaluate(expr.a, field);
			const bits = castBits(expr.type);
			return value === undefined || !bits ? value : wrap(value, bits.bits, bits.signed);
		}

		case 'unary': {
			const a = evaluate(expr.a, field);
			if (a === undefined) {
				return undefined;
			}

			switch (expr.op) {
				case '-': {
					return -a;
				}

				case '+': {
					return a;
				}

				case '~': {
					return ~a;
				}

				case '!': {
					return a === 0n ? 1n : 0n;
				}

				default: {
					return undefined;
				}
			}
		}

		case 'cond': {
			const c = evaluate(expr.c, field);
			return c === undefined ? undefined : evaluate(c === 0n ? expr.b : expr.a, field);
		}

		case 'binary': {
			const a = evaluate(expr.a, field);
			const b = evaluate(expr.b, field);
			if (a === undefined || b === undefined) {
				return undefined;
			}

			switch (expr.op) {
				case '+': { return a + b; }
				case '-': { return a - b; }
				case '*': { return a * b; }
				case '/': { return b === 0n ? undefined : a / b; }
				case '%': { return b === 0n ? undefined : a % b; }
				case '<<': { return a << b; }
				case '>>': { return a >> b; }
				case '&': { return a & b; }
				case '|': { return a | b; }
				case '^': { return a ^ b; }
				case '&&': { return a !== 0n && b !== 0n ? 1n : 0n; }
				case '||': { return a !== 0n || b !== 0n ? 1n : 0n; }
				case '==': { return a === b ? 1n : 0n; }
				case '!=': { return a === b ? 0n : 1n; }
				case '<': { return a < b ? 1n : 0n; }
				case '>': { return a > b ? 1n : 0n; }
				case '<=': { return a <= b ? 1n : 0n; }
				case '>=': { return a >= b ? 1n : 0n; }
				default: { return undefined; }
			}
		}

		default: {
			return undefined;
		}
	}
}

/** A bit extraction of one field: value = (field >> shift) & mask. */
interface Extraction {
	readonly field: string;
	readonly shift: bigint;
	readonly mask: bigint | undefined;
}

function stripCasts(expr: Expr): Expr {
	let current = expr;
	while (current.k === 'cast') {
		current = current.a;
	}

	return current;
}

const extractionCache = new WeakMap<Expr, Extraction | null>();

function extraction(expr: Expr): Extraction | undefined {
	let cached = extractionCache.get(expr);
	if (cached === undefined) {
		cached = computeExtraction(expr) ?? null;
		extractionCache.set(expr, cached);
	}

	return cached ?? undefined;
}

function computeExtraction(expr: Expr): Extraction | undefined {
	const e = stripCasts(expr);
	if (e.k === 'field') {
		return {field: e.name, shift: 0n, mask: undefined};
	}

	if (e.k !== 'binary') {
		return undefined;
	}

	if (e.op === '&') {
		const [inner, maskExpr] = fieldsOf(e.a).length > 0 ? [e.a, e.b] : [e.b, e.a];
		const mask = evaluate(maskExpr);
		const base = extraction(inner);
		if (mask === undefined || !base) {
			return undefined;
		}

		return {field: base.field, shift: base.shift, mask: base.mask === undefined ? mask : base.mask & mask};
	}

	if (e.op === '>>') {
		const shift = evaluate(e.b);
		const base = extraction(e.a);
		if (shift === undefined || !base) {
			return undefined;
		}

		return {field: base.field, shift: base.shift + shift, mask: base.mask === undefined ? undefined : base.mask >> shift};
	}

	return undefined;
}

// ---- the print fmt ------------------------------------------------------------

/** One printf conversion of a print fmt. */
export interface Conversion {
	/** The conversion character: d i u o x X c s p e f g. */
	readonly conv: string;
	/** Length modifier (l, ll, h, hh, z...). */
	readonly length: string;
	/** %p extension letters (S, s, K, I4...). */
	readonly extension: string;
	/** Index of the argument it prints. */
	readonly arg: number;
}

const conversionPattern = /%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?(hh|h|ll|l|L|z|j|t|q)?([diouxXcspfeEgGn%])/g;

/** Split a print fmt into literal text and conversions: literals.length === conversions.length + 1. */
export function parsePrintFormat(fmt: string): {literals: string[]; conversions: Conversion[]} {
	const literals: string[] = [];
	const conversions: Conversion[] = [];
	let literal = '';
	let last = 0;
	let arg = 0;
	conversionPattern.lastIndex = 0;
	for (let match = conversionPattern.exec(fmt); match; match = conversionPattern.exec(fmt)) {
		literal += fmt.slice(last, match.index);
		last = conversionPattern.lastIndex;
		if (match[5] === '%') {
			literal += '%';
			continue;
		}

		if (match[2] === '*') {
			arg++;
		}

		if (match[3] === '*') {
			arg++;
		}

		let extension = '';
		if (match[5] === 'p') {
			extension = /^[A-Za-z]\w*/.exec(fmt.slice(last))?.[0] ?? '';
			last += extension.length;
			conversionPattern.lastIndex = last;
		}

		literals.push(literal);
		literal = '';
		conversions.push({conv: match[5]!, length: match[4] ?? '', extension, arg: arg++});
	}

	literals.push(literal + fmt.slice(last));
	return {literals, conversions};
}

function escapeRegExp(text: string): string {
	return text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How an argument relates to the event's fields. */
type ArgKind =
	| {readonly kind: 'field'; readonly field: string}
	| {readonly kind: 'symbolic'; readonly flags: string | undefined; readonly inner: Expr; readonly table: ReadonlyArray<readonly [Expr, string]>}
	| {readonly kind: 'expr'; readonly expr: Expr};

const stringHelpers = new Set(['__get_str', '__get_rel_str', '__get_bitmask', '__get_rel_bitmask', '__get_cpumask', '__get_rel_cpumask', '__get_sockaddr', '__get_rel_sockaddr', '__get_dynamic_array', '__get_rel_dynamic_array']);
const printedHelpers = new Set(['__print_hex', '__print_hex_str', '__print_array', '__print_dynamic_array', '__print_hex_dump', '__print_ns_to_secs', '__print_ns_without_secs']);

function classify(expr: Expr): ArgKind {
	const e = stripCasts(expr);
	if (e.k === 'field') {
		return {kind: 'field', field: e.name};
	}

	if (e.k === 'call' && stringHelpers.has(e.name)) {
		const inner = e.args[0] && stripCasts(e.args[0]);
		if (inner?.k === 'id') {
			return {kind: 'field', field: inner.name};
		}
	}

	if (e.k === 'call' && /^__print_(symbolic|flags)(?:_u64)?$/.test(e.name) && e.args[0]) {
		const isFlags = e.name.startsWith('__print_flags');
		const delimiter = isFlags && e.args[1]?.k === 'str' ? e.args[1].v : isFlags ? '|' : undefined;
		const table: Array<readonly [Expr, string]> = [];
		for (const item of e.args.slice(isFlags ? 2 : 1)) {
			if (item.k === 'list' && item.items[0] && item.items[1]?.k === 'str') {
				table.push([item.items[0], item.items[1].v]);
			}
		}

		return {kind: 'symbolic', flags: delimiter, inner: e.args[0], table};
	}

	if (e.k === 'call' && printedHelpers.has(e.name)) {
		// __print_hex(__get_dynamic_array(buf), len): a printed view of one field.
		const fields = fieldsOf(e);
		const dynamic = e.args[0] && stripCasts(e.args[0]);
		const name = dynamic?.k === 'call' && dynamic.args[0]?.k === 'id' ? dynamic.args[0].name : fields[0];
		if (name !== undefined) {
			return {kind: 'expr', expr: {k: 'call', name: e.name, args: [{k: 'field', name}]}};
		}
	}

	return {kind: 'expr', expr};
}

function captureFor(conversion: Conversion, field: EventField | undefined, last: boolean): string {
	switch (conversion.conv) {
		case 'd':
		case 'i': {
			return ' *(-?\\d+)';
		}

		case 'u': {
			return ' *(-?\\d+)';
		}

		case 'o': {
			return ' *([0-7]+)';
		}

		case 'x':
		case 'X': {
			// Pointer-typed values may be printed as symbols by custom output (kprobes' "(%lx)").
			return field?.isPointer || field?.name.startsWith('__probe') ? '(\\S+?)' : ' *(-?[0-9a-fA-F]+)';
		}

		case 'c': {
			return '([\\s\\S])';
		}

		case 'p': {
			return last ? '(.*)' : '(.*?)';
		}

		case 's': {
			return last ? '(.*)' : '(.*?)';
		}

		default: {
			return '(\\S+?)';
		}
	}
}

/** The fields one body decode produced. */
export type DecodedFields = Record<string, FieldValue>;

/**
 * A compiled print fmt: turns an event body printed by the kernel back into
 * the event's fields by name.
 */
export interface BodyDecoder {
	readonly format: EventFormat;
	/** The regular expression built from the print fmt (anchored). */
	readonly pattern: RegExp;
	/** The print fmt's literal text around the conversions (one more than conversions). */
	readonly literals: readonly string[];
	readonly conversions: readonly Conversion[];
	/** The capture group `pattern` uses for each conversion (e.g. " *(-?\\d+)", "(.*?)"). */
	readonly captures: readonly string[];
	/** Which conversions each decoded field is read from, in the order decode() sets them. */
	readonly fields: readonly FieldPlan[];
	/** Decode a body; undefined when it does not match the print fmt. */
	decode(body: string): DecodedFields | undefined;
}

/** How one field is read back from the text its conversions captured. */
export interface FieldPlan {
	readonly name: string;
	readonly field: EventField;
	/** Indexes of the conversions printing this field, in print order. */
	readonly conversions: readonly number[];
	/** True when one conversion prints the field itself (no expression, table or helper around it). */
	readonly direct: boolean;
	/**
	 * The field's value from the captured texts: `texts[offset + i]` is the
	 * text of conversion i (a RegExp match with offset 1, or a plain array).
	 */
	value(texts: ArrayLike<string | undefined>, offset: number): FieldValue;
	/**
	 * Set when the field is printed in two decimal parts, `field >> shift`
	 * then `field & (2^shift - 1)` (dev as MAJOR,MINOR): for parts x and y,
	 * both non-negative, y below 2^shift and x * 2^shift + y below `limit`,
	 * value() is x * 2^shift + y.
	 */
	readonly highLow?: {readonly shift: number; readonly limit: number} | undefined;
}

function parseInteger(text: string, conv: string): bigint | undefined {
	const t = text.trim();
	try {
		if (conv === 'x' || conv === 'X' || conv === 'p') {
			const negative = t.startsWith('-');
			const digits = t.replace(/^-?(?:0[xX])?/, '');
			if (!/^[0-9a-fA-F]+$/.test(digits)) {
				return undefined;
			}

			const value = BigInt(`0x${digits}`);
			return negative ? -value : value;
		}

		if (conv === 'o') {
			return /^[0-7]+$/.test(t) ? BigInt(`0o${t}`) : undefined;
		}

		return /^-?\d+$/.test(t) ? BigInt(t) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Bring an integer the kernel printed through a cast back to the field's own
 * width and signedness, so the text reader agrees with the binary one
 * (e.g. "0xfffffffffffffffe" of a signed long is -2).
 */
export function fitToField(value: bigint, field: EventField | undefined): bigint {
	if (!field || field.arrayLength !== undefined || field.dataLoc || field.size <= 0 || field.size > 8) {
		return value;
	}

	const bits = field.size * 8;
	return field.signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
}

const symbolTables = new WeakMap<object, Map<string, bigint | undefined>>();

function symbolValue(kind: Extract<ArgKind, {kind: 'symbolic'}>, printed: string): bigint | undefined {
	let table = symbolTables.get(kind.table);
	if (!table) {
		table = new Map();
		for (const [valueExpr, name] of kind.table) {
			if (!table.has(name)) {
				table.set(name, evaluate(valueExpr));
			}
		}

		symbolTables.set(kind.table, table);
	}

	const lookup = (text: string): bigint | undefined => (table.has(text) ? table.get(text) : /^0x[0-9a-fA-F]+$/.test(text) ? BigInt(text) : undefined);

	if (kind.flags === undefined) {
		return lookup(printed);
	}

	if (printed === '') {
		return 0n;
	}

	let total = 0n;
	for (const part of printed.split(kind.flags)) {
		const value = lookup(part);
		if (value === undefined) {
			return undefined;
		}

		total |= value;
	}

	return total;
}

/**
 * Compile an event's print fmt into a body decoder. Throws nothing: a print
 * fmt it cannot understand yields a decoder whose decode() returns undefined.
 */
export function compileBodyDecoder(format: EventFormat): BodyDecoder {
	const {literals, conversions} = parsePrintFormat(format.printFormat);
	const args = format.printArgs.map(text => classify(parseExpr(text)));
	let source = '^';
	const captures: string[] = [];
	for (const [index, conversion] of conversions.entries()) {
		source += escapeRegExp(literals[index]!);
		const arg = args[conversion.arg];
		const field = arg?.kind === 'field' ? format.byName.get(arg.field) : undefined;
		captures.push(captureFor(conversion, field, index === conversions.length - 1 && literals[index + 1] === ''));
		source += captures.at(-1)!;
	}

	source += `${escapeRegExp(literals.at(-1) ?? '')}$`;
	// `s`: strings may hold \r, U+2028 or U+2029 (the kernel prints them as it found them).
	const pattern = new RegExp(source, 's');

	// Which conversions feed which field.
	interface Use {readonly index: number; readonly conversion: Conversion; readonly arg: ArgKind}
	const uses = new Map<string, Use[]>();
	for (const [index, conversion] of conversions.entries()) {
		const arg = args[conversion.arg];
		if (!arg) {
			continue;
		}

		const names = arg.kind === 'field' ? [arg.field] : fieldsOf(arg.kind === 'symbolic' ? arg.inner : arg.expr);
		if (names.length !== 1 || !format.byName.has(names[0]!)) {
			continue;
		}

		const list = uses.get(names[0]!) ?? [];
		list.push({index, conversion, arg});
		uses.set(names[0]!, list);
	}

	const plan = [...uses].map(([name, list]): FieldPlan => {
		const field = format.byName.get(name)!;
		const first = list[0]!;
		const indexes = list.map(use => use.index);
		if (list.length === 1 && first.arg.kind === 'field') {
			return {name, field, conversions: indexes, direct: true, value: (texts, offset) => fieldValue(texts[first.index + offset] ?? '', first.conversion, field)};
		}

		// Values printed in parts (dev as major,minor; ioprio as class,level,hint) repeat: remember them.
		const memo = new Map<string, FieldValue>();
		const value = (texts: ArrayLike<string | undefined>, offset: number): FieldValue => {
			const parts = list.map(use => ({use, text: texts[use.index + offset] ?? ''}));
			const key = parts.length === 1 ? parts[0]!.text : parts.map(part => part.text).join('\0');
			const known = memo.get(key);
			if (known !== undefined) {
				return known;
			}

			const result = invert(parts, field) ?? searchSmall(parts, field)
				?? joinPrinted(indexes, parts.map(part => part.text), literals);
			if (memo.size < memoLimit && parts.every(part => !part.text.includes('\0'))) {
				memo.set(key, result);
			}

			return result;
		};

		return {name, field, conversions: indexes, direct: false, value, highLow: highLowOf(list, name, field)};
	});

	const decode = (body: string): DecodedFields | undefined => {
		const match = pattern.exec(body);
		if (!match) {
			return undefined;
		}

		const fields: DecodedFields = {};
		for (const field of plan) {
			fields[field.name] = field.value(match, 1);
		}

		return fields;
	};

	return {format, pattern, literals, conversions, captures, fields: plan, decode};

	/** FieldPlan.highLow for the uses of field `name`, when they print it so. */
	function highLowOf(list: readonly Use[], name: string, field: EventField): FieldPlan['highLow'] {
		if (list.length !== 2 || field.arrayLength !== undefined || field.dataLoc || field.size < 1 || field.size > 8
			|| list.some(use => use.arg.kind === 'symbolic' || !'diu'.includes(use.conversion.conv))) {
			return undefined;
		}

		const [high, low] = list.map(use => extraction(use.arg.kind === 'expr' ? use.arg.expr : use.arg.kind === 'field' ? {k: 'field', name: use.arg.field} : {k: 'field', name: ''}));
		if (high?.field !== name || low?.field !== name || high.mask !== undefined || low.shift !== 0n
			|| high.shift < 1n || high.shift > 52n || low.mask !== (1n << high.shift) - 1n) {
			return undefined;
		}

		// As invert(): exact while the rebuilt value fits the field (and a double).
		const bits = Math.min((field.size * 8) - (field.signed ? 1 : 0), 53);
		return {shift: Number(high.shift), limit: 2 ** bits};
	}

	/** One-byte fields (bool flags) printed through expressions ("x ? \"true\" : \"false\""): try every value. */
	function searchSmall(parts: Array<{use: Use; text: string}>, field: EventField): FieldValue | undefined {
		if (field.size !== 1 || field.arrayLength !== undefined || parts.some(part => part.use.arg.kind !== 'expr')) {
			return undefined;
		}

		for (let candidate = 0n; candidate < 256n; candidate++) {
			const value = fitToField(candidate, field);
			if (parts.every(({use, text}) => use.arg.kind === 'expr' && render(use.arg.expr, use.conversion, () => value) === text)) {
				return Number(value);
			}
		}

		return undefined;
	}

	function invert(parts: Array<{use: Use; text: string}>, field: EventField): FieldValue | undefined {
		let total = 0n;
		const checks: Array<{extraction: Extraction; value: bigint}> = [];
		for (const {use, text} of parts) {
			let value: bigint | undefined;
			let inner: Expr;
			if (use.arg.kind === 'symbolic') {
				value = symbolValue(use.arg, text);
				inner = use.arg.inner;
			} else if (use.arg.kind === 'expr') {
				value = parseInteger(text, use.conversion.conv);
				inner = use.arg.expr;
			} else {
				value = parseInteger(text, use.conversion.conv);
				inner = {k: 'field', name: use.arg.field};
			}

			const ex = extraction(inner);
			if (value === undefined || !ex) {
				return undefined;
			}

			const bits = ex.mask === undefined ? value : value & ex.mask;
			total |= bits << ex.shift;
			checks.push({extraction: ex, value});
		}

		// Accept only when every printed part is reproduced from the rebuilt value.
		for (const {extraction: ex, value} of checks) {
			const shifted = total >> ex.shift;
			if ((ex.mask === undefined ? shifted : shifted & ex.mask) !== value) {
				return undefined;
			}
		}

		return normalizeInteger(fitToField(total, field));
	}
}

/** How the kernel would print an argument given field values (strings and integers only). */
function render(expr: Expr, conversion: Conversion, field: (name: string) => bigint | undefined): string | undefined {
	const e = stripCasts(expr);
	if (e.k === 'str') {
		return e.v;
	}

	if (e.k === 'cond') {
		const c = evaluate(e.c, field);
		return c === undefined ? undefined : render(c === 0n ? e.b : e.a, conversion, field);
	}

	const value = evaluate(expr, field);
	if (value === undefined) {
		return undefined;
	}

	return conversion.conv === 'x' || conversion.conv === 'X' ? value.toString(16) : value.toString();
}

/** The parts' texts joined as printed; `texts[i]` is the text of conversion `indexes[i]`. */
function joinPrinted(indexes: number[], texts: string[], literals: string[]): string {
	let text = texts[0] ?? '';
	for (let i = 1; i < indexes.length; i++) {
		const previous = indexes[i - 1]!;
		const current = indexes[i]!;
		// Keep the kernel's own separator when the parts were printed next to each other.
		const between = current === previous + 1 ? literals[current]! : ' ';
		text += between + (texts[i] ?? '');
	}

	return text;
}

/** Distinct printed values remembered per multi-part field (dev numbers and ioprio classes are few). */
const memoLimit = 4096;

function fieldValue(text: string, conversion: Conversion, field: EventField): FieldValue {
	if (conversion.conv === 's' || conversion.conv === 'c' || field.isString) {
		return text;
	}

	if (conversion.conv === 'p' && conversion.extension !== '') {
		return text;
	}

	const conv = conversion.conv;
	if ((conv === 'd' || conv === 'i' || conv === 'u') && field.size <= 4 && field.arrayLength === undefined && smallDecimal.test(text)) {
		// Fast path without BigInt: fits in a double exactly.
		const bits = 2 ** (field.size * 8);
		let n = Number(text);
		if (field.signed && n >= bits / 2) {
			n -= bits;
		} else if (!field.signed && n < 0) {
			n += bits;
		}

		return n;
	}

	const value = parseInteger(text, conv);
	return value === undefined ? text : normalizeInteger(fitToField(value, field));
}

const smallDecimal = /^ *-?\d{1,15}$/;

// ---- best effort, for bodies without a known format ---------------------------

/**
 * Split an unknown body into key=value (and "key: value" inside
 * parentheses, as syscall events print) pairs. Integers become numbers
 * (hex with 0x too); quoted strings are unquoted; the rest stays text.
 */
export function splitKeyValues(body: string): DecodedFields {
	const fields: DecodedFields = {};
	const pairs = /([A-Za-z_][\w.]*)(?:=|: )("(?:[^"\\]|\\.)*"|[^\s,()]*)/g;
	for (let match = pairs.exec(body); match; match = pairs.exec(body)) {
		const key = match[1]!;
		if (key in fields) {
			continue;
		}

		fields[key] = looseValue(match[2]!);
	}

	return fields;
}

/** A printed value as a number when it looks like one (decimal or 0x hex), unquoted when quoted. */
export function looseValue(text: string): FieldValue {
	if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
		return text.slice(1, -1).replaceAll(/\\(.)/g, '$1');
	}

	if (/^-?\d+$/.test(text)) {
		return normalizeInteger(BigInt(text));
	}

	if (/^0x[0-9a-fA-F]+$/.test(text)) {
		return normalizeInteger(BigInt(text));
	}

	return text;
}

/** Re-export for callers that parse argument lists themselves. */
export {splitTopLevel};
