// Small DOM helpers for the officer console: build elements node by node, find them, empty
// them. Text always goes in as textContent, so nothing from the API is ever parsed as markup.

/** The shared element builder (`/web/dom.js`), named `h` here. */
export { el as h } from "/web/dom.js";

/** The first element matching `css` (under `root`). */
export function $(css, root = document) {
  return root.querySelector(css);
}

/** Removes every child of `el`, then appends `children`. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}
