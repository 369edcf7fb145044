import test from 'ava';
import {replayProgress} from '@ftrace-ts/tools';
import {render} from 'ink-testing-library';
import {toolSpec} from '../src/catalog.js';
import {RunView} from '../src/components/RunView.js';
import type {CoreBinding} from '../src/cores.js';
import {RunRegistry} from '../src/run-registry.js';
import {until} from './helpers.js';

/** A replay that reports how far it has got (as the tools' replay readers do), then waits to be stopped. */
function replayingCore(file: string, steps: readonly number[]): CoreBinding {
	return {
		check() {},
		async * run(_values, {signal}) {
			yield {kind: 'start', mode: 'replay', mechanism: 'recorded trace'};
			for (const step of steps) {
				replayProgress(file)?.(step, 200);
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setTimeout(resolve, 150);
				});
			}

			// Another file's replay is not this run's.
			replayProgress('/other.trace')?.(1, 200);
			await new Promise(resolve => {
				signal.addEventListener('abort', resolve, {once: true});
			});
		},
	};
}

test.serial('a replay shows how much of its file is done while it runs', async t => {
	const registry = new RunRegistry();
	const {lastFrame, unmount} = render(<RunView spec={toolSpec('tpoint')!} binding={replayingCore('/x.trace', [20, 90])} values={{}} registry={registry} replay="/x.trace" height={10}/>);
	t.regex(await until(lastFrame, /tpoint running · replay · recorded trace · 10%/), /10%/);
	t.regex(await until(lastFrame, /· 45%/), /45%/);
	await new Promise(resolve => {
		setTimeout(resolve, 300);
	});
	t.regex(lastFrame() ?? '', /· 45%/);
	unmount();
	await registry.closeAll();
	t.is(registry.size, 0);
});
