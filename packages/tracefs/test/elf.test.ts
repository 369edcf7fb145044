import {readFileSync} from 'node:fs';
import test from 'ava';
import {ElfFile, TracefsError, parseLdSoCache, resolveTargetFile, resolveUprobeTarget} from '../src/index.js';
import {compileCounted, readelfSymbol} from './probe-helpers.js';

test('bash: a stripped PIE whose readline is found in .dynsym', async t => {
	const bash = await resolveTargetFile('bash');
	t.regex(bash, /\/bash$/);
	const elf = await ElfFile.open(bash);
	t.is(elf.type, 'DYN');
	t.true(elf.isX86_64);
	t.true(elf.loadSegments.length >= 2);
	const readline = elf.findSymbol('readline');
	t.truthy(readline, 'bash exports readline');
	t.is(readline!.type, 'FUNC');
	const oracle = readelfSymbol(bash, 'readline');
	if (oracle !== undefined) {
		t.is(readline!.value, oracle);
	}

	const target = await resolveUprobeTarget('bash', 'readline');
	t.is(target.path, bash);
	t.is(target.offset, elf.fileOffset(readline!.value));
});

test('libc through the linker cache; malloc, open and fopen resolve', async t => {
	const cache = parseLdSoCache(readFileSync('/etc/ld.so.cache'));
	t.true(cache.some(entry => entry.name === 'libc.so.6' && entry.path.endsWith('/libc.so.6')));
	const libc = await resolveTargetFile('libc');
	t.regex(libc, /\/libc\.so\.6$/);
	t.is(await resolveTargetFile('libc.so.6'), libc);
	t.is(await resolveTargetFile('c'), libc, 'perf-tools style: "c" means libc');
	const elf = await ElfFile.open(libc);
	for (const name of ['malloc', 'open', 'fopen']) {
		const symbol = elf.findSymbol(name);
		t.truthy(symbol, name);
		const oracle = readelfSymbol(libc, name);
		if (oracle !== undefined) {
			t.is(symbol!.value, oracle, `${name} agrees with readelf`);
		}
	}
});

test('without a linker cache, the standard directories still find libc', async t => {
	const libc = await resolveTargetFile('libc', {ldCache: '/nonexistent/ld.so.cache'});
	t.regex(libc, /\/libc\.so\.6$/);
});

test('non-PIE: the file offset is vaddr - p_vaddr + p_offset of the PT_LOAD', async t => {
	const binary = compileCounted(false);
	const elf = await ElfFile.open(binary);
	t.is(elf.type, 'EXEC');
	const symbol = elf.findSymbol('ftts_target');
	t.truthy(symbol);
	t.is(symbol!.table, '.symtab');
	t.true(symbol!.value >= 0x40_00_00n, 'linked at 0x400000');
	const segment = elf.loadSegments.find(s => symbol!.value >= s.vaddr && symbol!.value < s.vaddr + s.fileSize)!;
	const offset = elf.fileOffset(symbol!.value);
	t.is(offset, symbol!.value - segment.vaddr + segment.offset);
	t.true(offset < symbol!.value);
	// The code at that offset is the function: the same bytes as at the symbol in memory order.
	const target = await resolveUprobeTarget(binary, 'ftts_target');
	t.is(target.offset, offset);
	t.is((await resolveUprobeTarget(binary, 'ftts_target', 1n)).offset, offset + 1n);
});

test('PIE: offsets come out right too', async t => {
	const binary = compileCounted(true);
	const elf = await ElfFile.open(binary);
	t.is(elf.type, 'DYN');
	const symbol = elf.findSymbol('ftts_target')!;
	t.is(symbol.value, readelfSymbol(binary, 'ftts_target') ?? symbol.value);
	const segment = elf.loadSegments.find(s => symbol.value >= s.vaddr && symbol.value < s.vaddr + s.fileSize)!;
	t.is(elf.fileOffset(symbol.value), symbol.value - segment.vaddr + segment.offset);
});

test('errors name the cause', async t => {
	await t.throwsAsync(resolveUprobeTarget('bash', 'no_such_function_xyz'), {instanceOf: TracefsError, message: /symbol "no_such_function_xyz" not found/});
	await t.throwsAsync(resolveTargetFile('no-such-binary-xyz'), {message: /cannot find uprobe target/});
	await t.throwsAsync(resolveTargetFile('/nonexistent/bin'), {message: /does not exist/});
	await t.throwsAsync(ElfFile.open('/etc/passwd'), {message: /not an ELF file/});
	const elf = await ElfFile.open(await resolveTargetFile('bash'));
	t.throws(() => elf.fileOffset(0xFFFF_FFFF_FFFFn), {message: /no loadable segment/});
});
