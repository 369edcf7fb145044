/** Fit text to a column: cut with "…" when too long, pad to `width`. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
	const clean = text.replaceAll(/[\u0000-\u001F\u007F]/g, '?');
	const cut = clean.length > width ? `${clean.slice(0, Math.max(0, width - 1))}…` : clean;
	return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}
