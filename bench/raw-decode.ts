/**
 * raw-decode bench: binary trace decoding throughput, events per second on
 * one core (this process), over a generated capture of block_rq_issue and
 * sched_switch records laid out as the 6.18 ring buffer does (2 CPUs, 4 KB
 * pages, merged by time stamp while streaming). Memory must stay flat while
 * streaming: we print the RSS growth between the first and the last tenth of
 * the stream and the peak growth. The peer is the text reader on the same
 * events rendered as trace text (what perf-tools' awk pipelines parse).
 */
import {readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {fileURLToPath} from 'node:url';
import {resolve} from 'node:path';
import {CaptureWriter, FormatCache, PageBuilder, decodeTraceText, encodeRecord, parseHeaderPage, readTraceRaw} from '@ftrace-ts/tracefs';

const formatsDir = resolve(fileURLToPath(import.meta.url), '../../../packages/tracefs/test/fixtures/formats/6.18/');
const eventsPerCpu = 600_000;

function mib(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export default async function run(): Promise<string> {
	const read = (name: string): string => readFileSync(`${formatsDir}/${name}`, 'utf8');
	const headerPage = read('header_page');
	const headerEvent = read('header_event');
	const formatTexts = [{system: 'block', text: read('block.block_rq_issue.format')}, {system: 'sched', text: read('sched.sched_switch.format')}];
	const formats = FormatCache.fromFormats(formatTexts);
	const issue = formats.byName('block_rq_issue')!;
	const sswitch = formats.byName('sched_switch')!;
	const layout = parseHeaderPage(headerPage, 4096);
	const path = `${tmpdir()}/ftrace-ts-bench-raw-${process.pid}.ftcap`;
	const textPath = `${tmpdir()}/ftrace-ts-bench-raw-${process.pid}.trace`;
	try {
		const writer = await CaptureWriter.create(path, {
			format: 'ftrace-ts capture', version: 1, pageSize: 4096, littleEndian: true, headerPage, headerEvent,
			formats: formatTexts, cpus: [0, 1], cmdlines: '1000 dd\n2000 kworker/0:1\n', tgids: '', recordedAt: new Date().toISOString(),
		});
		const payloads = [
			encodeRecord(issue, 1000, {dev: 7 << 20, sector: 123_456, nr_sector: 16, bytes: 8192, ioprio: 16_388, rwbs: 'WS', comm: 'dd', cmd: ''}),
			encodeRecord(sswitch, 2000, {prev_comm: 'kworker/0:1', prev_pid: 2000, prev_prio: 120, prev_state: 1, next_comm: 'dd', next_pid: 1000, next_prio: 120}),
		];
		let lines: string[] = [];
		const textChunks: string[] = [];
		for (const cpu of [0, 1]) {
			let builder = new PageBuilder(layout);
			for (let i = 0; i < eventsPerCpu; i++) {
				const ns = 1_000_000_000_000n + BigInt((i * 2000) + cpu);
				const payload = payloads[i % 2]!;
				if (!builder.add(ns, payload)) {
					// eslint-disable-next-line no-await-in-loop
					await writer.writePage(cpu, builder.finish());
					builder = new PageBuilder(layout);
					builder.add(ns, payload);
				}

				if (cpu === 0 && i < 400_000) {
					const us = (1_000_000_000 + (i * 2)) / 1e6;
					lines.push(i % 2 === 0
						? `              dd-1000    [000] .....  ${us.toFixed(6)}: block_rq_issue: 7,0 WS 8192 () 123456 + 16 be,0,4 [dd]`
						: `     kworker/0:1-2000    [000] .....  ${us.toFixed(6)}: sched_switch: prev_comm=kworker/0:1 prev_pid=2000 prev_prio=120 prev_state=S ==> next_comm=dd next_pid=1000 next_prio=120`);
					if (lines.length === 10_000) {
						textChunks.push(`${lines.join('\n')}\n`);
						lines = [];
					}
				}
			}

			// eslint-disable-next-line no-await-in-loop
			await writer.writePage(cpu, builder.finish());
		}

		await writer.close();
		writeFileSync(textPath, textChunks.join(''));

		// Binary: stream the capture, sampling RSS.
		global.gc?.();
		const total = eventsPerCpu * 2;
		const rssStart = process.memoryUsage.rss();
		let rssEarly = 0;
		let peak = rssStart;
		let count = 0;
		let sectors = 0;
		const started = process.hrtime.bigint();
		for await (const record of readTraceRaw(path)) {
			if (record.kind === 'event' && typeof record.fields['sector'] === 'number') {
				sectors += record.fields['sector'];
			}

			if (++count % 50_000 === 0) {
				const rss = process.memoryUsage.rss();
				peak = Math.max(peak, rss);
				if (count === 100_000) {
					rssEarly = rss;
				}
			}
		}

		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		const rssEnd = process.memoryUsage.rss();
		if (count !== total || sectors === 0) {
			throw new Error(`decoded ${count} of ${total} events`);
		}

		// Peer: the text reader over the same kind of events.
		let textCount = 0;
		const textStarted = process.hrtime.bigint();
		for await (const record of decodeTraceText(readFileSync(textPath, 'utf8'), {formats})) {
			if (record.kind === 'event' && record.decoded) {
				textCount++;
			}
		}

		const textSeconds = Number(process.hrtime.bigint() - textStarted) / 1e9;
		const rawRate = count / seconds;
		const textRate = textCount / textSeconds;
		return `raw-decode: ${Math.round(rawRate).toLocaleString('en-US')} events/s/core binary (${count.toLocaleString('en-US')} events, ${mib(statSync(path).size)} capture) vs text reader ${Math.round(textRate).toLocaleString('en-US')} events/s: ${(rawRate / textRate).toFixed(2)}x; RSS growth while streaming ${mib(rssEnd - rssEarly)} after the first 100k events (peak +${mib(peak - rssStart)})`;
	} finally {
		rmSync(path, {force: true});
		rmSync(textPath, {force: true});
	}
}
