package parser

import (
	"strings"
)

// ClosestName returns the candidate closest to name by edit distance
// (insertions, deletions, substitutions and swaps of adjacent characters,
// ignoring case), for "did you mean" hints. It returns "" when no candidate
// is close: a candidate qualifies within a third of the longer of the two
// names' lengths in edits, and at least one (so amnt finds amount and id
// does not find ts). Ties go to the earlier candidate.
func ClosestName(name string, candidates []string) string {
	if name == "" {
		return ""
	}
	lname := []rune(strings.ToLower(name))
	best, bestD := "", -1
	for _, c := range candidates {
		lc := []rune(strings.ToLower(c))
		limit := max(1, max(len(lname), len(lc))/3)
		bound := limit + 1
		if bestD >= 0 && bestD < bound {
			bound = bestD
		}
		if d := editDistance(lname, lc, bound); d < bound {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b;
// it returns bound or more early when the distance reaches bound.
func editDistance(a, b []rune, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
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
			rowMin = min(rowMin, v)
		}
		if rowMin >= bound {
			return bound
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
