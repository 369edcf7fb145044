/**
 * An event's `format` file, parsed: the typed fields of its records and the
 * print fmt the kernel uses to render them as text.
 */
export interface EventField {
	/** Field name as the kernel spells it, e.g. "nr_sector". */
	readonly name: string;
	/** The C type without the name, e.g. "unsigned int", "char[16]", "__data_loc char[]". */
	readonly type: string;
	/** Byte offset in the record. */
	readonly offset: number;
	/** Size in bytes (of the whole array for arrays, 4 for __data_loc). */
	readonly size: number;
	readonly signed: boolean;
	/** For fixed arrays, the element count ("char comm[16]" -> 16); 0 for flexible. */
	readonly arrayLength?: number | undefined;
	/** `__data_loc` (or `__rel_loc`) dynamic field: a u32 giving (length << 16 | offset). */
	readonly dataLoc?: 'data' | 'rel' | undefined;
	/** The element type for arrays and dynamic fields ("char" for strings). */
	readonly elementType: string;
	/** True for char arrays and dynamic char fields: decode as a C string. */
	readonly isString: boolean;
	/** True for pointer types (printed in hex). */
	readonly isPointer: boolean;
	/** True for the common_* header fields. */
	readonly common: boolean;
}

export interface EventFormat {
	readonly system: string;
	readonly name: string;
	readonly id: number;
	/** All fields, common ones first, in file order. */
	readonly fields: readonly EventField[];
	/** Fields by name. */
	readonly byName: ReadonlyMap<string, EventField>;
	/** The quoted format string of `print fmt:`, unescaped. */
	readonly printFormat: string;
	/** The argument expressions after the format string. */
	readonly printArgs: readonly string[];
}

const fieldLine = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);(?:\s*signed:(-?\d+);)?/;

/** Parse one field declaration ("unsigned char comm[16]") into type and name. */
export function parseFieldDeclaration(decl: string): {name: string; type: string; arrayLength?: number; dataLoc?: 'data' | 'rel'; elementType: string; isPointer: boolean} {
	let text = decl.trim();
	let dataLoc: 'data' | 'rel' | undefined;
	const loc = /^__(data|rel)_loc\s+/.exec(text);
	if (loc) {
		dataLoc = loc[1] as 'data' | 'rel';
		text = text.slice(loc[0].length);
	}

	let arrayLength: number | undefined;
	let arraySuffix = '';
	// Arrays may sit on the name ("char comm[16]") or on the type ("char[] name").
	const nameArray = /^(.*?)\s*\b(\w+)\s*\[([^\]]*)\]$/.exec(text);
	let name: string;
	let base: string;
	if (nameArray && !/\[\]\s*$/.test(nameArray[1]!)) {
		base = nameArray[1]!.trim();
		name = nameArray[2]!;
		const count = nameArray[3]!.trim();
		arrayLength = /^\d+$/.test(count) ? Number(count) : 0;
		arraySuffix = `[${count}]`;
	} else {
		const simple = /^(.*?)([A-Za-z_]\w*)$/.exec(text);
		base = (simple?.[1] ?? '').trim();
		name = simple?.[2] ?? text;
		const typeArray = /^(.*?)\s*\[(\d*)\]$/.exec(base);
		if (typeArray) {
			base = typeArray[1]!.trim();
			arrayLength = typeArray[2] === '' ? 0 : Number(typeArray[2]);
			arraySuffix = `[${typeArray[2]!}]`;
		}
	}

	const isPointer = base.endsWith('*');
	const type = `${dataLoc ? `__${dataLoc}_loc ` : ''}${base}${arraySuffix}`;
	return {
		name,
		type,
		...(arrayLength === undefined ? {} : {arrayLength}),
		...(dataLoc ? {dataLoc} : {}),
		elementType: base,
		isPointer,
	};
}

/** Split a print fmt's argument list on top-level commas. */
export function splitTopLevel(text: string): string[] {
	const parts: string[] = [];
	let depth = 0;
	let quote: string | undefined;
	let current = '';
	for (let i = 0; i < text.length; i++) {
		const ch = text[i]!;
		if (quote) {
			current += ch;
			if (ch === '\\') {
				current += text[++i] ?? '';
			} else if (ch === quote) {
				quote = undefined;
			}

			continue;
		}

		if (ch === '"' || ch === '\'') {
			quote = ch;
		} else if (ch === '(' || ch === '{' || ch === '[') {
			depth++;
		} else if (ch === ')' || ch === '}' || ch === ']') {
			depth--;
		} else if (ch === ',' && depth === 0) {
			parts.push(current.trim());
			current = '';
			continue;
		}

		current += ch;
	}

	if (current.trim() !== '') {
		parts.push(current.trim());
	}

	return parts;
}

/** Unescape a C string literal body. */
function unescapeC(text: string): string {
	return text.replaceAll(/\\(["\\nt'])/g, (_m, ch: string) => (ch === 'n' ? '\n' : ch === 't' ? '\t' : ch));
}

/**
 * Parse the text of an events/SYSTEM/EVENT/format file. `system` is taken from
 * the caller (the file does not name it). Throws Error on text that is not a
 * format file.
 */
export function parseEventFormat(text: string, system = ''): EventFormat {
	const name = /^name:\s*(\S+)/m.exec(text)?.[1];
	const id = /^ID:\s*(\d+)/m.exec(text)?.[1];
	if (name === undefined || id === undefined) {
		throw new Error('not an event format: no name or ID line');
	}

	const fields: EventField[] = [];
	for (const line of text.split('\n')) {
		const match = fieldLine.exec(line);
		if (!match) {
			continue;
		}

		const decl = parseFieldDeclaration(match[1]!);
		const size = Number(match[3]);
		const elementType = decl.elementType;
		const isChar = /^(?:(?:unsigned|signed|const)\s+)*char$/.test(elementType);
		fields.push({
			name: decl.name,
			type: decl.type,
			offset: Number(match[2]),
			size,
			signed: match[4] === undefined ? !/unsigned|^u\d|^bool|_t$/.test(elementType) : match[4] !== '0',
			arrayLength: decl.arrayLength,
			dataLoc: decl.dataLoc,
			elementType,
			isString: isChar && (decl.arrayLength !== undefined || decl.dataLoc !== undefined),
			isPointer: decl.isPointer,
			common: decl.name.startsWith('common_'),
		});
	}

	let printFormat = '';
	let printArgs: string[] = [];
	const printIndex = text.indexOf('print fmt:');
	if (printIndex !== -1) {
		const rest = text.slice(printIndex + 'print fmt:'.length).trim();
		const parts = splitTopLevel(rest);
		const first = parts.shift() ?? '';
		printFormat = first.startsWith('"') && first.endsWith('"') ? unescapeC(first.slice(1, -1)) : first;
		printArgs = parts;
	}

	return {
		system,
		name,
		id: Number(id),
		fields,
		byName: new Map(fields.map(field => [field.name, field])),
		printFormat,
		printArgs,
	};
}
