/**
 * The id for a new row of `table` (accounts, rooms, bans): past every id it ever handed
 * out, which SQLite's own numbering (the highest row still there, plus one) is not once
 * the newest row is deleted. A trigger on the table records each id taken (migration 15).
 */
export function nextId(table: 'accounts' | 'rooms' | 'bans'): string {
  return `(SELECT max(high, (SELECT coalesce(max(id), 0) FROM ${table})) + 1
             FROM id_high_water WHERE name = '${table}')`;
}
