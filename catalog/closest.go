package catalog

import (
	"strings"

	"github.com/etlc/etlc/parser"
)

// closestName returns the candidate to offer in a "did you mean" hint for
// name: parser.ClosestName's nearest candidate by edit distance, or failing
// that the first candidate that name (of at least 4 letters) is the
// beginning of, so that checkpoint suggests checkpoint_interval. It returns
// "" when nothing fits.
func closestName(name string, candidates []string) string {
	if c := parser.ClosestName(name, candidates); c != "" {
		return c
	}
	n := strings.ToLower(name)
	if len(n) < 4 {
		return ""
	}
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), n) {
			return c
		}
	}
	return ""
}
