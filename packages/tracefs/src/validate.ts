import {TracefsError} from './errors.js';

/**
 * Refuse any value that could smuggle a second command into a tracefs file:
 * newline, NUL, carriage return and every other control character except tab.
 * Returns the value unchanged; throws a usage TracefsError naming `what`.
 */
export function validateValue(value: string, what: string): string {
	// eslint-disable-next-line no-control-regex
	const bad = /[\u0000-\u0008\u000A-\u001F\u007F]/.exec(value);
	if (bad) {
		throw new TracefsError(`${what} contains a ${controlCharacterName(bad[0])} at position ${bad.index}: refused`, {
			operation: 'validate',
			usage: true,
		});
	}

	return value;
}

/** How to name a control character in a message: "newline", "NUL", "control character 0x1b". */
export function controlCharacterName(character: string): string {
	const code = character.codePointAt(0) ?? 0;
	return code === 10 ? 'newline' : code === 0 ? 'NUL' : code === 13 ? 'carriage return' : code === 9 ? 'tab' : `control character 0x${code.toString(16).padStart(2, '0')}`;
}

/** A kernel symbol or function glob: [A-Za-z0-9_.*?[\]!:-] only, and not empty. */
export function validateFunctionGlob(glob: string, what = 'function pattern'): string {
	validateValue(glob, what);
	if (glob.length === 0) {
		throw new TracefsError(`${what} is empty`, {operation: 'validate', usage: true});
	}

	const bad = /[^\w.*?[\]!:$-]/.exec(glob);
	if (bad) {
		throw new TracefsError(`${what} "${glob}" has an invalid character ${JSON.stringify(bad[0])} at position ${bad.index}`, {
			operation: 'validate',
			usage: true,
		});
	}

	let depth = 0;
	for (const ch of glob) {
		if (ch === '[') {
			depth++;
		} else if (ch === ']') {
			depth--;
		}

		if (depth < 0 || depth > 1) {
			break;
		}
	}

	if (depth !== 0) {
		throw new TracefsError(`${what} "${glob}" has unbalanced brackets`, {operation: 'validate', usage: true});
	}

	return glob;
}

/** Names of instances, events, groups: a C identifier-ish word. */
export function validateName(name: string, what: string): string {
	validateValue(name, what);
	if (!/^[A-Za-z_][\w.-]{0,63}$/.test(name) || name === '.' || name === '..') {
		throw new TracefsError(`${what} "${name}" is not a valid name (letters, digits, _ . -; at most 64)`, {
			operation: 'validate',
			usage: true,
		});
	}

	return name;
}

/** A non-negative integer that fits the kernel's unsigned long. */
export function validateUnsigned(value: number | bigint, what: string, max: number | bigint = Number.MAX_SAFE_INTEGER): string {
	const ok = typeof value === 'bigint' ? value >= 0n && value <= BigInt(max) : Number.isInteger(value) && value >= 0 && value <= Number(max);
	if (!ok) {
		throw new TracefsError(`${what} must be an integer from 0 to ${max}, got ${String(value)}`, {
			operation: 'validate',
			usage: true,
		});
	}

	return String(value);
}

/** Translate a shell glob into an anchored RegExp (for searching lists). */
export function globToRegExp(glob: string): RegExp {
	let source = '';
	for (let i = 0; i < glob.length; i++) {
		const ch = glob[i]!;
		if (ch === '*') {
			source += '.*';
		} else if (ch === '?') {
			source += '.';
		} else if (ch === '[') {
			const end = glob.indexOf(']', i + 1);
			if (end === -1) {
				source += '\\[';
			} else {
				let set = glob.slice(i + 1, end);
				if (set.startsWith('!')) {
					set = '^' + set.slice(1);
				}

				source += `[${set.replaceAll('\\', '\\\\')}]`;
				i = end;
			}
		} else {
			source += ch.replaceAll(/[.+^${}()|\\]/g, String.raw`\$&`);
		}
	}

	return new RegExp(`^${source}$`);
}
