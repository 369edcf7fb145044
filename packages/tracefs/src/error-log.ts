import type {KernelErrorLogEntry} from './errors.js';

/**
 * Parse the text of an `error_log` file into entries, oldest first.
 *
 *     [  123.456789] event filter parser: error: Field not found
 *       Command: foo == 1
 *                ^
 */
export function parseErrorLog(text: string): KernelErrorLogEntry[] {
	const entries: KernelErrorLogEntry[] = [];
	const lines = text.split('\n');
	for (let i = 0; i < lines.length; i++) {
		const head = /^\[\s*([\d.]+)\]\s+(.*?):\s+error:\s+(.*)$/.exec(lines[i]!);
		if (!head) {
			continue;
		}

		let command = '';
		let caret: number | undefined;
		const commandLine = lines[i + 1];
		const commandMatch = commandLine === undefined ? null : /^(\s*Command: )(.*)$/.exec(commandLine);
		if (commandMatch) {
			command = commandMatch[2]!;
			const caretLine = lines[i + 2];
			if (caretLine !== undefined && /^\s*\^\s*$/.test(caretLine)) {
				caret = caretLine.indexOf('^') - commandMatch[1]!.length;
				i += 2;
			} else {
				i += 1;
			}
		}

		entries.push({
			timestamp: head[1]!,
			location: head[2]!,
			message: head[3]!.trim(),
			command,
			caret: caret !== undefined && caret >= 0 ? caret : undefined,
		});
	}

	return entries;
}

/**
 * Pick the entry that belongs to a failed write of `written`: the newest one
 * whose echoed command is part of what was written (the kernel echoes the
 * command, sometimes trimmed), provided it is not in `before` (entries that
 * were there already).
 */
export function matchErrorLog(
	entries: readonly KernelErrorLogEntry[],
	written: string,
	before: readonly KernelErrorLogEntry[] = [],
): KernelErrorLogEntry | undefined {
	const seen = new Set(before.map(entry => `${entry.timestamp}\u0000${entry.command}\u0000${entry.message}`));
	const wanted = written.trim();
	for (let i = entries.length - 1; i >= 0; i--) {
		const entry = entries[i]!;
		if (seen.has(`${entry.timestamp}\u0000${entry.command}\u0000${entry.message}`)) {
			continue;
		}

		const command = entry.command.trim();
		if (command === '' || wanted.includes(command) || command.includes(wanted)) {
			return entry;
		}
	}

	return undefined;
}
