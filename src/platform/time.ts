// Calendar dates as people see them: "today" depends on where they are.

/** The calendar date (YYYY-MM-DD) at `now` in an IANA time zone. */
export function dateIn(timeZone: string, now: Date): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
