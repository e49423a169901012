/**
 * The `pgpass` module that `pg` 8 depends on (and uses itself, with a deprecation notice, when no
 * password is given): the password ~/.pgpass (or PGPASSFILE) holds for a connection, or undefined.
 */
declare module 'pgpass' {
  function pgpass(connection: { host?: string; port?: number; database?: string; user?: string }, done: (password: string | undefined) => void): void;
  export = pgpass;
}
