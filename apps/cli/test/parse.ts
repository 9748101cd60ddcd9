/** A small XML element tree. */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*$/;
const ENTITY = /&(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);/y;

/**
 * A strict parser for the XML that SVG files use (no DTD, no CDATA, no processing
 * instructions other than an XML declaration): throws on any well-formedness error it
 * meets (unbalanced or mismatched tags, unquoted or repeated attributes, a bare `&` or
 * `<`, text or a second element after the root), and returns the root element.
 */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`XML: ${what} at offset ${i}: ${JSON.stringify(text.slice(i, i + 40))}`);
  };
  const checkText = (s: string, at: number) => {
    for (let k = 0; k < s.length; k++) {
      if (s[k] === "<") fail("a bare <");
      if (s[k] === "&") {
        ENTITY.lastIndex = k;
        if (!ENTITY.test(s)) {
          i = at + k;
          fail("a bare & (not an entity)");
        }
      }
    }
  };
  if (text.startsWith("<?xml")) {
    const end = text.indexOf("?>");
    if (end < 0) fail("an unterminated XML declaration");
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chunk.length > 0) {
      checkText(chunk, i);
      const top = stack[stack.length - 1];
      if (top) top.text += chunk;
      else if (chunk.trim() !== "") fail("text outside the root element");
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i);
      if (end < 0) fail("an unterminated comment");
      i = end + 3;
      continue;
    }
    const gt = text.indexOf(">", i);
    if (gt < 0) fail("an unterminated tag");
    const tag = text.slice(i + 1, gt);
    if (tag.startsWith("/")) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) fail(`a closing </${name}> that does not match <${open?.name ?? "nothing"}>`);
      i = gt + 1;
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([^\s/>]+)/.exec(body);
    if (!m || !NAME.test(m[1] as string)) fail("a bad element name");
    const name = (m as RegExpExecArray)[1] as string;
    const attrs: Record<string, string> = {};
    const rest = body.slice(name.length);
    const attr = /\s+([A-Za-z_:][-A-Za-z0-9_.:]*)\s*=\s*("([^"]*)"|'([^']*)')/y;
    let p = 0;
    while (p < rest.length) {
      if (/^\s*$/.test(rest.slice(p))) break;
      attr.lastIndex = p;
      const a = attr.exec(rest);
      if (!a) fail(`a malformed attribute in <${name}>`);
      const [, key, , dq, sq] = a as RegExpExecArray;
      if ((key as string) in attrs) fail(`a repeated attribute ${key}`);
      const value = dq ?? sq ?? "";
      checkText(value, i);
      attrs[key as string] = value;
      p = attr.lastIndex;
    }
    const el: XmlElement = { name, attrs, children: [], text: "" };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) fail("a second root element");
    else root = el;
    if (!selfClosing) stack.push(el);
    i = gt + 1;
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]?.name}> is never closed`);
  if (!root) fail("no root element");
  return root as XmlElement;
}

/** Every element below `el` (depth first), `el` included. */
export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}

/** The vega mark groups of a rendered chart: `<g class="mark-TYPE role-mark ...">`. */
export function markGroups(root: XmlElement, type: string): XmlElement[] {
  return allElements(root).filter((e) => e.name === "g" && (e.attrs.class ?? "").split(" ").includes(`mark-${type}`) && (e.attrs.class ?? "").includes("role-mark"));
}

/** Parses CSV with quoted fields (RFC 4180); throws on a malformed quote. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        if (i < text.length && !/[,\r\n]/.test(text[i] as string)) throw new Error(`CSV: text after a closing quote at ${i}`);
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== "") throw new Error(`CSV: a quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
    i++;
  }
  if (quoted) throw new Error("CSV: an unterminated quoted field");
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
