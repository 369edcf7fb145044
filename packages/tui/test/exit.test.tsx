import {closeSync, existsSync, openSync, rmdirSync} from 'node:fs';
import test from 'ava';
import {ToolSession} from '@ftrace-ts/tools';
import {render} from 'ink-testing-library';
import {App} from '../src/components/App.js';
import type {CoreBinding} from '../src/cores.js';
import type {Environment} from '../src/environment.js';
import {guardExit} from '../src/exit-guard.js';
import {RunRegistry} from '../src/run-registry.js';
import {delay, keys, recordedCaps, until} from './helpers.js';

/** A core that runs until aborted, then takes a while to clean up, as a ToolSession does. */
function slowCore(log: string[]): CoreBinding {
	return {
		check() {},
		async * run(_values, {signal}) {
			log.push('setup');
			yield {kind: 'start', mode: 'live', mechanism: 'fake'};
			try {
				await new Promise(resolve => {
					signal.addEventListener('abort', resolve, {once: true});
				});
			} finally {
				await delay(150);
				log.push('restored');
			}
		},
	};
}

test.serial('a crash aborts running cores and waits for their cleanup before exiting 1', async t => {
	const log: string[] = [];
	const registry = new RunRegistry();
	const exits: number[] = [];
	const guard = guardExit(registry, {unmount: () => log.push('unmount'), exit: status => exits.push(status), write: text => log.push(text.trim())});
	const run = registry.start(async signal => {
		for await (const _feed of slowCore(log).run({}, {signal})) {
			// Running.
		}
	});
	await delay(20);
	t.true(process.listeners('uncaughtException').length > 0);
	await guard.shutdown(1, 'boom');
	await run.done;
	t.deepEqual(log, ['setup', 'restored', 'unmount', 'ftrace-tui: boom']);
	t.deepEqual(exits, [1]);
	await guard.shutdown(0);
	t.deepEqual(exits, [1]);
});

test.serial('q in a live view stops the core and waits for its cleanup; Ctrl-C too', async t => {
	for (const quitKey of ['q', keys.ctrlC]) {
		const log: string[] = [];
		const registry = new RunRegistry();
		const environment: Environment = {caps: recordedCaps(), bindings: {tpoint: slowCore(log)}, samples: []};
		const {lastFrame, stdin, unmount} = render(<App environment={environment} registry={registry} rows={30} initial={[{name: 'run', tool: 'tpoint', values: {tracepoint: 'sched:sched_switch'}}]}/>);
		// eslint-disable-next-line no-await-in-loop
		t.regex(await until(lastFrame, /tpoint running · live · fake/), /tpoint running · live · fake/);
		// eslint-disable-next-line no-await-in-loop
		await delay(200);
		t.is(registry.size, 1);
		stdin.write(quitKey);
		// eslint-disable-next-line no-await-in-loop
		t.regex(await until(lastFrame, /restoring the tracing state/), /restoring the tracing state/);
		// eslint-disable-next-line no-await-in-loop
		await until(() => log.join(), /restored/);
		t.deepEqual(log, ['setup', 'restored']);
		t.is(registry.size, 0);
		unmount();
	}
});

test.serial('Esc from a live view stops that run; the app goes on', async t => {
	const log: string[] = [];
	const registry = new RunRegistry();
	const environment: Environment = {caps: recordedCaps(), bindings: {tpoint: slowCore(log)}, samples: []};
	const {lastFrame, stdin, unmount} = render(<App environment={environment} registry={registry} rows={40} initial={[{name: 'run', tool: 'tpoint', values: {tracepoint: 'sched:sched_switch'}}]}/>);
	await until(lastFrame, /tpoint running/);
	await delay(200);
	stdin.write(keys.escape);
	t.regex(await until(lastFrame, /Choosing a tracer here/), /Choosing a tracer here/);
	await until(() => log.join(), /restored/);
	t.deepEqual(log, ['setup', 'restored']);
	unmount();
});

test.serial('a run that cannot undo a change shows it in its view; the exit names it on one line and is 1', async t => {
	// A real session whose instance the kernel will not remove: a reader holds its trace file open.
	const held: {fd?: number; path?: string; name?: string} = {};
	const leavingCore: CoreBinding = {
		check() {},
		async * run(_values, {signal}) {
			const session = await ToolSession.open({tool: 'tui_left_behind', signal});
			held.name = session.instance.name;
			held.path = session.instance.path("");
			held.fd = openSync(`${held.path}/trace`, 'r');
			try {
				yield {kind: 'start', mode: 'live', mechanism: 'test'};
			} finally {
				await session.close();
			}
		},
	};
	const registry = new RunRegistry();
	const environment: Environment = {caps: recordedCaps(), bindings: {tpoint: leavingCore}, samples: []};
	const {lastFrame, unmount} = render(<App environment={environment} registry={registry} rows={40} initial={[{name: 'run', tool: 'tpoint', values: {tracepoint: 'sched:sched_switch'}}]}/>);
	const log: string[] = [];
	const exits: number[] = [];
	try {
		const frame = await until(lastFrame, /could not undo/);
		t.regex(frame.replaceAll(/\s+/g, ' '), new RegExp(`could not undo instance ${held.name!}: .*EBUSY.*\\(reset-ftrace removes what is left\\)`));
		const guard = guardExit(registry, {unmount, exit: status => exits.push(status), write: text => log.push(text.trim())});
		await guard.shutdown(0);
		t.deepEqual(exits, [1]);
		t.is(log.length, 1, log.join('\n'));
		t.regex(log[0]!, new RegExp(`^ftrace-tui: could not undo instance ${held.name!}: .*EBUSY.*\\(reset-ftrace removes what is left\\)$`));
	} finally {
		if (held.fd !== undefined) {
			closeSync(held.fd);
		}

		// Once the file is let go the instance can go (the kernel drops its reference a moment later).
		for (let attempt = 0; held.path && existsSync(held.path) && attempt < 50; attempt++) {
			try {
				rmdirSync(held.path);
			} catch {
				// eslint-disable-next-line no-await-in-loop
				await delay(100);
			}
		}
	}

	t.false(existsSync(held.path!), 'the instance is gone after the test');
});
