/**
 * function_graph lines folded into a call tree: entries open a node, exits
 * close it with its duration, leaves are nodes without children. Lines of
 * different CPUs interleave, so each CPU has its own open path.
 */
import type {GraphFeed} from './feed.js';

export interface CallNode {
	readonly id: number;
	readonly func: string;
	readonly cpu: number | undefined;
	durationUs: number | undefined;
	/** Still open: the exit has not been seen. */
	open: boolean;
	readonly children: CallNode[];
}

export function buildCallTree(lines: readonly GraphFeed[]): CallNode[] {
	const roots: CallNode[] = [];
	const open = new Map<number, CallNode[]>();
	let id = 0;
	for (const line of lines) {
		const cpu = line.cpu ?? 0;
		const path = open.get(cpu) ?? [];
		open.set(cpu, path);
		const parent = path.at(-1);
		const attach = (node: CallNode) => (parent ? parent.children.push(node) : roots.push(node));
		if (line.type === 'entry') {
			const node: CallNode = {id: id++, func: line.func ?? '?', cpu: line.cpu, durationUs: undefined, open: true, children: []};
			attach(node);
			path.push(node);
		} else if (line.type === 'leaf') {
			attach({id: id++, func: line.func ?? '?', cpu: line.cpu, durationUs: line.durationUs, open: false, children: []});
		} else if (line.type === 'exit') {
			const node = path.pop();
			if (node) {
				node.durationUs = line.durationUs;
				node.open = false;
			}
		}
	}

	return roots;
}

/** The nodes to draw, depth first, skipping the children of collapsed nodes. */
export function visibleNodes(roots: readonly CallNode[], collapsed: ReadonlySet<number>): Array<{node: CallNode; depth: number}> {
	const out: Array<{node: CallNode; depth: number}> = [];
	const walk = (nodes: readonly CallNode[], depth: number) => {
		for (const node of nodes) {
			out.push({node, depth});
			if (!collapsed.has(node.id)) {
				walk(node.children, depth + 1);
			}
		}
	};

	walk(roots, 0);
	return out;
}
