package parser

import (
	"strings"
	"unicode/utf8"
)

// ClosestName returns the candidate closest to name by edit distance
// (insertions, deletions, substitutions and swaps of adjacent characters,
// ignoring case), for "did you mean" hints. It returns "" when no candidate
// is close: a candidate qualifies within one edit for names of up to five
// characters, two up to eight, three beyond. Ties go to the earlier
// candidate.
func ClosestName(name string, candidates []string) string {
	if name == "" {
		return ""
	}
	n := utf8.RuneCountInString(name)
	limit := 1
	switch {
	case n > 8:
		limit = 3
	case n > 5:
		limit = 2
	}
	best, bestD := "", limit+1
	lname := []rune(strings.ToLower(name))
	for _, c := range candidates {
		d := editDistance(lname, []rune(strings.ToLower(c)), bestD)
		if d < bestD {
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
