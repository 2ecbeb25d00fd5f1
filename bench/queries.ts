// The statements Tandem's users repository sends for the two benchmarked endpoints, copied from
// what Drizzle generates: the same SQL text, sent the same way (named prepared statements, so
// PostgreSQL parses and plans each once per connection). The bare server runs exactly these;
// bench/run.ts records what the repository really sends and warns when the two drift apart.
const COLUMNS =
  'select "id", "email", "name", "password_hash", "role", "email_verified_at", "avatar_file_id", "disabled_at", "deleted_at", "version", "created_at", "updated_at" from "users"';

export interface Statement {
  /** The prepared statement's name (per connection; any name unique to its text will do). */
  name: string;
  text: string;
}

/** usersRepository.findById(id): values [id, 1]. */
export const FIND_BY_ID: Statement = {
  name: 'users_by_id',
  text: `${COLUMNS} where ("users"."id" = $1 and "users"."deleted_at" is null) limit $2`,
};

/** usersRepository.list({ sort: createdAt, limit, offset }): values [limit, offset]. */
export const LIST_PAGE: Statement = {
  name: 'users_list_page',
  text: `${COLUMNS} where "users"."deleted_at" is null order by "users"."created_at" asc, "users"."id" asc limit $1 offset $2`,
};

/** The list's total, run in parallel with the page: no values. */
export const LIST_COUNT: Statement = {
  name: 'users_list_count',
  text: 'select count(*) from "users" where "users"."deleted_at" is null',
};
