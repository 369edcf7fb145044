import {constants as fsConstants} from 'node:fs';
import {access, mkdir, open, readdir, readFile, rmdir, stat} from 'node:fs/promises';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {TracefsError, errnoCode, hintFor} from './errors.js';
import {matchErrorLog, parseErrorLog} from './error-log.js';
import {validateValue} from './validate.js';

const execFileAsync = promisify(execFile);

/** The places tracefs is found, in order of preference. */
export const tracefsCandidates = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;

export interface WriteOptions {
	/** Append (O_APPEND) instead of truncating: for *_events, set_ftrace_filter additions, triggers. */
	readonly append?: boolean;
	/** The error_log file to consult when the kernel refuses (instance-relative path). */
	readonly errorLog?: string;
	/** Whether `value` came from (or contains) user input: then it is validated. Default true. */
	readonly validate?: boolean;
	/** What the value is, for messages, e.g. "filter for block/block_rq_issue". */
	readonly what?: string;
}

/**
 * A mounted tracefs. The only object in the project that reads or writes
 * tracefs files; everything else goes through it.
 */
export class Tracefs {
	/**
	 * Find tracefs: /sys/kernel/tracing, then /sys/kernel/debug/tracing; when
	 * neither is mounted and we are root, mount tracefs at /sys/kernel/tracing.
	 * An explicit `root` (tests) is used as is. Throws TracefsError (ENODEV)
	 * when there is none.
	 */
	static async find(options: {readonly root?: string; readonly mount?: boolean} = {}): Promise<Tracefs> {
		if (options.root) {
			return new Tracefs(options.root);
		}

		const fromEnv = process.env['TRACEFS_ROOT'];
		if (fromEnv) {
			return new Tracefs(fromEnv);
		}

		for (const candidate of tracefsCandidates) {
			if (await isTracefs(candidate)) {
				return new Tracefs(candidate);
			}
		}

		if (options.mount !== false && process.getuid?.() === 0) {
			try {
				await execFileAsync('mount', ['-t', 'tracefs', 'nodev', tracefsCandidates[0]]);
			} catch (error) {
				throw new TracefsError('tracefs is not mounted and mounting it failed', {
					operation: 'mount',
					path: tracefsCandidates[0],
					code: 'ENODEV',
					hint: 'try: mount -t tracefs nodev /sys/kernel/tracing (the kernel needs CONFIG_TRACING)',
					cause: error,
					usage: false,
				});
			}

			if (await isTracefs(tracefsCandidates[0])) {
				return new Tracefs(tracefsCandidates[0]);
			}
		}

		throw new TracefsError('tracefs not found at /sys/kernel/tracing or /sys/kernel/debug/tracing', {
			operation: 'find tracefs',
			code: 'ENODEV',
			hint: process.getuid?.() === 0
				? 'mount it: mount -t tracefs nodev /sys/kernel/tracing (the kernel needs CONFIG_TRACING)'
				: 'tracing needs root: run with sudo',
			usage: false,
		});
	}

	constructor(readonly root: string) {}

	/** Absolute path of a tracefs-relative path. */
	path(relative: string): string {
		return relative === '' ? this.root : `${this.root}/${relative}`;
	}

	async exists(relative: string): Promise<boolean> {
		try {
			await access(this.path(relative), fsConstants.F_OK);
			return true;
		} catch {
			return false;
		}
	}

	async isDirectory(relative: string): Promise<boolean> {
		try {
			return (await stat(this.path(relative))).isDirectory();
		} catch {
			return false;
		}
	}

	/** Read a whole file as text. Throws TracefsError. */
	async read(relative: string): Promise<string> {
		try {
			return await readFile(this.path(relative), 'utf8');
		} catch (error) {
			throw this.#error('read', relative, error);
		}
	}

	/**
	 * The first lines of a file for which `keep` holds, read a chunk at a
	 * time up to the first line for which it does not: for the head of a
	 * file that grows as it is read (`trace` while tracing). Throws
	 * TracefsError.
	 */
	async readLeadingLines(relative: string, keep: (line: string) => boolean): Promise<string[]> {
		const lines: string[] = [];
		let file;
		try {
			file = await open(this.path(relative), 'r');
			const buffer = Buffer.allocUnsafe(16 * 1024);
			let partial = '';
			for (;;) {
				// eslint-disable-next-line no-await-in-loop
				const {bytesRead} = await file.read(buffer, 0, buffer.length, null);
				const text = partial + buffer.toString('utf8', 0, bytesRead);
				const complete = text.split('\n');
				partial = bytesRead === 0 ? '' : complete.pop()!;
				for (const line of complete) {
					if (bytesRead === 0 && line === '') {
						continue;
					}

					if (!keep(line)) {
						return lines;
					}

					lines.push(line);
				}

				if (bytesRead === 0) {
					return lines;
				}
			}
		} catch (error) {
			throw this.#error('read', relative, error);
		} finally {
			await file?.close();
		}
	}

	/** Read a file, or undefined when it does not exist. */
	async readIfExists(relative: string): Promise<string | undefined> {
		try {
			return await readFile(this.path(relative), 'utf8');
		} catch (error) {
			if (errnoCode(error) === 'ENOENT') {
				return undefined;
			}

			throw this.#error('read', relative, error);
		}
	}

	/** Directory entries, sorted. Throws TracefsError. */
	async list(relative: string): Promise<string[]> {
		try {
			return (await readdir(this.path(relative))).sort();
		} catch (error) {
			throw this.#error('list', relative, error);
		}
	}

	/**
	 * Write `value` to a tracefs file in one write(2). The value is validated
	 * (no newline, NUL or control character) unless `validate: false`. When the
	 * kernel refuses, the matching error_log entry is attached to the error.
	 */
	async write(relative: string, value: string, options: WriteOptions = {}): Promise<void> {
		if (options.validate !== false) {
			validateValue(value, options.what ?? `value for ${relative}`);
		}

		const before = options.errorLog ? await this.#errorLogEntries(options.errorLog) : [];
		let handle;
		try {
			handle = await open(this.path(relative), options.append ? 'a' : 'w');
			// One write(2) for the whole command: tracefs parses each write separately.
			await handle.write(value.endsWith('\n') || value === '' ? value : `${value}\n`);
		} catch (error) {
			// ENOENT from a file that exists is the kernel's verdict (an unknown
			// kprobe symbol), with an error_log entry; from a missing file it is not.
			const kernel = options.errorLog && (errnoCode(error) !== 'ENOENT' || await this.exists(relative))
				? matchErrorLog(await this.#errorLogEntries(options.errorLog), value, before)
				: undefined;
			throw this.#error('write', relative, error, {kernel, value, what: options.what});
		} finally {
			await handle?.close().catch(() => undefined);
		}
	}

	async mkdir(relative: string): Promise<void> {
		try {
			await mkdir(this.path(relative));
		} catch (error) {
			throw this.#error('create', relative, error);
		}
	}

	async rmdir(relative: string): Promise<void> {
		try {
			await rmdir(this.path(relative));
		} catch (error) {
			throw this.#error('remove', relative, error);
		}
	}

	async #errorLogEntries(relative: string) {
		try {
			return parseErrorLog(await readFile(this.path(relative), 'utf8'));
		} catch {
			return [];
		}
	}

	#error(
		operation: string,
		relative: string,
		error: unknown,
		extra: {kernel?: ReturnType<typeof matchErrorLog>; value?: string; what?: string | undefined} = {},
	): TracefsError {
		if (error instanceof TracefsError) {
			return error;
		}

		const code = errnoCode(error);
		const path = this.path(relative);
		const subject = extra.what ?? relative;
		let message = extra.value === undefined
			? `cannot ${operation} ${subject}`
			: `kernel refused ${JSON.stringify(extra.value.trimEnd())} for ${subject}`;
		if (code) {
			message += ` (${code})`;
		}

		if (extra.kernel) {
			message += `: ${extra.kernel.message}`;
			if (extra.kernel.caret !== undefined) {
				message += ` at position ${extra.kernel.caret}`;
			}
		}

		return new TracefsError(message, {
			operation,
			path,
			code,
			kernel: extra.kernel,
			hint: hintFor(code, path),
			cause: error,
			usage: extra.value !== undefined && (code === 'EINVAL' || code === 'ENOENT' || code === 'E2BIG' || code === 'ENAMETOOLONG'),
		});
	}
}

async function isTracefs(dir: string): Promise<boolean> {
	try {
		await access(`${dir}/trace`, fsConstants.F_OK);
		return true;
	} catch {
		return false;
	}
}
