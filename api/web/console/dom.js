// Small DOM helpers for the officer console: build elements node by node, find them, empty
// them. Text always goes in as textContent, so nothing from the API is ever parsed as markup.

/** `h("button", {type: "button", class: "x", dataset: {id: 3}}, "text", child)` */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The first element matching `css` (under `root`). */
export function $(css, root = document) {
  return root.querySelector(css);
}

/** Removes every child of `el`, then appends `children`. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}
