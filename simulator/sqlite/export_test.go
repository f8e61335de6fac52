package sqlite

import "database/sql"

// SchemaVersion is the user_version a fully migrated database has.
var SchemaVersion = len(migrations)

// SQL exposes the pool so that tests can check what Open configured.
func (d *DB) SQL() *sql.DB { return d.db }

// Migrations are the schema's migrations, so that a test can build a database as an older
// release left it.
var Migrations = migrations

// EncodeOrder and EncodePermission are the data columns' encodings.
var (
	EncodeOrder      = encodeOrder
	EncodePermission = encodePermission
)

// OrdersQuery is the query ListOrders runs for a filter.
var OrdersQuery = ordersQuery
