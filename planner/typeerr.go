package planner

import (
	"errors"

	"github.com/etlc/etlc/catalog"
)

func asTypeError(err error, te **catalog.TypeError) bool { return errors.As(err, te) }
