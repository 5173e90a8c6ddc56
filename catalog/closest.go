package catalog

import "strings"

// closestName returns the candidate nearest to name by edit distance
// (insertions, deletions, substitutions and transpositions of adjacent
// letters, ignoring case), or "" when none is near enough to be a plausible
// typo: at most 1 edit for names of up to 4 letters, 2 up to 8, 3 beyond.
// Ties go to the earlier candidate. Failing that, the first candidate that
// name (of at least 4 letters) is the beginning of.
//
// It is local to the catalog until the parser's ClosestName lands on main.
func closestName(name string, candidates []string) string {
	n := strings.ToLower(name)
	limit := 3
	switch {
	case len(n) <= 4:
		limit = 1
	case len(n) <= 8:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(n, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && len(n) >= 4 {
		// A truncated name: checkpoint for checkpoint_interval.
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), n) {
				return c
			}
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// counted in bytes.
func editDistance(a, b string) int {
	// Three rows: two back (for transpositions), previous and current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
