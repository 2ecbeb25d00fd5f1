// Mentions in Markdown bodies (api.md "Text"): a person is mentioned as `<@USER_ID>`. Only the
// ids are read here; the service keeps those that are members of the workspace. Code is not
// prose: `<@…>` inside a code span or a fenced block is an example someone quoted, not a ping.

const MENTION = /<@([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>/gi;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
// A run of backticks up to the next run of exactly the same length.
const CODE_SPAN = /(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g;

/** Drops fenced code blocks: from a fence to a closing fence of the same character, at least as long, or to the end. */
function withoutFencedBlocks(markdown: string): string {
  const kept: string[] = [];
  let open: string | undefined;
  for (const line of markdown.split('\n')) {
    const fence = FENCE.exec(line)?.[1];
    if (open === undefined) {
      if (fence) open = fence;
      else kept.push(line);
    } else if (fence?.startsWith(open.charAt(0)) && fence.length >= open.length && line.trim() === fence) {
      open = undefined;
    }
  }
  return kept.join('\n');
}

/** The distinct user ids mentioned in a Markdown body, lower-cased, in order of first mention. */
export function extractMentionIds(markdown: string): string[] {
  const prose = withoutFencedBlocks(markdown).replace(CODE_SPAN, '');
  const ids = new Set<string>();
  for (const match of prose.matchAll(MENTION)) {
    const id = match[1];
    if (id) ids.add(id.toLowerCase());
  }
  return [...ids];
}
