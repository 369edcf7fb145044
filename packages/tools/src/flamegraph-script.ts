/**
 * The JavaScript embedded in every flame graph SVG: details on hover, click
 * to zoom, Reset Zoom, search (button, Ctrl-F or F3; a regular expression),
 * case-insensitive toggle (button or Ctrl-I), Escape to reset both.
 *
 * It runs in the SVG document itself (opened directly or through <object>),
 * needs no network and is plain ES2015. Geometry is read once from the
 * frames' rects at load; zooming rescales from those, so zoom and reset are
 * exact. Global functions `zoom(g)`, `unzoom()`, `search(term)`,
 * `resetSearch()` are the script's API (tests and embedding pages use them).
 */
export interface ScriptConfig {
	/** Horizontal padding of the frame area, in pixels. */
	xpad: number;
	/** Width of the whole image, in pixels. */
	width: number;
	fontsize: number;
	fontwidth: number;
	inverted: boolean;
	searchcolor: string;
	nametype: string;
}

/** Returns the `<script>` element (with CDATA) configured for one graph. */
export function flameGraphScript(config: ScriptConfig): string {
	return `<script type="text/ecmascript">
<![CDATA[
"use strict";
var fg = ${JSON.stringify(config).replaceAll(']]>', ']]\\u003e')};
${SCRIPT_BODY}]]>
</script>
`;
}

const SCRIPT_BODY = String.raw`var fgItems = [], fgRoot = null, fgZoomed = null, fgSearchTerm = null, fgIgnoreCase = false;
var fgFrames, fgDetails, fgUnzoom, fgSearch, fgIgnorecase, fgMatched;

function init(evt) {
	fgFrames = document.getElementById("frames");
	fgDetails = document.getElementById("details");
	fgUnzoom = document.getElementById("unzoom");
	fgSearch = document.getElementById("search");
	fgIgnorecase = document.getElementById("ignorecase");
	fgMatched = document.getElementById("matched");
	var children = fgFrames.children;
	for (var i = 0; i < children.length; i++) {
		var g = children[i];
		var rect = g.getElementsByTagName("rect")[0];
		var title = g.getElementsByTagName("title")[0];
		if (!rect) continue;
		var titleText = title ? title.textContent : "";
		var item = {
			g: g,
			rect: rect,
			text: g.getElementsByTagName("text")[0] || null,
			x: parseFloat(rect.getAttribute("x")),
			w: parseFloat(rect.getAttribute("width")),
			y: parseFloat(rect.getAttribute("y")),
			fill: rect.getAttribute("fill"),
			title: titleText,
			name: titleText.replace(/ \([^()]*\)$/, "")
		};
		g.fgItem = item;
		fgItems.push(item);
		if (fgRoot === null || (fg.inverted ? item.y < fgRoot.y : item.y > fgRoot.y)) fgRoot = item;
	}
	fgFrames.addEventListener("click", function (e) {
		var item = fgItemOf(e.target);
		if (item) zoom(item.g);
	});
	fgFrames.addEventListener("mouseover", function (e) {
		var item = fgItemOf(e.target);
		if (item) fgSetText(fgDetails, fg.nametype + " " + item.title);
	});
	fgFrames.addEventListener("mouseout", function () {
		fgSetText(fgDetails, " ");
	});
	fgUnzoom.addEventListener("click", function () { unzoom(); });
	fgSearch.addEventListener("click", function () {
		if (fgSearchTerm === null) fgPromptSearch();
		else resetSearch();
	});
	fgIgnorecase.addEventListener("click", fgToggleCase);
	window.addEventListener("keydown", function (e) {
		var ctrl = e.ctrlKey || e.metaKey;
		if (e.key === "F3" || (ctrl && (e.key === "f" || e.key === "F"))) {
			e.preventDefault();
			fgPromptSearch();
		} else if (ctrl && (e.key === "i" || e.key === "I")) {
			e.preventDefault();
			fgToggleCase();
		} else if (e.key === "Escape") {
			resetSearch();
			unzoom();
		}
	});
}

function fgItemOf(node) {
	while (node && node.parentNode !== fgFrames) node = node.parentNode;
	return node ? node.fgItem || null : null;
}

function fgSetText(element, value) {
	element.textContent = value;
}

// The label for a frame of the given width: as many characters as fit at
// the average glyph width, ".." marking a cut, nothing under 3 characters.
function fgLabel(item, width) {
	var chars = Math.floor(width / (fg.fontsize * fg.fontwidth));
	var name = item.name;
	if (item === fgRoot || chars < 3) return "";
	var glyphs = Array.from(name);
	if (glyphs.length > chars) return glyphs.slice(0, chars - 2).join("") + "..";
	return name;
}

function fgPlace(item, x, w) {
	item.rect.setAttribute("x", x.toFixed(1));
	item.rect.setAttribute("width", w.toFixed(1));
	if (item.text) {
		item.text.setAttribute("x", (x + 3).toFixed(2));
		item.text.textContent = fgLabel(item, w);
	}
}

function fgDeeper(item, than) {
	return fg.inverted ? item.y > than.y : item.y < than.y;
}

function zoom(g) {
	var target = g.fgItem;
	if (!target) return;
	fgZoomed = target;
	var eps = 1e-6;
	var full = fg.width - 2 * fg.xpad;
	var scale = full / target.w;
	var end = target.x + target.w;
	for (var i = 0; i < fgItems.length; i++) {
		var item = fgItems[i];
		var inside = item.x >= target.x - eps && item.x + item.w <= end + eps;
		var covers = item.x <= target.x + eps && item.x + item.w >= end - eps;
		if (item === target || (inside && fgDeeper(item, target))) {
			item.g.classList.remove("hide", "parent");
			fgPlace(item, fg.xpad + (item.x - target.x) * scale, item.w * scale);
		} else if (covers && fgDeeper(target, item)) {
			item.g.classList.remove("hide");
			item.g.classList.add("parent");
			fgPlace(item, fg.xpad, full);
		} else {
			item.g.classList.add("hide");
			item.g.classList.remove("parent");
		}
	}
	fgUnzoom.classList.remove("hide");
	if (fgSearchTerm !== null) search(fgSearchTerm);
}

function unzoom() {
	fgZoomed = null;
	for (var i = 0; i < fgItems.length; i++) {
		var item = fgItems[i];
		item.g.classList.remove("hide", "parent");
		fgPlace(item, item.x, item.w);
	}
	fgUnzoom.classList.add("hide");
	if (fgSearchTerm !== null) search(fgSearchTerm);
}

function fgPromptSearch() {
	var term = window.prompt("Enter a search term (regexp allowed, eg: ^ext4_)" +
		(fgIgnoreCase ? ", ignoring case" : "") + "\nPress Ctrl-i to toggle case sensitivity", "");
	if (term !== null && term !== "") search(term);
}

function fgToggleCase() {
	fgIgnoreCase = !fgIgnoreCase;
	if (fgIgnoreCase) fgIgnorecase.classList.add("show");
	else fgIgnorecase.classList.remove("show");
	if (fgSearchTerm !== null) search(fgSearchTerm);
}

// Highlights frames whose name matches; reports the share of the zoomed
// (or whole) graph they cover, counting nested matches once.
function search(term) {
	var re;
	try {
		re = new RegExp(term, fgIgnoreCase ? "i" : "");
	} catch (error) {
		fgSetText(fgMatched, "Bad regexp: " + term);
		return;
	}
	fgSearchTerm = term;
	var scope = fgZoomed || fgRoot;
	var ranges = [];
	for (var i = 0; i < fgItems.length; i++) {
		var item = fgItems[i];
		if (item !== fgRoot && re.test(item.name)) {
			item.rect.setAttribute("fill", fg.searchcolor);
			item.g.classList.add("matched");
			var from = Math.max(item.x, scope.x), to = Math.min(item.x + item.w, scope.x + scope.w);
			if (to > from) ranges.push([from, to]);
		} else {
			item.rect.setAttribute("fill", item.fill);
			item.g.classList.remove("matched");
		}
	}
	ranges.sort(function (a, b) { return a[0] - b[0]; });
	var covered = 0, reach = -Infinity;
	for (var j = 0; j < ranges.length; j++) {
		var r = ranges[j];
		if (r[1] <= reach) continue;
		covered += r[1] - Math.max(r[0], reach);
		reach = r[1];
	}
	fgSearch.classList.add("show");
	fgSetText(fgSearch, "Reset Search");
	var pct = scope && scope.w > 0 ? 100 * covered / scope.w : 0;
	fgSetText(fgMatched, "Matched: " + (pct === 100 ? "100" : pct.toFixed(1)) + "%");
}

function resetSearch() {
	fgSearchTerm = null;
	for (var i = 0; i < fgItems.length; i++) {
		fgItems[i].rect.setAttribute("fill", fgItems[i].fill);
		fgItems[i].g.classList.remove("matched");
	}
	fgSearch.classList.remove("show");
	fgSetText(fgSearch, "Search");
	fgSetText(fgMatched, " ");
}
`;
