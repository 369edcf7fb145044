import {useEffect, useState} from 'react';

/**
 * The result of an async load keyed by `deps`: {value} or {error} once
 * settled, {} while loading. A load whose deps changed meanwhile is ignored.
 */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): {value?: T; error?: unknown; loading: boolean} {
	const [result, setResult] = useState<{value?: T; error?: unknown; loading: boolean}>({loading: true});
	useEffect(() => {
		let current = true;
		setResult({loading: true});
		load().then(value => {
			if (current) {
				setResult({value, loading: false});
			}
		}, (error: unknown) => {
			if (current) {
				setResult({error, loading: false});
			}
		});
		return () => {
			current = false;
		};
	// eslint-disable-next-line react-hooks/exhaustive-deps
	}, deps);
	return result;
}
