package pgwire

import "github.com/jackc/pgx/v5/pgproto3"

// Short names for the protocol messages the tests speak directly.
type (
	pgproto3Bind            = pgproto3.Bind
	pgproto3Execute         = pgproto3.Execute
	pgproto3Sync            = pgproto3.Sync
	pgproto3DataRow         = pgproto3.DataRow
	pgproto3PortalSuspended = pgproto3.PortalSuspended
	pgproto3CommandComplete = pgproto3.CommandComplete
	pgproto3ErrorResponse   = pgproto3.ErrorResponse
	pgproto3ReadyForQuery   = pgproto3.ReadyForQuery
)
