// Substring search with LIKE/ILIKE: the user's text is matched literally, so `%`, `_` and `\`
// in a query are escaped instead of acting as wildcards.

/** The ILIKE pattern that finds `text` anywhere in a column. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
