/** A run of plain text, or a link when `href` is set. */
export interface TextPart {
  text: string;
  href?: string;
}

const urlPattern = /https?:\/\/[^\s<>"')]+/g;

/** Splits text into plain runs and http(s) URLs, so a template can render links without HTML. */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(urlPattern)) {
    // A URL at the end of a sentence keeps its full stop outside the link.
    const url = match[0].replace(/[.,;:!?]+$/, "");
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: url, href: url });
    last = match.index + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
