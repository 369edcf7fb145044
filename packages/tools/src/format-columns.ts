/** printf("%-W.Ps"): left-justify in `width`, truncating to `precision`. */
export function left(value: string | number, width: number, precision?: number): string {
	const text = String(value);
	return (precision === undefined ? text : text.slice(0, precision)).padEnd(width);
}

/** printf("%Ws"): right-justify in `width`. */
export function right(value: string | number, width: number): string {
	return String(value).padStart(width);
}

/** printf("%.Nf"). */
export function fixed(value: number, digits: number): string {
	return value.toFixed(digits);
}
