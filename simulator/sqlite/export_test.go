package sqlite

import "database/sql"

// SchemaVersion is the user_version a fully migrated database has.
var SchemaVersion = len(migrations)

// SQL exposes the pool so that tests can check what Open configured.
func (d *DB) SQL() *sql.DB { return d.db }
