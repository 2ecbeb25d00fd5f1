// Hot queries are built once per shape and run as named prepared statements: Drizzle's query
// building was the largest single cost of a simple read (bench/README.md), and PostgreSQL
// skips parsing and planning the statement again on each connection.

/** Builds a prepared statement once per query shape (a short string naming what varies). */
export function preparedByShape<P>(prefix: string, build: (name: string, shape: string) => P, max = 64): (shape: string) => P {
  const cache = new Map<string, P>();
  let built = 0;
  return (shape) => {
    let prepared = cache.get(shape);
    if (!prepared) {
      // Shapes come from allow-listed inputs; the bound only guards against a future mistake.
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      // A statement name is never reused for other SQL (PostgreSQL would refuse it).
      prepared = build(`${prefix}_${++built}`, shape);
      cache.set(shape, prepared);
    }
    return prepared;
  };
}
