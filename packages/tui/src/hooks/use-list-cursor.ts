import {useEffect, useState} from 'react';
import {useInput, type Key} from 'ink';

/**
 * A cursor over a list driven by ↑/↓ (or k/j), PgUp/PgDn, Home/End (g/G).
 * The cursor stays in range as the list changes length.
 */
export function useListCursor(length: number, options: {readonly isActive?: boolean; readonly page?: number; readonly vim?: boolean} = {}): [number, (index: number) => void] {
	const [cursor, setCursor] = useState(0);
	const {isActive = true, page = 10, vim = true} = options;
	useEffect(() => {
		if (cursor >= length && length > 0) {
			setCursor(length - 1);
		}
	}, [length, cursor]);
	useInput((input: string, key: Key) => {
		const last = Math.max(0, length - 1);
		if (key.upArrow || (vim && input === 'k')) {
			setCursor(c => Math.max(0, c - 1));
		} else if (key.downArrow || (vim && input === 'j')) {
			setCursor(c => Math.min(last, c + 1));
		} else if (key.pageUp) {
			setCursor(c => Math.max(0, c - page));
		} else if (key.pageDown) {
			setCursor(c => Math.min(last, c + page));
		} else if (key.home || (vim && input === 'g')) {
			setCursor(0);
		} else if (key.end || (vim && input === 'G')) {
			setCursor(last);
		}
	}, {isActive});
	return [Math.min(cursor, Math.max(0, length - 1)), setCursor];
}
