import test from 'ava';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {chromium, type BrowserContext, type Page} from 'playwright-core';
import {flameGraphFromFolded} from '../src/flamegraph.js';

// Never skipped: CI must install Debian's chromium (apt-get install -y chromium).
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const folded = readFileSync(join(packageRoot, 'test/fixtures/perf/expected/system-wide.all.folded'), 'latin1');
const workDir = mkdtempSync(join(tmpdir(), 'flamegraph-browser-'));
const screenshotPath = process.env['FLAMEGRAPH_SCREENSHOT'] ?? join(workDir, 'flamegraph.png');

let browser: BrowserContext | undefined;

test.before(async () => {
	if (!existsSync(chromiumPath)) {
		throw new Error(`chromium not found at ${chromiumPath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
	}
	// A fresh profile directory: playwright passes it as --user-data-dir.
	browser = await chromium.launchPersistentContext(join(workDir, 'profile'), {
		executablePath: chromiumPath,
		headless: true,
		viewport: {width: 1200, height: 1300},
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
});

test.after.always(async () => {
	await browser?.close();
	rmSync(workDir, {recursive: true, force: true});
});

async function open(name: string, inverted = false): Promise<Page> {
	const file = join(workDir, `${name}.svg`);
	writeFileSync(file, flameGraphFromFolded(folded, {hash: true, inverted}).svg);
	const page = await browser!.newPage();
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));
	await page.goto(pathToFileURL(file).href);
	await page.waitForFunction('typeof fgItems !== "undefined" && fgItems.length > 0');
	if (errors.length > 0) throw new Error(`script errors: ${errors.join('; ')}`);
	return page;
}

interface RectInfo {
	title: string;
	x: number;
	width: number;
	fill: string;
	hidden: boolean;
	text: string;
}

async function rects(page: Page): Promise<RectInfo[]> {
	return page.$$eval('#frames > g', (groups) => groups.map((g) => {
		const rect = g.querySelector('rect')!;
		return {
			title: g.querySelector('title')!.textContent!,
			x: Number(rect.getAttribute('x')),
			width: Number(rect.getAttribute('width')),
			fill: rect.getAttribute('fill')!,
			hidden: g.classList.contains('hide'),
			text: g.querySelector('text')!.textContent!,
		};
	}));
}

test.serial('renders; click zooms the frame to full width; Reset Zoom restores', async (t) => {
	const page = await open('zoom');
	await page.screenshot({path: screenshotPath});
	t.log(`screenshot: ${screenshotPath}`);
	const before = await rects(page);
	t.true(before.length > 100);
	// A frame about a quarter wide, deep enough to have parents and children.
	const index = before.findIndex((r) => r.width > 150 && r.width < 600 && !r.title.startsWith('all '));
	t.not(index, -1);
	const target = before[index]!;
	const handle = (await page.$$('#frames > g'))[index]!;
	await handle.click({position: {x: 5, y: 5}});
	const after = await rects(page);
	t.is(after[index]!.width, 1180, 'clicked frame is full width');
	t.is(after[index]!.x, 10);
	t.false(await page.$eval('#unzoom', (e) => e.classList.contains('hide')));
	t.true(after.some((r) => r.hidden), 'frames outside the zoomed one are hidden');
	t.true(after.some((r) => r.title.startsWith('all ') && !r.hidden), 'the root stays, as a parent');
	t.true(after[index]!.text.length >= target.text.length, 'label refitted to the wider frame');
	await page.click('#unzoom');
	t.deepEqual(await rects(page), before);
	t.true(await page.$eval('#unzoom', (e) => e.classList.contains('hide')));
	await page.close();
});

test.serial('search highlights matches and reports the share; reset clears it', async (t) => {
	const page = await open('search');
	const before = await rects(page);
	page.once('dialog', (dialog) => void dialog.accept('^vfs_'));
	await page.click('#search');
	await page.waitForFunction("document.getElementById('matched').textContent !== ' '");
	const after = await rects(page);
	const matched = after.filter((r) => /^vfs_/.test(r.title));
	t.true(matched.length > 0);
	for (const r of matched) t.is(r.fill, 'rgb(230,0,230)');
	for (const [i, r] of after.entries()) if (!/^vfs_/.test(r.title)) t.is(r.fill, before[i]!.fill);
	t.regex(await page.$eval('#matched', (e) => e.textContent!), /^Matched: \d+(\.\d)?%$/);
	t.is(await page.$eval('#search', (e) => e.textContent!), 'Reset Search');
	await page.click('#search');
	t.deepEqual(await rects(page), before);
	t.is(await page.$eval('#matched', (e) => e.textContent!), ' ');
	await page.close();
});

test.serial('hover shows details; Ctrl-F searches; ic toggles case; icicle zoom', async (t) => {
	const page = await open('icicle', true);
	const groups = await page.$$('#frames > g');
	await groups[1]!.hover();
	t.regex(await page.$eval('#details', (e) => e.textContent!), /^Function: .+ \([\d,]+ samples, [\d.]+%\)$/);
	await page.click('#ignorecase');
	page.once('dialog', (dialog) => void dialog.accept('^VFS_'));
	await page.keyboard.press('Control+f');
	await page.waitForFunction("document.getElementById('matched').textContent !== ' '");
	t.true((await rects(page)).some((r) => r.fill === 'rgb(230,0,230)'), 'case-insensitive match');
	const before = await rects(page);
	const index = before.findIndex((r) => r.width > 100 && r.width < 600);
	await groups[index]!.click({position: {x: 5, y: 5}});
	t.is((await rects(page))[index]!.width, 1180);
	await page.keyboard.press('Escape');
	const reset = await rects(page);
	t.is(reset[index]!.width, before[index]!.width);
	t.false(reset.some((r) => r.fill === 'rgb(230,0,230)'));
	await page.close();
});
