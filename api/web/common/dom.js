// Building the screens' elements node by node, never from HTML text: whatever the API or a QR
// code says goes in as text, so nothing is ever parsed as markup.

/**
 * `el("button", {type: "button", class: "x", dataset: {id: 3}, text: "…"}, child, "text")`: an
 * element with attributes (`class`, `dataset`, `text`; a non-string value of a property the
 * element has, such as `disabled: true`, is set as that property) and children (nodes or text;
 * `null`, `undefined` and `false` are skipped).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
